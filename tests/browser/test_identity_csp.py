"""The gym's identity and the CSP in a real browser: the back office (Django admin) and the API
docs run under the strict policy with no violation and no 'unsafe-inline'; the brand colour and
logo show on the staff app, the portal and the sign-in page; no page logs an unknown
Permissions-Policy feature. Screenshots go to docs/screenshots/after-identity-*.png.

Runs in the browser gym (charlie) and puts its identity back afterwards."""

from __future__ import annotations

import io
import os
import tempfile
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, transaction
from django_tenants.utils import tenant_context
from PIL import Image, ImageDraw

from apps.accounts.models import Role, User
from apps.crm.models import Client
from apps.crm.services import profile_ensure_for_role
from apps.tenants.models import DEFAULT_BRAND_COLOUR, Gym
from tests.conftest import BROWSER, PASSWORD, activate_totp, make_user, totp_code

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
# A test run writes no tracked file: FITNESSCRM_SCREENSHOTS=docs/screenshots refreshes the
# screenshots the docs show.
SCREENSHOTS = Path(os.environ.get("FITNESSCRM_SCREENSHOTS") or tempfile.gettempdir())
BRAND = "#7b1fa2"
BRAND_RGB = "rgb(123, 31, 162)"

# Collected before any page script runs (an init script is not subject to the page's CSP).
WATCH = """
window.__violations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__violations.push(
    `${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber} ${e.sample}`);
});
"""


def logo_png() -> bytes:
    image = Image.new("RGBA", (360, 120), (255, 255, 255, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((4, 4, 116, 116), radius=24, fill=(123, 31, 162, 255))
    draw.ellipse((34, 34, 86, 86), fill=(255, 255, 255, 255))
    draw.rectangle((130, 40, 350, 80), fill=(40, 40, 40, 255))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


class Watcher:
    def __init__(self, page: Any) -> None:
        self.page = page
        self.console: list[str] = []
        self.failed: list[str] = []
        page.add_init_script(WATCH)
        page.on(
            "console",
            lambda msg: (
                self.console.append(f"{page.url} {msg.text}")
                if msg.type in ("error", "warning")
                else None
            ),
        )
        page.on(
            "response",
            lambda response: (
                self.failed.append(f"{response.status} {response.url}")
                if response.status >= 400
                else None
            ),
        )

    def violations(self) -> list[str]:
        return [f"{self.page.url} {v}" for v in self.page.evaluate("window.__violations || []")]

    def visit(self, url: str) -> list[str]:
        self.page.goto(url)
        self.page.wait_for_load_state("networkidle")
        return self.violations()


def sign_in(page: Any, base: str, email: str, secret: str | None = None) -> None:
    page.goto(f"{base}/accounts/login/")
    page.locator('input[name="login"]').fill(email)
    page.locator('input[name="password"]').fill(PASSWORD)
    page.locator('form button[type="submit"]').first.click()
    page.wait_for_load_state("networkidle")
    if secret and "/2fa/" in page.url:
        page.locator('input[name="code"]').fill(totp_code(secret))
        page.locator('form button[type="submit"]').first.click()
        page.wait_for_load_state("networkidle")


@pytest.fixture
def charlie_identity(committed_db) -> Any:  # type: ignore[no-untyped-def]
    gym = Gym.objects.get(subdomain=BROWSER.subdomain)
    saved = {
        f: getattr(gym, f) for f in ("brand_colour", "logo_name", "icon_name", "brand_version")
    }
    yield gym
    Gym.objects.filter(pk=gym.pk).update(**saved)


def test_admin_and_api_docs_live_within_the_csp_and_the_brand_shows(  # type: ignore[no-untyped-def]
    django_db_setup, live_server_port, committed_db, charlie_identity, browser, page
):
    base = f"http://{BROWSER.host}:{live_server_port}"
    tag = uuid.uuid4().hex[:8]
    owner_email = f"identity-owner-{tag}@charlie.example"
    client_email = f"identity-client-{tag}@charlie.example"
    gym = charlie_identity
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    try:
        with tenant_context(gym), transaction.atomic():
            owner = make_user(Role.OWNER, owner_email, first_name="Olive", last_name="Owner")
            secret = activate_totp(owner)
            client = make_user(Role.CLIENT, client_email, first_name="Cleo", last_name="Client")
            profile_ensure_for_role(user=client)
        connection.set_schema_to_public()
        watch = Watcher(page)
        page.set_viewport_size(DESKTOP)
        sign_in(page, base, owner_email, secret)

        # The owner sets the identity through the settings page: logo and colour in one save.
        page.goto(f"{base}/settings/identity/")
        page.locator('input[name="logo"]').set_input_files(
            {"name": "logo.png", "mimeType": "image/png", "buffer": logo_png()}
        )
        page.locator('input[name="brand_colour"]').fill(BRAND)
        page.get_by_role("button", name="Save").click()
        page.get_by_text("Changes saved.").wait_for()
        page.get_by_test_id("identity-logo").wait_for()
        page.screenshot(path=str(SCREENSHOTS / "after-identity-settings-1280.png"), full_page=True)
        page.set_viewport_size(PHONE)
        page.screenshot(path=str(SCREENSHOTS / "after-identity-settings-390.png"), full_page=True)
        page.set_viewport_size(DESKTOP)

        # The staff app: the header shows the logo, buttons carry the brand colour.
        page.goto(f"{base}/settings/identity/")
        brand_logo = page.locator("header .brand-logo")
        assert brand_logo.is_visible()
        assert brand_logo.evaluate("img => img.naturalWidth") > 0
        button = page.locator("main .button").first
        assert button.evaluate("b => getComputedStyle(b).backgroundColor") == BRAND_RGB

        # The back office: every page under the CSP, gym-branded.
        violations = []
        admin_pages = [
            "/admin/",
            "/admin/accounts/user/",
            f"/admin/accounts/user/{owner.pk}/change/",
            "/admin/crm/client/",
            "/admin/crm/client/add/",
            "/admin/scheduling/classtype/",
            "/admin/scheduling/classtype/add/",
            "/admin/audit/auditevent/",
        ]
        for path in admin_pages:
            violations += watch.visit(f"{base}{path}")
        page.goto(f"{base}/admin/")
        header = page.get_by_test_id("admin-brand")
        assert gym.name in header.inner_text()
        # Readable: the gym's name is not drawn in the header's own colour.
        assert header.evaluate("a => getComputedStyle(a).color") == "rgb(255, 255, 255)"
        assert (
            page.locator("#header").evaluate("h => getComputedStyle(h).backgroundColor")
            == BRAND_RGB
        )
        assert "Django administration" not in page.content()
        assert page.title().endswith(gym.name)
        page.screenshot(path=str(SCREENSHOTS / "after-identity-admin-1280.png"), full_page=True)
        page.set_viewport_size(PHONE)
        page.goto(f"{base}/admin/")
        page.screenshot(path=str(SCREENSHOTS / "after-identity-admin-390.png"), full_page=True)
        page.set_viewport_size(DESKTOP)

        # The API docs, logo included.
        violations += watch.visit(f"{base}/api/v1/docs/")
        page.locator("redoc, #redoc, .redoc-wrap").first.wait_for(timeout=30_000)
        violations += watch.violations()
        assert violations == [], "\n".join(violations)

        # The sign-in page of a signed-out visitor shows the logo.
        context = browser.new_context(viewport=DESKTOP)
        visitor = context.new_page()
        visitor_watch = Watcher(visitor)
        assert visitor_watch.visit(f"{base}/accounts/login/") == []
        entrance = visitor.get_by_test_id("entrance-logo")
        assert entrance.is_visible()
        assert entrance.evaluate("img => img.naturalWidth") > 0
        submit = visitor.locator("main button[type=submit]").first
        assert submit.evaluate("b => getComputedStyle(b).backgroundColor") == BRAND_RGB
        visitor.screenshot(path=str(SCREENSHOTS / "after-identity-signin-1280.png"))
        visitor.set_viewport_size(PHONE)
        visitor.screenshot(path=str(SCREENSHOTS / "after-identity-signin-390.png"))

        # The portal: a client sees the gym's logo, colour and icon.
        visitor.set_viewport_size(DESKTOP)
        sign_in(visitor, base, client_email)
        visitor.goto(f"{base}/portal/")
        assert visitor.locator("header .brand-logo").is_visible()
        theme = visitor.locator('meta[name="theme-color"]').get_attribute("content")
        assert theme == BRAND
        icon = visitor.locator('link[rel="icon"]').first.get_attribute("href")
        assert icon.startswith("/brand/icon.png?v=")
        assert visitor_watch.violations() == []
        context.close()

        unknown = [m for m in watch.console + visitor_watch.console if "Permissions-Policy" in m]
        assert unknown == [], unknown
        csp_console = [m for m in watch.console if "Content Security Policy" in m]
        assert csp_console == [], "\n".join(csp_console)
        assert [f for f in watch.failed if "/favicon.ico" in f] == []
    finally:
        connection.set_schema_to_public()
        with tenant_context(gym):
            Client.objects.filter(user__email=client_email).delete()
            User.objects.filter(email__in=[owner_email, client_email]).delete()
        connection.set_schema_to_public()
        Gym.objects.filter(pk=gym.pk).update(brand_colour=DEFAULT_BRAND_COLOUR)
