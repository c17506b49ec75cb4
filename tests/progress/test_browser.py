"""A client on a phone: records a measurement in their units, sees it charted (Chart.js from
static/, under the strict CSP), uploads a photo and sees its thumbnail."""

from __future__ import annotations

import tempfile
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.db import connection, transaction
from django_tenants.utils import tenant_context
from playwright.sync_api import expect

from apps.accounts.models import Role, User
from apps.crm import services as crm_services
from apps.crm.models import Client
from apps.progress import services
from apps.tenants.models import Gym
from tests.conftest import BROWSER, PASSWORD, make_user
from tests.progress.conftest import jpeg_bytes

pytestmark = pytest.mark.browser

# Where a person (or CI) can look at the page as a phone shows it.
SCREENSHOT = Path(tempfile.gettempdir()) / "progress_phone.png"
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "has_touch": True}


def _remove(gym: Gym, email: str) -> None:
    connection.set_schema_to_public()
    with tenant_context(gym):
        # Deleting the client deletes their measurements and photos, and the photo files.
        Client.objects.filter(user__email=email).delete()
        User.objects.filter(email=email).delete()
    connection.set_schema_to_public()


def test_a_client_charts_their_progress_on_a_phone(
    live_server_port,
    committed_db,
    browser,
    tmp_path,
):
    gym = Gym.objects.get(subdomain=BROWSER.subdomain)
    email = f"progress-{uuid.uuid4().hex[:10]}@charlie.example"
    base = f"http://{BROWSER.host}:{live_server_port}"
    context = browser.new_context(**PHONE)
    problems: list[str] = []
    try:
        with tenant_context(gym), transaction.atomic():
            user = make_user(Role.CLIENT, email, first_name="Pat", unit_system="imperial")
            crm_services.profile_ensure_for_role(user=user)
            client = Client.objects.get(user=user)
            services.measurement_create(
                actor=user,
                client=client,
                weight_kg=90,
                measured_at=datetime(2026, 1, 1, 8, tzinfo=UTC),
            )
        connection.set_schema_to_public()

        page = context.new_page()
        page.set_default_timeout(15_000)
        page.on(
            "console",
            lambda message: (
                message.type == "error" and problems.append(f"{message.text} {message.location}")
            ),
        )
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.on(
            "response",
            lambda response: response.status >= 400 and problems.append(response.url),
        )
        page.goto(f"{base}/accounts/login/")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign In").click()
        page.wait_for_url(lambda url: "/accounts/login/" not in url)
        page.goto(f"{base}/portal/")
        # On a phone, Progress sits under the tab bar's "More".
        portal_nav = page.get_by_role("navigation", name="Portal")
        portal_nav.get_by_text("More").click()
        portal_nav.get_by_role("link", name="Progress").click()
        page.wait_for_url(f"{base}/portal/progress/")

        page.get_by_label("Weight (lb)").fill("195.5")
        page.get_by_label("Waist (in)").fill("34")
        page.get_by_role("button", name="Save measurement").click()
        expect(page.get_by_text("Measurement saved.")).to_be_visible()
        expect(page.get_by_test_id("measurement-row")).to_have_count(2)

        drawn = page.evaluate(
            "() => Array.from(document.querySelectorAll('canvas[data-chart]'))"
            ".map((canvas) => !!(window.Chart && window.Chart.getChart(canvas)))"
        )
        assert drawn
        assert all(drawn)

        photo = tmp_path / "front.jpg"
        photo.write_bytes(jpeg_bytes((300, 400)))
        page.get_by_label("Photo", exact=True).set_input_files(str(photo))
        page.get_by_role("button", name="Upload photo").click()
        expect(page.get_by_text("Photo saved.")).to_be_visible()
        thumbnail = page.get_by_test_id("progress-photo").locator("img")
        expect(thumbnail).to_have_count(1)
        thumbnail.scroll_into_view_if_needed()
        page.wait_for_function(
            "() => { const img = document.querySelector('[data-testid=progress-photo] img');"
            " return img && img.complete && img.naturalWidth > 0; }"
        )
        # Nothing is wider than the phone (the table scrolls inside its own box).
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["viewport"]["width"]
        page.screenshot(path=SCREENSHOT, full_page=True)
        with tenant_context(gym):
            stored = client.measurements.order_by("-measured_at").first()
            assert str(stored.weight_kg) == "88.677"  # 195.5 lb
        connection.set_schema_to_public()
        # The login page has no icon of its own; anything else failing (a CSP refusal, a
        # missing script) is a problem.
        # The live sockets under /ws/ cannot connect to this WSGI live server (tested through
        # the ASGI application elsewhere).
        assert [t for t in problems if "/favicon.ico" not in t and "/ws/" not in t] == []
    finally:
        context.close()
        _remove(gym, email)
