"""Every page the navigation offers, for every role, at desktop and phone widths: no console
error, no CSP violation, no 4xx or 5xx answer, no sideways scrolling, and no serious or critical
accessibility violation found by axe-core (WCAG 2.2 AA rules).

The pages are read from the navigation as rendered (the staff sidebar, the personal menu, the
portal's tab bar), so a page added to the navigation is checked without touching this test.
axe-core is vendored under tests/browser/vendor/axe-core/ and evaluated through the browser's
debugging protocol, which the page's CSP does not govern (a <script> tag would be refused)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import tenant_context
from playwright.sync_api import Browser, Page

from apps.accounts.models import Role, User
from apps.crm import services as crm_services
from apps.crm.models import Client, Lead, Trainer
from apps.scheduling.models import Appointment, ClassBooking, ClassOccurrence, ClassType
from apps.tenants.models import Gym
from tests.conftest import BROWSER, PASSWORD, make_user

pytestmark = pytest.mark.browser

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
WIDTHS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
ROLES = (Role.OWNER, Role.MANAGER, Role.FRONT_DESK, Role.TRAINER, Role.CLIENT)
# Links of the navigation (the sidebar on a desktop, the menu on a phone), the personal menu and
# the portal's tab bar. Log out is a form, not a link.
NAV_LINKS = {
    "desktop": ".sidenav a[href], .usermenu-panel a[href], .portal-nav a[href]",
    "phone": ".navmenu-panel a[href], .usermenu-panel a[href], .portal-nav a[href]",
}
# Chromium reports CSP violations to this listener as well as on the console.
CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || "inline"}`);
});
"""


# The page's width against the window's, and the deepest elements sticking out on the right, so
# a failure names what to fix.
OVERFLOW = """() => {
  const width = document.scrollingElement.scrollWidth;
  if (width <= window.innerWidth) return "";
  const sticksOut = (e) => e.getBoundingClientRect().right > window.innerWidth + 1;
  const name = (e) => `${e.tagName.toLowerCase()}.${[...e.classList].join(".")}`;
  const out = [...document.body.querySelectorAll("*")]
    .filter((e) => sticksOut(e) && ![...e.children].some(sticksOut))
    .slice(0, 3)
    .map((e) => `${name(e)} "${e.textContent.trim().slice(0, 40)}"`);
  return `${width}px wide in ${window.innerWidth}px: ${out.join("; ")}`;
}"""


@dataclass(frozen=True)
class Gymful:
    """Users of every role in gym "charlie", and a day with something on it: a class starting
    soon with a booking, a 1:1 session, a new lead."""

    base: str
    emails: dict[str, str]
    tag: str


@pytest.fixture
def gymful(live_server_port, committed_db) -> Iterator[Gymful]:  # type: ignore[no-untyped-def]
    gym = Gym.objects.get(subdomain=BROWSER.subdomain)
    tag = uuid.uuid4().hex[:8]
    emails = {role: f"every-{role}-{tag}@charlie.example" for role in ROLES}
    zone = ZoneInfo(gym.time_zone)
    now = timezone.now()
    local_day = timezone.localdate(now, timezone=zone)
    # Soon, but today in the gym's zone, so Today shows it.
    starts_at = min(now + timedelta(minutes=30), datetime.combine(local_day, time(23, 0), zone))
    try:
        with tenant_context(gym), transaction.atomic():
            users = {}
            for role in ROLES:
                users[role] = make_user(
                    role, emails[role], first_name=role.replace("_", " ").title(), last_name=tag
                )
                crm_services.profile_ensure_for_role(user=users[role])
            trainer = Trainer.objects.get(user=users[Role.TRAINER])
            client = Client.objects.get(user=users[Role.CLIENT])
            crm_services.assignment_create(
                actor=users[Role.OWNER], client=client, trainer=trainer, is_primary=True
            )
            class_type = ClassType.objects.create(name=f"Spin {tag}", default_capacity=12)
            occurrence = ClassOccurrence.objects.create(
                class_type=class_type,
                trainer=trainer,
                starts_at=starts_at,
                ends_at=starts_at + timedelta(minutes=45),
                capacity=12,
            )
            ClassBooking.objects.create(occurrence=occurrence, client=client, status="booked")
            Appointment.objects.create(
                trainer=trainer,
                client=client,
                starts_at=starts_at + timedelta(minutes=50),
                ends_at=starts_at + timedelta(minutes=100),
            )
            Lead.objects.create(first_name="Lena", last_name=tag, email=f"lena-{tag}@example.com")
        connection.set_schema_to_public()
        yield Gymful(base=f"http://{BROWSER.host}:{live_server_port}", emails=emails, tag=tag)
    finally:
        connection.set_schema_to_public()
        with tenant_context(gym):
            Appointment.objects.filter(client__last_name=tag).delete()
            ClassBooking.objects.filter(occurrence__class_type__name=f"Spin {tag}").delete()
            ClassOccurrence.objects.filter(class_type__name=f"Spin {tag}").delete()
            ClassType.objects.filter(name=f"Spin {tag}").delete()
            Lead.objects.filter(last_name=tag).delete()
            Client.objects.filter(last_name=tag).delete()
            for trainer in Trainer.objects.filter(user__email__in=emails.values()):
                trainer.assignments.all().delete()
                trainer.delete()
            User.objects.filter(email__in=emails.values()).delete()
        connection.set_schema_to_public()


@dataclass
class Problems:
    """What went wrong on the page being checked, collected rather than stopping at the first."""

    found: list[str] = field(default_factory=list)
    page: str = ""

    def add(self, text: str) -> None:
        self.found.append(f"{self.page}: {text}")


# The live server here speaks HTTP only (WSGI): the pages' sockets under /ws/ (the bell, live
# messages) cannot connect and the browser logs that. Sockets are tested through the ASGI
# application (tests/notifications/test_consumer.py, tests/messaging_realtime/).
_NO_SOCKETS_HERE = re.compile(r"WebSocket connection to '[^']*/ws/[^']*' failed")


def _watch(page: Page, problems: Problems, origin: str) -> None:
    page.add_init_script(CSP_LISTENER)
    page.on(
        "console",
        lambda message: (
            problems.add(f"console {message.type}: {message.text}")
            if message.type == "error" and not _NO_SOCKETS_HERE.search(message.text)
            else None
        ),
    )
    page.on("pageerror", lambda error: problems.add(f"script error: {error}"))

    def on_response(response):  # type: ignore[no-untyped-def]
        if response.status >= 400 and response.url.startswith(origin):
            problems.add(f"{response.status} for {urlsplit(response.url).path}")

    page.on("response", on_response)


def _log_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.locator('input[name="login"]').fill(email)
    page.locator('input[name="password"]').fill(PASSWORD)
    page.locator('form button[type="submit"]').first.click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def _nav_paths(page: Page, origin: str, width_name: str) -> list[str]:
    hrefs = page.eval_on_selector_all(NAV_LINKS[width_name], "links => links.map(a => a.href)")
    paths: list[str] = []
    for href in hrefs:
        if href.startswith(origin) and urlsplit(href).path not in paths:
            paths.append(urlsplit(href).path)
    return paths


def _check_page(page: Page, problems: Problems, axe_source: str) -> None:
    page.wait_for_load_state("networkidle")
    for violation in page.evaluate("window.__cspViolations || []"):
        problems.add(f"CSP violation: {violation}")
    overflow = page.evaluate(OVERFLOW)
    if overflow:
        problems.add(f"scrolls sideways: {overflow}")
    page.evaluate(axe_source)
    result = page.evaluate(
        """async (tags) => {
            const r = await axe.run(document, {runOnly: {type: "tag", values: tags}});
            return r.violations
              .filter(v => v.impact === "serious" || v.impact === "critical")
              .map(v => `${v.impact} ${v.id}: ${v.help} (${v.nodes.slice(0, 3)
                .map(n => n.target.join(" ")).join("; ")})`);
        }""",
        AXE_TAGS,
    )
    for violation in result:
        problems.add(f"axe {violation}")


@pytest.mark.parametrize("role", ROLES)
def test_every_page_the_navigation_offers_is_clean(
    browser: Browser, gymful: Gymful, role: str
) -> None:
    axe_source = AXE.read_text()
    problems = Problems()
    visited: dict[str, list[str]] = {}
    for width_name, viewport in WIDTHS.items():
        context = browser.new_context(viewport=viewport, has_touch=width_name == "phone")
        page = context.new_page()
        page.set_default_timeout(20_000)
        try:
            problems.page = f"[{role} {width_name}] sign-in"
            _watch(page, problems, gymful.base)
            _log_in(page, gymful.base, gymful.emails[role])
            paths = _nav_paths(page, gymful.base, width_name)
            visited[width_name] = paths
            assert paths, f"{role} sees no navigation at {width_name}"
            for path in paths:
                problems.page = f"[{role} {width_name}] {path}"
                page.goto(f"{gymful.base}{path}")
                _check_page(page, problems, axe_source)
        finally:
            context.close()
    # The phone's menu offers what the desktop's sidebar does.
    assert sorted(visited["desktop"]) == sorted(visited["phone"])
    assert not problems.found, "\n".join(problems.found)
