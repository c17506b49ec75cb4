"""Booking a class end to end: a client books it on their phone in the portal and sees it in
their schedule; the front desk sees the booking on the staff calendar and, when the class is
about to start, checks the client in with one tap.

Built to grow: `ScheduledClass` holds everything the story made (and removes it afterwards),
and each step is a function taking a page, so later steps (the front desk checking the client
in, say) add one function and one call."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import tenant_context
from playwright.sync_api import Page, expect

from apps.accounts.models import Role, User
from apps.crm import services as crm_services
from apps.crm.models import Client, Trainer
from apps.scheduling.appointments.services import appointment_book
from apps.scheduling.models import (
    Appointment,
    Availability,
    ClassBooking,
    ClassOccurrence,
    ClassType,
)
from apps.tenants.models import Gym
from tests.conftest import BROWSER, PASSWORD, make_user

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "has_touch": True}
# Fixed paths, so a person can look at the pages after a run.
PORTAL_SCREENSHOT = "/tmp/schedule_portal_phone.png"  # noqa: S108
CALENDAR_SCREENSHOT = "/tmp/schedule_calendar_week.png"  # noqa: S108
MOVED_SCREENSHOT = "/tmp/schedule_calendar_moved.png"  # noqa: S108
ROSTER_SEARCH_SCREENSHOT = "/tmp/schedule_roster_search.png"  # noqa: S108
ROSTER_PHONE_SCREENSHOT = "/tmp/schedule_roster_phone.png"  # noqa: S108


@dataclass(frozen=True)
class ScheduledClass:
    """A class in gym "charlie" (two days from now at 10:00 local time, or starting soon), a
    client with a portal login and a front-desk user."""

    base: str
    gym: Gym
    occurrence_id: int
    class_name: str
    local_day: date
    local_time: str
    capacity: int
    client_email: str
    client_name: str
    desk_email: str


def _schedule_class(live_server_port: int, starts_at: datetime | None) -> Iterator[ScheduledClass]:
    gym = Gym.objects.get(subdomain=BROWSER.subdomain)
    tag = uuid.uuid4().hex[:8]
    client_email = f"schedule-client-{tag}@charlie.example"
    desk_email = f"schedule-desk-{tag}@charlie.example"
    class_name = f"Spin {tag}"
    zone = ZoneInfo(gym.time_zone)
    if starts_at is None:
        local_day = timezone.localdate(timezone=zone) + timedelta(days=2)
        starts_at = datetime.combine(local_day, time(10), tzinfo=zone)
    local_start = starts_at.astimezone(zone)
    try:
        with tenant_context(gym), transaction.atomic():
            user = make_user(Role.CLIENT, client_email, first_name="Sam", last_name=tag)
            crm_services.profile_ensure_for_role(user=user)
            make_user(Role.FRONT_DESK, desk_email)
            class_type = ClassType.objects.create(
                name=class_name, default_capacity=8, booking_closes_minutes=0
            )
            occurrence = ClassOccurrence.objects.create(
                class_type=class_type,
                starts_at=starts_at,
                ends_at=starts_at + timedelta(minutes=45),
                capacity=8,
            )
        connection.set_schema_to_public()
        yield ScheduledClass(
            base=f"http://{BROWSER.host}:{live_server_port}",
            gym=gym,
            occurrence_id=occurrence.pk,
            class_name=class_name,
            local_day=local_start.date(),
            local_time=local_start.strftime("%H:%M"),
            capacity=8,
            client_email=client_email,
            client_name=f"Sam {tag}",
            desk_email=desk_email,
        )
    finally:
        connection.set_schema_to_public()
        with tenant_context(gym):
            ClassBooking.objects.filter(occurrence__class_type__name=class_name).delete()
            ClassOccurrence.objects.filter(class_type__name=class_name).delete()
            ClassType.objects.filter(name=class_name).delete()
            Client.objects.filter(user__email=client_email).delete()
            User.objects.filter(email__in=[client_email, desk_email]).delete()
        connection.set_schema_to_public()


@pytest.fixture
def scheduled_class(live_server_port, committed_db) -> Iterator[ScheduledClass]:  # type: ignore[no-untyped-def]
    yield from _schedule_class(live_server_port, None)


@pytest.fixture
def class_starting_soon(live_server_port, committed_db) -> Iterator[ScheduledClass]:  # type: ignore[no-untyped-def]
    """A class starting in 30 minutes (or at 23:59 when that is sooner, so it stays today in the
    gym's time zone): bookable still, and on today's check-in list."""
    gym = Gym.objects.get(subdomain=BROWSER.subdomain)
    zone = ZoneInfo(gym.time_zone)
    soon = (timezone.now() + timedelta(minutes=30)).replace(second=0, microsecond=0)
    last_minute = datetime.combine(timezone.localdate(timezone=zone), time(23, 59), tzinfo=zone)
    starts_at = min(soon, last_minute)
    yield from _schedule_class(live_server_port, starts_at)


def log_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.locator('input[name="login"]').fill(email)
    page.locator('input[name="password"]').fill(PASSWORD)
    page.locator('form button[type="submit"]').first.click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def client_books_the_class(page: Page, story: ScheduledClass) -> None:
    """In the portal: open Schedule from the navigation, book the class (HTMX), and find it
    under "My classes"."""
    log_in(page, story.base, story.client_email)
    if "/portal/" not in page.url:
        page.goto(f"{story.base}/portal/")
    page.get_by_role("navigation", name="Portal").get_by_role("link", name="Schedule").click()
    page.wait_for_url(f"{story.base}/portal/schedule/")
    open_class = page.locator(
        f'[data-testid="open-class"][data-occurrence="{story.occurrence_id}"]'
    )
    expect(open_class).to_contain_text(story.class_name)
    expect(open_class).to_contain_text(f"{story.capacity} spots left")
    open_class.get_by_role("button", name="Book").click()

    expect(page.get_by_test_id("schedule-notice")).to_contain_text(
        f"You are booked for {story.class_name}"
    )
    mine = page.locator(f'[data-testid="my-booking"][data-occurrence="{story.occurrence_id}"]')
    expect(mine).to_contain_text(story.class_name)
    expect(mine).to_contain_text(story.local_time)
    expect(mine.get_by_test_id("booking-status")).to_have_text("Booked")
    # Still there after a reload: it was saved, not only swapped in.
    page.reload()
    expect(mine).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["viewport"]["width"]
    page.screenshot(path=PORTAL_SCREENSHOT, full_page=True)


def desk_sees_the_booking_on_the_calendar(page: Page, story: ScheduledClass) -> None:
    """On the staff calendar: the Calendar link, then the week of the class (HTMX navigation
    when it is next week), the class at 10:00 with one of its places booked."""
    log_in(page, story.base, story.desk_email)
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Calendar", exact=True
    ).click()
    page.wait_for_url(f"{story.base}/schedule/calendar/*")
    monday = story.local_day - timedelta(days=story.local_day.weekday())
    if (
        page.get_by_test_id("calendar-grid")
        .locator(f'.cal-cell[data-date="{story.local_day.isoformat()}"]')
        .count()
        == 0
    ):
        page.get_by_test_id("calendar-next").click()
        page.wait_for_url(lambda url: f"date={monday.isoformat()}" in url)
    event = (
        page.get_by_test_id("calendar-grid")
        .locator(f'[data-testid="calendar-event"][data-date="{story.local_day.isoformat()}"]')
        .filter(has_text=story.class_name)
    )
    expect(event).to_have_attribute("data-time", "10:00")
    expect(event).to_be_visible()
    expect(event.get_by_test_id("class-count")).to_have_text(f"1/{story.capacity} booked")
    page.screenshot(path=CALENDAR_SCREENSHOT, full_page=True)


def test_a_client_books_a_class_and_the_desk_sees_it(browser, scheduled_class) -> None:  # type: ignore[no-untyped-def]
    phone = browser.new_context(**PHONE)
    desk = browser.new_context()
    try:
        page = phone.new_page()
        page.set_default_timeout(15_000)
        client_books_the_class(page, scheduled_class)

        with tenant_context(scheduled_class.gym):
            booking = ClassBooking.objects.get(occurrence_id=scheduled_class.occurrence_id)
            assert booking.status == "booked"
            assert booking.client.user.email == scheduled_class.client_email
        connection.set_schema_to_public()

        desk_page = desk.new_page()
        desk_page.set_default_timeout(15_000)
        desk_sees_the_booking_on_the_calendar(desk_page, scheduled_class)
    finally:
        phone.close()
        desk.close()


def desk_checks_the_client_in(page: Page, story: ScheduledClass) -> None:
    """On the check-in page: find the client by name (HTMX live search), one tap on "Check in",
    and the row says so."""
    log_in(page, story.base, story.desk_email)
    page.get_by_role("link", name="Check-in", exact=True).click()
    page.wait_for_url(f"{story.base}/schedule/checkin/*")
    page.get_by_label("Find a client").fill(story.client_name)
    row = page.get_by_test_id("checkin-row").filter(has_text=story.class_name)
    expect(row).to_contain_text(story.client_name)
    expect(page.get_by_test_id("checkin-row")).to_have_count(1)
    row.get_by_role("button", name="Check in").click()
    expect(row).to_contain_text("Checked in")


def _collect_script_errors(errors: list[str], msg) -> None:  # type: ignore[no-untyped-def]
    """Errors of the pages' own scripts and CSP refusals (not the browser's favicon 404, nor
    the live sockets under /ws/, which this WSGI live server cannot serve)."""
    if msg.type == "error" and "Failed to load resource" not in msg.text and "/ws/" not in msg.text:
        errors.append(msg.text)


def test_the_desk_checks_in_a_client_who_booked_in_the_portal(  # type: ignore[no-untyped-def]
    browser, class_starting_soon
) -> None:
    phone = browser.new_context(**PHONE)
    desk = browser.new_context()
    errors: list[str] = []
    try:
        page = phone.new_page()
        page.set_default_timeout(15_000)
        page.on("console", lambda msg: _collect_script_errors(errors, msg))
        client_books_the_class(page, class_starting_soon)

        desk_page = desk.new_page()
        desk_page.set_default_timeout(15_000)
        desk_page.on("console", lambda msg: _collect_script_errors(errors, msg))
        desk_checks_the_client_in(desk_page, class_starting_soon)
    finally:
        phone.close()
        desk.close()
    assert errors == []
    with tenant_context(class_starting_soon.gym):
        booking = ClassBooking.objects.get(occurrence_id=class_starting_soon.occurrence_id)
        assert booking.status == "attended"
        assert booking.checked_in_at is not None
    connection.set_schema_to_public()


@pytest.fixture
def booked_session(scheduled_class: ScheduledClass) -> Iterator[int]:
    """A trainer who works 06:00-22:00 every day, with a 1:1 session with the story's client
    at 12:00 on the class's day; yields the appointment's id."""
    story = scheduled_class
    trainer_email = f"schedule-trainer-{story.class_name.split()[-1]}@charlie.example"
    zone = ZoneInfo(story.gym.time_zone)
    starts_at = datetime.combine(story.local_day, time(12), tzinfo=zone)
    try:
        with tenant_context(story.gym), transaction.atomic():
            owner = User.objects.get(email=BROWSER.owner_email)
            make_user(Role.TRAINER, trainer_email, first_name="Tess", last_name="Trainer")
            trainer = crm_services.trainer_create(actor=owner, email=trainer_email)
            for weekday in range(7):
                Availability.objects.create(
                    trainer=trainer, weekday=weekday, start_time=time(6), end_time=time(22)
                )
            client = Client.objects.get(user__email=story.client_email)
            appointment = appointment_book(
                actor=owner,
                trainer=trainer,
                client=client,
                starts_at=starts_at,
                ends_at=starts_at + timedelta(hours=1),
            )
        connection.set_schema_to_public()
        yield appointment.pk
    finally:
        connection.set_schema_to_public()
        with tenant_context(story.gym):
            Appointment.objects.filter(trainer__user__email=trainer_email).delete()
            Trainer.objects.filter(user__email=trainer_email).delete()
            User.objects.filter(email=trainer_email).delete()
        connection.set_schema_to_public()


def desk_drags_the_session_to(page: Page, story: ScheduledClass, at: str) -> None:
    """Drag the session onto another half-hour slot of the same day; the calendar comes back
    (HTMX) with the outcome on top."""
    page.goto(f"{story.base}/schedule/calendar/?view=day&date={story.local_day.isoformat()}")
    session = page.locator('[data-testid="calendar-event"][data-kind="appointment"]').filter(
        has_text=story.client_name
    )
    expect(session).to_contain_text("12:00")
    target = page.locator(f'.cal-cell[data-date="{story.local_day.isoformat()}"][data-time="{at}"]')
    # Both ends on screen first: the drag itself does not scroll the page.
    target.scroll_into_view_if_needed()
    session.drag_to(target)
    expect(page.get_by_test_id("calendar-notice")).to_contain_text(f"Moved {story.client_name}")
    moved = page.get_by_test_id("calendar-grid").locator(
        f'[data-testid="calendar-event"][data-time="{at}"]'
    )
    expect(moved).to_contain_text(story.client_name)
    page.screenshot(path=MOVED_SCREENSHOT, full_page=True)


def test_the_desk_moves_a_session_by_drag_and_drop(  # type: ignore[no-untyped-def]
    browser, scheduled_class, booked_session
) -> None:
    context = browser.new_context()
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        log_in(page, scheduled_class.base, scheduled_class.desk_email)
        desk_drags_the_session_to(page, scheduled_class, "15:30")
        with tenant_context(scheduled_class.gym):
            appointment = Appointment.objects.get(pk=booked_session)
            local = appointment.starts_at.astimezone(ZoneInfo(scheduled_class.gym.time_zone))
            assert (local.date(), local.time()) == (scheduled_class.local_day, time(15, 30))
            assert appointment.ends_at - appointment.starts_at == timedelta(hours=1)
        connection.set_schema_to_public()
    finally:
        context.close()


def desk_books_the_client_from_the_roster(page: Page, story: ScheduledClass) -> None:
    """On the class's roster: find the client (HTMX search as you type), tap their name, and
    the roster lists them; nothing wider than the window."""
    page.goto(f"{story.base}/schedule/classes/{story.occurrence_id}/")
    book = page.get_by_test_id("roster-book")
    book.get_by_label("Find a client").fill(story.client_name)
    client = book.get_by_test_id("roster-book-client").filter(has_text=story.client_name)
    expect(client).to_have_count(1)
    page.screenshot(path=ROSTER_SEARCH_SCREENSHOT, full_page=True)
    client.click()
    page.wait_for_url(f"{story.base}/schedule/classes/{story.occurrence_id}/")
    expect(page.get_by_text(f"{story.client_name} is booked.")).to_be_visible()
    expect(page.get_by_test_id("roster")).to_contain_text(story.client_name)
    expect(page.get_by_test_id("roster-booked")).to_have_text(f"1/{story.capacity}")
    width = page.viewport_size["width"] if page.viewport_size else 1280
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def desk_cancels_the_booking_from_the_roster(page: Page, story: ScheduledClass) -> None:
    page.goto(f"{story.base}/schedule/classes/{story.occurrence_id}/")
    row = page.get_by_test_id("roster-row").filter(has_text=story.client_name)
    expect(row.get_by_role("button", name="Cancel booking")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["viewport"]["width"]
    page.screenshot(path=ROSTER_PHONE_SCREENSHOT, full_page=True)
    row.get_by_role("button", name="Cancel booking").click()
    expect(page.get_by_text("booking is cancelled.")).to_be_visible()
    expect(page.get_by_test_id("roster")).not_to_contain_text(story.client_name)


def test_the_desk_books_and_cancels_a_client_on_the_roster(  # type: ignore[no-untyped-def]
    browser, scheduled_class
) -> None:
    """At 1280 px the desk books the client from the roster; on a 390 px phone the row and its
    cancel button fit, and cancelling empties the roster. No script or CSP errors."""
    desktop = browser.new_context(viewport={"width": 1280, "height": 900})
    phone = browser.new_context(**PHONE)
    errors: list[str] = []
    try:
        page = desktop.new_page()
        page.set_default_timeout(15_000)
        page.on("console", lambda msg: _collect_script_errors(errors, msg))
        log_in(page, scheduled_class.base, scheduled_class.desk_email)
        desk_books_the_client_from_the_roster(page, scheduled_class)

        phone_page = phone.new_page()
        phone_page.set_default_timeout(15_000)
        phone_page.on("console", lambda msg: _collect_script_errors(errors, msg))
        log_in(phone_page, scheduled_class.base, scheduled_class.desk_email)
        desk_cancels_the_booking_from_the_roster(phone_page, scheduled_class)
    finally:
        desktop.close()
        phone.close()
    assert errors == []
    with tenant_context(scheduled_class.gym):
        booking = ClassBooking.objects.get(occurrence_id=scheduled_class.occurrence_id)
        assert booking.status == "cancelled"
    connection.set_schema_to_public()
