"""Every list page and the calendar fit a phone: an owner visits them at 390 and 1280 px wide
with a realistic week of data (long emails, many tags, overlapping sessions and classes) and
no page scrolls sideways. Screenshots of the calendar and the client list at both widths are
left under /tmp for a person to look at."""

from __future__ import annotations

import uuid
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from apps.accounts.models import Role, User
from apps.audit.models import AuditEvent
from apps.crm.models import Assignment, Client, Lead, Trainer
from apps.scheduling.appointments.services import appointment_book
from apps.scheduling.models import Appointment, ClassOccurrence, ClassType, Location, Room
from apps.tenants.models import Gym
from tests.conftest import BROWSER, make_user

from .test_crm import log_in

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
PAGES = [
    "/clients/",
    "/clients/?sort=-joined",
    "/leads/?status=all",
    "/trainers/",
    "/accounts/team/",
    "/accounts/invitations/",
    "/accounts/lockouts/",
    "/accounts/sessions/",
    "/audit/",
    "/training/exercises/",
    "/training/plans/",
    "/clients/import/",
    "/schedule/checkin/",
    "/schedule/calendar/",
    "/schedule/calendar/?view=day",
    "/schedule/calendar/?view=trainers",
    "/schedule/calendar/?view=rooms",
]
SCREENSHOTS = "/tmp/tables-{name}-{width}.png"  # noqa: S108
# What the page is wider than its viewport because of, to name it when the test fails.
WIDEST = """() => {
  const width = document.documentElement.clientWidth;
  return [...document.querySelectorAll('body *')]
    .filter(el => el.getBoundingClientRect().right > width + 1)
    .filter(el => !el.closest('.cal-scroll, .visually-hidden'))
    .slice(0, 5)
    .map(el => `${el.tagName}.${el.className} ${Math.round(el.getBoundingClientRect().right)}`);
}"""

FIRST = ["Amelia", "Benjamin", "Chloé", "Daniel", "Evelyn", "Farhan", "Grace", "Hugo"]
LAST = ["Okonkwo-Fitzgerald", "Smith", "van der Berg", "Nakamura", "O'Brien", "Johansson"]


def build_week(gym: Gym, tag: str) -> dict[str, object]:
    """A gym's week: three trainers, a dozen clients (some with long emails and many tags),
    sessions that overlap, classes, leads and audit events."""
    zone = ZoneInfo(gym.time_zone)
    owner = make_user(Role.OWNER, f"tables-owner-{tag}@charlie.example", first_name="Olivia")
    trainers = []
    for first, last in (("Tess", "Trainer"), ("Marco", "Rossi"), ("Priya", "Sharma")):
        user = make_user(
            Role.TRAINER,
            f"tables-{first.lower()}-{tag}@charlie.example",
            first_name=first,
            last_name=last,
        )
        trainers.append(Trainer.objects.create(user=user))
    location = Location.objects.create(name=f"Main {tag}")
    rooms = [Room.objects.create(location=location, name=name) for name in ("Studio", "Floor")]
    clients = []
    for n in range(12):
        clients.append(
            Client.objects.create(
                first_name=FIRST[n % len(FIRST)],
                last_name=f"{LAST[n % len(LAST)]} {tag}",
                email=f"{FIRST[n % len(FIRST)].lower()}.a.very.long.address.{n}.{tag}@example.com",
                phone=f"+4477009001{n:02d}",
                status=("active", "trial", "paused", "active")[n % 4],
                tags=["vip", "morning", "hyrox", "referral"][: 1 + n % 4],
            )
        )
        Assignment.objects.create(client=clients[-1], trainer=trainers[n % 3], is_primary=True)
    today = datetime.now(zone).date()
    monday = today - timedelta(days=today.weekday())
    for day in range(6):
        for n, (hour, minute, length) in enumerate(
            ((7, 0, 60), (9, 30, 45), (12, 0, 60), (17, 30, 30))
        ):
            start = datetime.combine(monday + timedelta(days=day), time(hour, minute), zone)
            appointment_book(
                actor=owner,
                trainer=trainers[(day + n) % 3],
                client=clients[(day * 4 + n) % 12],
                starts_at=start,
                ends_at=start + timedelta(minutes=length),
                room=rooms[n % 2] if n % 3 else None,
                override_availability=True,
            )
        for name, hour in (("HIIT", 9), ("Yoga flow", 18)):
            start = datetime.combine(monday + timedelta(days=day), time(hour), zone)
            class_type, _ = ClassType.objects.get_or_create(name=f"{name} {tag}")
            ClassOccurrence.objects.create(
                class_type=class_type,
                trainer=trainers[(day + 1) % 3],
                room=rooms[0],
                starts_at=start,
                ends_at=start + timedelta(minutes=60 if name == "HIIT" else 75),
                capacity=12,
            )
    for n in range(4):
        Lead.objects.create(
            first_name=FIRST[n],
            last_name=f"Lead {tag}",
            email=f"lead.with.a.rather.long.email.{n}.{tag}@example.com",
            phone="+447700900555",
            message="Interested in personal training twice a week " * 3,
        )
    return {"owner": owner, "clients": clients, "trainers": trainers, "location": location}


def clean_up(gym: Gym, tag: str, data: dict[str, object]) -> None:
    with tenant_context(gym):
        Appointment.objects.filter(client__last_name__endswith=tag).delete()
        ClassOccurrence.objects.filter(class_type__name__endswith=tag).delete()
        ClassType.objects.filter(name__endswith=tag).delete()
        Client.objects.filter(last_name__endswith=tag).delete()
        Lead.objects.filter(last_name__endswith=tag).delete()
        Room.objects.filter(location__name__endswith=tag).delete()
        Location.objects.filter(name__endswith=tag).delete()
        Trainer.objects.filter(user__email__contains=tag).delete()
        User.objects.filter(email__contains=tag).delete()
    connection.set_schema_to_public()


def test_no_list_page_scrolls_sideways_on_a_phone_or_a_desktop(
    django_db_setup, live_server_port, committed_db, browser
):  # type: ignore[no-untyped-def]
    base = f"http://{BROWSER.host}:{live_server_port}"
    tag = uuid.uuid4().hex[:6]
    gym = Gym.objects.get(subdomain=BROWSER.subdomain)
    with tenant_context(gym):
        data = build_week(gym, tag)
        assert AuditEvent.objects.exists()
    connection.set_schema_to_public()
    owner: User = data["owner"]  # type: ignore[assignment]
    context = browser.new_context(viewport=DESKTOP)
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        log_in(page, base, owner.email)
        overflowing = {}
        for viewport in (PHONE, DESKTOP):
            page.set_viewport_size(viewport)
            for path in PAGES:
                response = page.goto(f"{base}{path}")
                assert response is not None
                assert response.status < 400, (path, response.status)
                slug = path.strip("/").replace("/", "-").replace("?", "-") or "home"
                page.screenshot(
                    path=SCREENSHOTS.format(name=f"page-{slug}", width=viewport["width"])
                )
                width = page.evaluate("document.documentElement.scrollWidth")
                if width > viewport["width"]:
                    overflowing[(path, viewport["width"])] = (width, page.evaluate(WIDEST))
            for name, path in (
                ("calendar", "/schedule/calendar/"),
                ("calendar-trainers", "/schedule/calendar/?view=trainers"),
                ("clients", "/clients/"),
                ("audit", "/audit/"),
                ("leads", "/leads/?status=all"),
            ):
                page.goto(f"{base}{path}")
                page.screenshot(
                    path=SCREENSHOTS.format(name=name, width=viewport["width"]), full_page=True
                )
        assert overflowing == {}
        # Bulk action: tick every client of one search, tag them, confirm, read the message.
        page.set_viewport_size(DESKTOP)
        page.goto(f"{base}/clients/?search=Smith+{tag}")
        page.get_by_test_id("client-pick-all").check()
        assert page.get_by_test_id("client-pick").count() == 2
        page.get_by_text("Bulk actions").click()
        page.get_by_label("With the selected clients").select_option("tag")
        page.locator("#bulk-tag").fill("spring-offer")
        page.get_by_role("button", name="Apply…").click()
        assert (
            "Add the tag “spring-offer” to 2 clients?"
            in page.get_by_test_id("bulk-summary").inner_text()
        )
        page.get_by_test_id("bulk-confirm").get_by_role("button", name="Apply").click()
        page.get_by_text("2 of 2 clients changed.").wait_for()
        # On a phone the calendar is an agenda, not a grid.
        page.set_viewport_size(PHONE)
        page.goto(f"{base}/schedule/calendar/")
        assert page.get_by_test_id("calendar-agenda").is_visible()
        assert not page.get_by_test_id("calendar-grid").is_visible()
    finally:
        context.close()
        clean_up(gym, tag, data)
