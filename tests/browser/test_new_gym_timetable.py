"""A new gym's first timetable, end to end: the owner signs up, follows the set-up checklist on
Today to the classes, adds a class type and builds "Spin every Monday and Wednesday at 18:00"
with the timetable builder; a client books the first class in the portal on their phone; the
owner sees the booking on Today and on the class's roster.

Today lists today's classes, and the first class of a Monday/Wednesday timetable is today only
on a Monday: so once the gym exists, the server's clock (django.utils.timezone.now, which the
app reads everywhere) runs as on the coming Monday at 09:00 in the gym's time zone, ticking on
from there. The browser's clock is left alone (no page script reads the date).

With FITNESSCRM_SCREENSHOTS set to a folder, the class list, the builder and the roster are
saved there at 1280 and 390 px wide (docs/screenshots/after-classes-*.png).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import tenant_context
from playwright.sync_api import Page, expect

from apps.accounts.models import Role
from apps.crm import services as crm_services
from apps.scheduling.models import ClassBooking, ClassOccurrence, ClassSeries
from apps.tenants.models import Gym
from tests.browser.test_schedule import PHONE, log_in
from tests.conftest import PASSWORD, make_user

pytestmark = pytest.mark.browser

SUBDOMAIN = "timetable-gym"
OWNER_EMAIL = "owner@timetable.example"
CLIENT_EMAIL = "cleo@timetable.example"
DESKTOP = {"width": 1280, "height": 900}
SCREENSHOTS = os.environ.get("FITNESSCRM_SCREENSHOTS", "")


def _collect_errors(errors: list[str], msg) -> None:  # type: ignore[no-untyped-def]
    """Errors of the pages' own scripts and CSP refusals (not the browser's favicon 404, nor the
    live sockets under /ws/, which this WSGI live server cannot serve)."""
    if msg.type == "error" and "Failed to load resource" not in msg.text and "/ws/" not in msg.text:
        errors.append(msg.text)


@pytest.fixture
def new_gym_base(live_server_port, committed_db) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """The address of the gym the test signs up; the gym (its schema too) is dropped after."""
    yield f"http://{SUBDOMAIN}.localhost:{live_server_port}"
    connection.set_schema_to_public()
    gym = Gym.objects.filter(subdomain=SUBDOMAIN).first()
    if gym is not None:
        gym.delete(force_drop=True)
    connection.set_schema_to_public()


def run_clock_from_next_monday(monkeypatch: pytest.MonkeyPatch, zone: ZoneInfo) -> datetime:
    """Make the app's clock run from the coming Monday at 09:00 in `zone` (today, when it is a
    Monday before 09:00 or already a Monday morning); returns that local moment."""
    real_now = timezone.now
    local = real_now().astimezone(zone)
    monday = local.date() + timedelta(days=(7 - local.weekday()) % 7)
    if monday == local.date() and local.time() >= time(16):
        monday += timedelta(days=7)
    target = datetime.combine(monday, time(9), tzinfo=zone)
    offset = max(target - real_now(), timedelta(0))
    monkeypatch.setattr(timezone, "now", lambda: real_now() + offset)
    return timezone.now().astimezone(zone)


def shoot(page: Page, name: str) -> None:
    """Save the page at desktop and phone width when screenshots were asked for."""
    if not SCREENSHOTS:
        return
    folder = Path(SCREENSHOTS)
    folder.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    for width, height in ((1280, 900), (390, 844)):
        # Resized, not reloaded: a filled form stays filled.
        page.set_viewport_size({"width": width, "height": height})
        assert page.evaluate("document.documentElement.scrollWidth") <= width, name
        page.screenshot(path=str(folder / f"after-classes-{name}-{width}.png"), full_page=True)
    if size:
        page.set_viewport_size(size)


def owner_signs_up(page: Page, base: str) -> None:
    root = base.replace(f"{SUBDOMAIN}.", "")
    page.goto(f"{root}/signup/")
    page.get_by_label("Gym name").fill("Timetable Gym")
    page.get_by_label("Web address").fill(SUBDOMAIN)
    page.get_by_label("Your email").fill(OWNER_EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create gym").click()
    page.wait_for_url(f"{base}/")


def owner_follows_the_checklist_to_the_classes(page: Page, base: str) -> None:
    """Today's set-up checklist has a "Class timetable" step, not done yet; its link opens the
    class pages. (Without a checklist on Today the class list is opened directly.)"""
    page.goto(f"{base}/")
    checklist = page.get_by_test_id("setup-checklist")
    if checklist.count():
        step = checklist.locator('[data-step="timetable"]')
        expect(step).to_contain_text("Class timetable")
        expect(step.get_by_role("link", name="Set up")).to_be_visible()
        step.get_by_role("link", name="Set up").click()
    else:
        page.goto(f"{base}/schedule/classes/")
    page.wait_for_url(f"{base}/schedule/classes/")
    expect(page.get_by_test_id("no-classes")).to_be_visible()


def owner_builds_the_timetable(page: Page, base: str) -> None:
    """From the empty class list to the builder, which first asks for a class type; then Spin
    on Monday and Wednesday at 18:00, 45 minutes, 12 places, from today."""
    page.get_by_test_id("add-timetable").click()
    page.wait_for_url(f"{base}/schedule/classes/timetable/new/")
    expect(page.get_by_test_id("no-class-types")).to_be_visible()
    page.get_by_test_id("no-class-types").get_by_role("link", name="Add a class type").click()
    page.wait_for_url(f"{base}/schedule/classes/types/new/")
    form = page.get_by_test_id("class-type-form")
    form.get_by_label("Name").fill("Spin")
    form.get_by_label("Default capacity").fill("12")
    form.get_by_label("Duration (minutes)").fill("45")
    form.get_by_role("button", name="Save").click()
    page.wait_for_url(f"{base}/schedule/classes/types/")
    row = page.get_by_test_id("class-type-row").filter(has_text="Spin")
    row.get_by_role("link", name="Add to the timetable").click()

    builder = page.get_by_test_id("timetable-form")
    expect(builder.locator("#id_class_type option:checked")).to_have_text("Spin")
    expect(builder.get_by_label("Capacity")).to_have_value("12")
    expect(builder.get_by_label("Duration (minutes)")).to_have_value("45")
    assert builder.locator('[name="rrule"]').count() == 0  # the rule is never typed
    builder.get_by_label("Monday").check()
    builder.get_by_label("Wednesday").check()
    builder.get_by_label("Start time").fill("18:00")
    shoot(page, "builder")
    builder.get_by_role("button", name="Save the timetable").click()
    page.wait_for_load_state()
    assert page.locator(".errors").all_inner_texts() == []
    page.wait_for_url(f"{base}/schedule/classes/?date=*")
    expect(page.locator(".messages")).to_contain_text("Timetable saved")
    rows = page.get_by_test_id("class-row")
    expect(rows.first).to_contain_text("18:00")
    expect(rows.first).to_contain_text("Spin")
    expect(rows.first.get_by_test_id("class-booked")).to_have_text("0/12 booked")
    expect(page.get_by_test_id("timetable-row")).to_contain_text("Mon, Wed")


def client_books_the_first_class(page: Page, base: str, occurrence_id: int) -> None:
    log_in(page, base, CLIENT_EMAIL)
    page.goto(f"{base}/portal/schedule/")
    open_class = page.locator(f'[data-testid="open-class"][data-occurrence="{occurrence_id}"]')
    expect(open_class).to_contain_text("Spin")
    expect(open_class).to_contain_text("18:00")
    open_class.get_by_role("button", name="Book").click()
    expect(page.get_by_test_id("schedule-notice")).to_contain_text("You are booked for Spin")
    mine = page.locator(f'[data-testid="my-booking"][data-occurrence="{occurrence_id}"]')
    expect(mine.get_by_test_id("booking-status")).to_have_text("Booked")


def owner_sees_the_booking_on_today(page: Page, base: str) -> None:
    page.goto(f"{base}/")
    classes = page.get_by_test_id("today-classes")
    expect(classes).to_contain_text("Spin")
    expect(classes).to_contain_text("18:00")
    expect(classes).to_contain_text("1/12 booked")
    checklist = page.get_by_test_id("setup-checklist")
    if checklist.count():
        expect(checklist.locator('[data-step="timetable"]')).to_contain_text("Review")


def owner_opens_the_roster(page: Page, base: str, occurrence_id: int) -> None:
    page.goto(f"{base}/schedule/classes/")
    shoot(page, "list")
    page.locator(f'[data-testid="class-row"][data-occurrence="{occurrence_id}"] a').click()
    page.wait_for_url(f"{base}/schedule/classes/{occurrence_id}/")
    expect(page.get_by_test_id("roster-booked")).to_have_text("1/12")
    expect(page.get_by_test_id("roster")).to_contain_text("Cleo Client")
    expect(page.get_by_test_id("check-in-opens")).to_contain_text("17:00")
    shoot(page, "roster")


def test_a_new_gym_builds_its_timetable_and_a_client_books_it(  # type: ignore[no-untyped-def]
    browser, new_gym_base, monkeypatch
) -> None:
    base = new_gym_base
    errors: list[str] = []
    owner_context = browser.new_context(viewport=DESKTOP)
    phone = browser.new_context(**PHONE)
    try:
        owner = owner_context.new_page()
        owner.set_default_timeout(20_000)
        owner.on("console", lambda msg: _collect_errors(errors, msg))
        owner_signs_up(owner, base)

        gym = Gym.objects.get(subdomain=SUBDOMAIN)
        zone = ZoneInfo(gym.time_zone)
        monday = run_clock_from_next_monday(monkeypatch, zone)
        with tenant_context(gym), transaction.atomic():
            user = make_user(Role.CLIENT, CLIENT_EMAIL, first_name="Cleo", last_name="Client")
            crm_services.profile_ensure_for_role(user=user)
        connection.set_schema_to_public()

        owner_follows_the_checklist_to_the_classes(owner, base)
        owner_builds_the_timetable(owner, base)
        with tenant_context(gym):
            series = ClassSeries.objects.get()
            assert series.rrule == "FREQ=WEEKLY;BYDAY=MO,WE"
            first = series.occurrences.order_by("starts_at").first()
            assert first is not None
            assert first.starts_at.astimezone(zone) == datetime.combine(
                monday.date(), time(18), tzinfo=zone
            )
        connection.set_schema_to_public()

        client = phone.new_page()
        client.set_default_timeout(20_000)
        client.on("console", lambda msg: _collect_errors(errors, msg))
        client_books_the_first_class(client, base, first.pk)

        owner_sees_the_booking_on_today(owner, base)
        owner_opens_the_roster(owner, base, first.pk)
    finally:
        owner_context.close()
        phone.close()
        connection.set_schema_to_public()
    assert errors == []
    with tenant_context(gym):
        booking = ClassBooking.objects.get(occurrence_id=first.pk)
        assert booking.status == "booked"
        assert booking.client.user.email == CLIENT_EMAIL
        assert ClassOccurrence.objects.filter(series=series).count() >= 16
    connection.set_schema_to_public()
