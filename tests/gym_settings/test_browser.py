"""The opening hours page in a real browser: HTMX adds and removes ranges in place under the
strict CSP, and the page fits a phone. Runs in the browser gym (charlie) and cleans up."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from apps.accounts.models import Role, User
from apps.scheduling.models import Location
from apps.tenants.models import Gym, OpeningHours
from tests.conftest import BROWSER, PASSWORD, make_user

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
SCREENSHOT = "/tmp/gym_settings_hours_phone.png"  # noqa: S108


def test_manager_sets_opening_hours_and_a_room(  # type: ignore[no-untyped-def]
    django_db_setup,
    live_server_port,
    committed_db,
    browser,
    page,
):
    base = f"http://{BROWSER.host}:{live_server_port}"
    tag = uuid.uuid4().hex[:8]
    email = f"browser-settings-{tag}@charlie.example"
    location_name = f"Site {tag}"
    gym = Gym.objects.get(subdomain=BROWSER.subdomain)
    try:
        with tenant_context(gym):
            make_user(Role.MANAGER, email)
        connection.set_schema_to_public()
        errors: list[str] = []
        page.on(
            "console",
            lambda msg: (
                errors.append(f"{page.url} {msg.location} {msg.text}")
                if msg.type == "error"
                else None
            ),
        )

        page.goto(f"{base}/accounts/login/")
        page.locator('input[name="login"]').fill(email)
        page.locator('input[name="password"]').fill(PASSWORD)
        page.locator('form button[type="submit"]').first.click()
        page.wait_for_url(f"{base}/")
        page.get_by_role("link", name="Gym settings").click()
        page.get_by_role("link", name="Edit opening hours").click()

        # The whole week in one form and one save.
        form = page.get_by_test_id("week-form")
        tuesday = form.get_by_test_id("week-day-1")
        tuesday.get_by_role("checkbox", name="Open").check()
        tuesday.get_by_label("Tuesday opens at").fill("06:30")
        tuesday.get_by_label("Tuesday closes at").fill("21:00")
        saturday = form.get_by_test_id("week-day-5")
        saturday.get_by_role("checkbox", name="Open").check()
        saturday.get_by_label("Saturday opens at").fill("08:00")
        saturday.get_by_label("Saturday closes at").fill("12:00")
        saturday.get_by_label("Saturday opens again at").fill("14:00")
        saturday.get_by_label("Saturday closes again at").fill("18:00")
        form.get_by_role("button", name="Save the week").click()
        page.wait_for_function(
            "() => document.querySelectorAll('#gym-hours').length === 1 && "
            "!document.querySelector('.htmx-request')"
        )
        page.wait_for_timeout(300)
        hours = [
            (h.weekday, h.opens_at.strftime("%H:%M"), h.closes_at.strftime("%H:%M"))
            for h in OpeningHours.objects.filter(gym=gym).order_by("weekday", "opens_at")
        ]
        assert hours == [
            (1, "06:30", "21:00"),
            (5, "08:00", "12:00"),
            (5, "14:00", "18:00"),
        ]

        # Ranges that overlap: the error shows on that day, in place, and nothing changes.
        saturday = page.get_by_test_id("week-form").get_by_test_id("week-day-5")
        saturday.get_by_label("Saturday opens again at").fill("11:00")
        page.get_by_test_id("week-form").get_by_role("button", name="Save the week").click()
        page.get_by_test_id("week-day-5").get_by_text(
            "These hours overlap hours of the same day."
        ).wait_for()
        assert OpeningHours.objects.filter(gym=gym).count() == 3

        # A location and a room, through the ordinary forms.
        page.get_by_role("link", name="Locations and rooms").first.click()
        page.get_by_role("link", name="Add location").click()
        page.get_by_label("Name").fill(location_name)
        page.get_by_role("button", name="Save").click()
        page.wait_for_url(f"{base}/settings/locations/")
        section = page.get_by_test_id("location").filter(has_text=location_name)
        section.get_by_role("link", name="Add room").click()
        page.get_by_label("Name").fill("Studio")
        page.get_by_label("Capacity").fill("14")
        page.get_by_role("button", name="Save").click()
        page.wait_for_url(f"{base}/settings/locations/")
        section = page.get_by_test_id("location").filter(has_text=location_name)
        assert "Studio" in section.inner_text()
        assert not [e for e in errors if "Content Security Policy" in e]

        # The hours page on a phone: checked by eye (after the checks: a screenshot leaves
        # style attributes behind that htmx would later copy, which the CSP reports).
        page.goto(f"{base}/settings/hours/")
        page.set_viewport_size(PHONE)
        page.screenshot(path=SCREENSHOT, full_page=True)
    finally:
        OpeningHours.objects.filter(gym=gym).delete()
        with tenant_context(gym):
            Location.objects.filter(name=location_name).delete()
            User.objects.filter(email=email).delete()
        connection.set_schema_to_public()
