"""Today in a browser: the owner's day with classes, sessions and leads, checking the next
client in with one click; a new gym's owner sees the set-up checklist; a trainer sees their own
day. Each page is photographed at 1280 and 390 px (fixed paths under /tmp, so a person can look
at them after a run)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import tenant_context
from playwright.sync_api import Browser, Page, expect

from apps.accounts.models import Role, User
from apps.crm import services as crm_services
from apps.crm.models import Client, Lead, LeadStatus, Trainer
from apps.scheduling.models import (
    Appointment,
    ClassBooking,
    ClassBookingStatus,
    ClassOccurrence,
    ClassType,
)
from apps.tenants.models import Gym
from apps.tenants.services import gym_create
from tests.conftest import BROWSER, PASSWORD, make_user

pytestmark = pytest.mark.browser

WIDTHS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
SCREENSHOT = "/tmp/today-{name}-{width}.png"  # noqa: S108


@dataclass(frozen=True)
class BusyDay:
    base: str
    owner_email: str
    trainer_email: str
    due_name: str


def _today_at(now: datetime, zone: ZoneInfo, delta: timedelta) -> datetime:
    """now + delta, kept inside the gym's day (Today shows only today)."""
    day = timezone.localdate(now, timezone=zone)
    first = datetime.combine(day, time(0, 5), zone)
    last = datetime.combine(day, time(23, 0), zone)
    return min(max(now + delta, first), last)


@pytest.fixture
def busy_day(live_server_port, committed_db) -> Iterator[BusyDay]:  # type: ignore[no-untyped-def]
    gym = Gym.objects.get(subdomain=BROWSER.subdomain)
    tag = uuid.uuid4().hex[:6]
    zone = ZoneInfo(gym.time_zone)
    now = timezone.now()
    owner_email = f"today-owner-{tag}@charlie.example"
    trainer_email = f"today-trainer-{tag}@charlie.example"
    names = ["Maya Lopez", "Jon Park", "Ava Brooks", "Leo Grant", "Zoe Hall", "Sam Ortiz"]
    try:
        with tenant_context(gym), transaction.atomic():
            owner = make_user(Role.OWNER, owner_email, first_name="Olivia", last_name=tag)
            trainer_user = make_user(Role.TRAINER, trainer_email, first_name="Tara", last_name=tag)
            crm_services.profile_ensure_for_role(user=trainer_user)
            trainer = Trainer.objects.get(user=trainer_user)
            clients = [
                crm_services.client_create(
                    actor=owner,
                    first_name=name.split()[0],
                    last_name=f"{name.split()[1]} {tag}",
                    email=f"{name.split()[0].lower()}-{tag}@example.com",
                )
                for name in names
            ]
            for client in clients[:3]:
                crm_services.assignment_create(actor=owner, client=client, trainer=trainer)
            plan = [
                ("Morning HIIT", timedelta(hours=-2), 3, True),
                ("Spin", timedelta(minutes=25), 5, False),
                ("Yoga flow", timedelta(hours=4), 2, False),
            ]
            for name, delta, booked, attended in plan:
                class_type = ClassType.objects.create(name=f"{name} {tag}", default_capacity=12)
                starts_at = _today_at(now, zone, delta)
                occurrence = ClassOccurrence.objects.create(
                    class_type=class_type,
                    trainer=trainer,
                    starts_at=starts_at,
                    ends_at=starts_at + timedelta(minutes=45),
                    capacity=12,
                )
                for client in clients[:booked]:
                    ClassBooking.objects.create(
                        occurrence=occurrence,
                        client=client,
                        status=ClassBookingStatus.ATTENDED if attended else "booked",
                        checked_in_at=starts_at if attended else None,
                    )
            for index, delta in enumerate((timedelta(minutes=10), timedelta(hours=6))):
                starts_at = _today_at(now, zone, delta)
                Appointment.objects.create(
                    trainer=trainer,
                    client=clients[3 + index],
                    starts_at=starts_at,
                    ends_at=starts_at + timedelta(minutes=50),
                )
            Lead.objects.create(
                first_name="Nina", last_name=tag, phone="+442079460000", message="Trial class?"
            )
            Lead.objects.create(first_name="Omar", last_name=tag, email=f"omar-{tag}@example.com")
            old = Lead.objects.create(
                first_name="Priya",
                last_name=tag,
                email=f"priya-{tag}@example.com",
                status=LeadStatus.CONTACTED,
            )
            Lead.objects.filter(pk=old.pk).update(created_at=now - timedelta(days=4))
        connection.set_schema_to_public()
        yield BusyDay(
            base=f"http://{BROWSER.host}:{live_server_port}",
            owner_email=owner_email,
            trainer_email=trainer_email,
            due_name=f"Leo Grant {tag}",
        )
    finally:
        connection.set_schema_to_public()
        with tenant_context(gym):
            Appointment.objects.filter(client__last_name__endswith=tag).delete()
            ClassBooking.objects.filter(client__last_name__endswith=tag).delete()
            ClassOccurrence.objects.filter(class_type__name__endswith=tag).delete()
            ClassType.objects.filter(name__endswith=tag).delete()
            Lead.objects.filter(last_name=tag).delete()
            Client.objects.filter(last_name__endswith=tag).delete()
            Trainer.objects.filter(user__email=trainer_email).delete()
            User.objects.filter(email__in=[owner_email, trainer_email]).delete()
        connection.set_schema_to_public()


def _log_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.locator('input[name="login"]').fill(email)
    page.locator('input[name="password"]').fill(PASSWORD)
    page.locator('form button[type="submit"]').first.click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def _photograph(browser: Browser, base: str, email: str, name: str) -> None:
    for width, viewport in WIDTHS.items():
        context = browser.new_context(viewport=viewport, device_scale_factor=1)
        page = context.new_page()
        try:
            _log_in(page, base, email)
            page.goto(f"{base}/")
            page.screenshot(path=SCREENSHOT.format(name=name, width=width), full_page=True)
        finally:
            context.close()


def test_the_owner_checks_the_next_client_in_from_today(
    browser: Browser, busy_day: BusyDay
) -> None:
    _photograph(browser, busy_day.base, busy_day.owner_email, "owner")
    context = browser.new_context(viewport=WIDTHS["desktop"])
    page = context.new_page()
    try:
        _log_in(page, busy_day.base, busy_day.owner_email)
        # Someone is due (Leo, unless another test left an earlier booking in this gym).
        expect(
            page.get_by_test_id("next-due").get_by_role("button", name="Check in")
        ).to_be_visible()
        leo = page.get_by_test_id("today-sessions").locator("li", has_text=busy_day.due_name)
        leo.get_by_role("button", name="Check in").click()
        # The section comes back without the page reloading: Leo is checked in.
        leo = page.get_by_test_id("today-sessions").locator("li", has_text=busy_day.due_name)
        expect(leo).to_contain_text("Checked in")
        expect(page.get_by_test_id("next-due")).not_to_contain_text(busy_day.due_name)
        leads = page.get_by_test_id("new-leads")
        expect(leads).to_contain_text("Nina")
        leads.locator("li", has_text="Nina").get_by_role("button", name="Contacted").click()
        expect(page.get_by_test_id("new-leads")).not_to_contain_text("Nina")
    finally:
        context.close()


def test_a_trainer_sees_their_own_day(browser: Browser, busy_day: BusyDay) -> None:
    _photograph(browser, busy_day.base, busy_day.trainer_email, "trainer")
    context = browser.new_context(viewport=WIDTHS["desktop"])
    page = context.new_page()
    try:
        _log_in(page, busy_day.base, busy_day.trainer_email)
        expect(page.get_by_test_id("today-classes")).to_contain_text("Spin")
        expect(page.get_by_test_id("my-clients")).to_contain_text("Maya")
        expect(page.get_by_test_id("new-leads")).to_have_count(0)
    finally:
        context.close()


def test_a_new_gym_sees_its_set_up_checklist(
    browser: Browser,
    live_server_port,
    committed_db,  # type: ignore[no-untyped-def]
) -> None:
    subdomain = f"fresh-{uuid.uuid4().hex[:6]}"
    email = f"owner@{subdomain}.example"
    try:
        gym_create(
            name="Fresh Start Fitness",
            subdomain=subdomain,
            owner_email=email,
            owner_password=PASSWORD,
        )
        connection.set_schema_to_public()
        base = f"http://{subdomain}.localhost:{live_server_port}"
        _photograph(browser, base, email, "new-gym")
        context = browser.new_context(viewport=WIDTHS["phone"])
        page = context.new_page()
        try:
            _log_in(page, base, email)
            checklist = page.get_by_test_id("setup-checklist")
            expect(checklist).to_contain_text("0 of 8 done")
            checklist.locator("li", has_text="Opening hours").get_by_role("link").click()
            page.wait_for_url(lambda url: "/settings/" in url)
        finally:
            context.close()
    finally:
        connection.set_schema_to_public()
        gym = Gym.objects.filter(subdomain=subdomain).first()
        if gym is not None:
            gym.delete(force_drop=True)


def test_the_phone_menu_and_the_personal_menu_open_without_a_script_of_ours(
    browser: Browser, busy_day: BusyDay
) -> None:
    context = browser.new_context(viewport=WIDTHS["phone"], has_touch=True)
    page = context.new_page()
    try:
        _log_in(page, busy_day.base, busy_day.owner_email)
        menu = page.locator(".navmenu-panel")
        expect(menu).to_be_hidden()
        expect(page.locator(".sidenav")).to_be_hidden()
        page.locator(".navmenu-toggle").click()
        expect(menu).to_be_visible()
        expect(menu.get_by_role("link", name="Today")).to_have_attribute("aria-current", "page")
        page.screenshot(path=SCREENSHOT.format(name="menu", width="phone"))
        menu.get_by_role("link", name="Clients").click()
        page.wait_for_url(lambda url: url.endswith("/clients/"))
        page.locator(".usermenu-toggle").click()
        expect(page.get_by_role("button", name="Log out")).to_be_visible()
        page.screenshot(path=SCREENSHOT.format(name="account-menu", width="phone"))
    finally:
        context.close()
