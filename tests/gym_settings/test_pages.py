"""The gym settings pages: who may open them, what bad input shows, and flat query counts."""

from __future__ import annotations

from datetime import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from apps.audit.models import AuditEvent
from apps.scheduling.models import Availability, Location, Room
from apps.tenants.models import Gym, OpeningHours
from tests.crm.conftest import CrmGym
from tests.gym_settings.conftest import HTMX

pytestmark = pytest.mark.django_db

DASH = "\u2013"  # between the times of a range

MANAGEMENT_PAGES = [
    "/settings/",
    "/settings/profile/",
    "/settings/hours/",
    "/settings/locations/",
    "/settings/locations/new/",
    "/settings/availability/",
]


@pytest.fixture
def main_location(crm_a: CrmGym) -> Location:
    with tenant_context(crm_a.gym):
        location = Location.objects.create(name="Main", address="1 High Street")
        Room.objects.create(location=location, name="Studio", capacity=12)
        return location


def _pages_with_ids(crm: CrmGym, location: Location) -> list[str]:
    with tenant_context(crm.gym):
        room = Room.objects.get(location=location)
    return [
        *MANAGEMENT_PAGES,
        f"/settings/locations/{location.pk}/edit/",
        f"/settings/locations/{location.pk}/rooms/new/",
        f"/settings/rooms/{room.pk}/edit/",
        f"/settings/availability/{crm.tina.pk}/",
    ]


@pytest.mark.parametrize("role", ["owner", "manager"])
def test_management_opens_every_page(crm_a, main_location, browser_as, role):
    browser = browser_as(role)
    for url in _pages_with_ids(crm_a, main_location):
        response = browser.get(url)
        assert response.status_code == 200, url


@pytest.mark.parametrize("role", ["desk", "cara"])
def test_front_desk_and_clients_are_refused(crm_a, main_location, browser_as, role):
    browser = browser_as(role)
    for url in _pages_with_ids(crm_a, main_location):
        assert browser.get(url).status_code == 403, url
    assert browser.post("/settings/locations/new/", {"name": "Annex"}).status_code == 403
    with tenant_context(crm_a.gym):
        assert not Location.objects.filter(name="Annex").exists()


def test_trainers_get_only_their_own_availability(crm_a, main_location, browser_as):
    browser = browser_as("tina")
    for url in _pages_with_ids(crm_a, main_location):
        expected = 200 if url == f"/settings/availability/{crm_a.tina.pk}/" else 403
        if url == "/settings/availability/":
            response = browser.get(url)
            assert response.status_code == 302
            assert response["Location"] == f"/settings/availability/{crm_a.tina.pk}/"
            continue
        assert browser.get(url).status_code == expected, url
    # Another trainer's week does not exist for Tina.
    assert browser.get(f"/settings/availability/{crm_a.tom.pk}/").status_code == 404
    response = browser.post(
        f"/settings/availability/{crm_a.tom.pk}/windows/",
        {"window-weekday": "0", "window-start_time": "09:00", "window-end_time": "12:00"},
    )
    assert response.status_code == 404
    with tenant_context(crm_a.gym):
        assert not Availability.objects.filter(trainer=crm_a.tom).exists()


def test_anonymous_visitors_go_to_the_login_page(crm_a):
    from tests.conftest import GymClient

    response = GymClient(crm_a.gym.subdomain).get("/settings/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


# --- Profile --------------------------------------------------------------------------------


def test_profile_change_of_time_zone_shows_everywhere(crm_a, browser_as):
    browser = browser_as("manager")
    response = browser.post(
        "/settings/profile/", {"name": "Alpha Fitness Club", "time_zone": "America/New_York"}
    )
    assert response.status_code == 302
    gym = Gym.objects.get(pk=crm_a.gym.pk)
    assert (gym.name, gym.time_zone) == ("Alpha Fitness Club", "America/New_York")
    body = browser.get("/settings/").content.decode()
    assert "America/New_York" in body
    assert "Alpha Fitness Club" in body
    assert "America/New_York" in browser.get("/settings/hours/").content.decode()
    with tenant_context(crm_a.gym):
        event = AuditEvent.objects.get(action="gym.updated")
        assert event.changes["time_zone"] == {"before": "UTC", "after": "America/New_York"}
        assert event.actor_email == crm_a.manager.email


def test_profile_bad_input_shows_field_errors(crm_a, browser_as):
    browser = browser_as("owner")
    response = browser.post("/settings/profile/", {"name": "", "time_zone": "Mars/Olympus_Mons"})
    assert response.status_code == 200
    form = response.context["form"]
    assert set(form.errors) == {"name", "time_zone"}
    assert 'id="id_time_zone-error"' in response.content.decode()
    assert Gym.objects.get(pk=crm_a.gym.pk).time_zone == "UTC"


# --- Opening hours --------------------------------------------------------------------------


def _add_hours(browser, weekday: str, opens: str, closes: str, **headers):  # type: ignore[no-untyped-def]
    return browser.post(
        "/settings/hours/add/",
        {"hours-weekday": weekday, "hours-opens_at": opens, "hours-closes_at": closes},
        **headers,
    )


def test_opening_hours_added_and_removed(crm_a, browser_as):
    browser = browser_as("manager")
    assert _add_hours(browser, "0", "06:00", "12:00").status_code == 302
    response = _add_hours(browser, "0", "12:00", "22:00", **HTMX)  # touching is fine
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="gym-hours"' in body
    assert "<html" not in body
    # The week form shows Monday's two ranges.
    for value in ("06:00", "12:00", "22:00"):
        assert f'value="{value}"' in body
    hours = list(OpeningHours.objects.filter(gym=crm_a.gym).order_by("opens_at"))
    assert [(h.opens_at, h.closes_at) for h in hours] == [(time(6), time(12)), (time(12), time(22))]

    response = browser.post(f"/settings/hours/{hours[0].pk}/delete/", **HTMX)
    assert response.status_code == 200
    assert 'value="06:00"' not in response.content.decode()
    assert OpeningHours.objects.filter(gym=crm_a.gym).count() == 1


def test_opening_hours_must_end_after_start_and_not_overlap(crm_a, browser_as):
    browser = browser_as("owner")
    response = _add_hours(browser, "2", "18:00", "09:00")
    assert response.status_code == 200
    assert "closes_at" in response.context["hours_form"].errors
    _add_hours(browser, "2", "09:00", "17:00")
    response = _add_hours(browser, "2", "16:00", "20:00", **HTMX)
    assert response.status_code == 200
    assert response.context["hours_form"].errors["opens_at"] == [
        "These hours overlap hours of the same day."
    ]
    response = _add_hours(browser, "9", "", "20:00")
    assert {"weekday", "opens_at"} <= set(response.context["hours_form"].errors)
    assert OpeningHours.objects.filter(gym=crm_a.gym).count() == 1


def test_special_days(crm_a, browser_as):
    browser = browser_as("owner")
    response = browser.post(
        "/settings/hours/special/",
        {"special-date": "2099-12-25", "special-name": "Christmas"},
        **HTMX,
    )
    assert response.status_code == 200
    assert "Christmas" in response.content.decode()
    response = browser.post(
        "/settings/hours/special/",
        {"special-date": "2099-12-31", "special-opens_at": "10:00"},
    )
    assert "closes_at" in response.context["special_form"].errors
    response = browser.post(
        "/settings/hours/special/",
        {"special-date": "2099-12-31", "special-opens_at": "10:00", "special-closes_at": "14:00"},
    )
    assert response.status_code == 302
    body = browser.get("/settings/hours/").content.decode()
    assert "Christmas" in body
    assert f"10:00{DASH}14:00" in body
    day = crm_a.gym.special_days.get(date="2099-12-25")
    browser.post(f"/settings/hours/special/{day.pk}/delete/")
    assert not crm_a.gym.special_days.filter(date="2099-12-25").exists()


# --- Locations and rooms --------------------------------------------------------------------


def test_locations_and_rooms_created_edited_and_deleted(crm_a, browser_as):
    browser = browser_as("manager")
    response = browser.post("/settings/locations/new/", {"name": "Main", "address": "1 High St"})
    assert response.status_code == 302
    with tenant_context(crm_a.gym):
        location = Location.objects.get(name="Main")
    response = browser.post("/settings/locations/new/", {"name": "main"})
    assert response.context["form"].errors["name"] == ["A location with this name already exists."]

    url = f"/settings/locations/{location.pk}/rooms/new/"
    assert browser.post(url, {"name": "Studio", "capacity": "15"}).status_code == 302
    response = browser.post(url, {"name": "Studio", "capacity": "0"})
    assert set(response.context["form"].errors) == {"capacity"}
    response = browser.post(url, {"name": "studio", "capacity": "3"})
    assert "name" in response.context["form"].errors
    with tenant_context(crm_a.gym):
        room = Room.objects.get(name="Studio")
    assert room.capacity == 15

    response = browser.post(
        f"/settings/rooms/{room.pk}/edit/", {"name": "Big studio", "capacity": "20"}
    )
    assert response.status_code == 302
    response = browser.post(f"/settings/locations/{location.pk}/edit/", {"name": "", "address": ""})
    assert "name" in response.context["form"].errors
    browser.post(f"/settings/locations/{location.pk}/edit/", {"name": "Centre", "address": ""})
    body = browser.get("/settings/locations/").content.decode()
    assert "Centre" in body
    assert "Big studio" in body
    assert "20" in body

    response = browser.post(f"/settings/rooms/{room.pk}/delete/", **HTMX)
    assert response.status_code == 200
    assert "Big studio" not in response.content.decode()
    browser.post(f"/settings/locations/{location.pk}/delete/")
    with tenant_context(crm_a.gym):
        assert not Location.objects.exists()
        actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {
        "location.created",
        "location.updated",
        "location.deleted",
        "room.created",
        "room.updated",
        "room.deleted",
    } <= actions


def test_a_room_in_use_is_not_deleted(crm_a, main_location, browser_as):
    from datetime import timedelta

    from django.utils import timezone

    from apps.scheduling.models import Appointment

    with tenant_context(crm_a.gym):
        room = Room.objects.get(location=main_location)
        start = timezone.now() + timedelta(days=2)
        Appointment.objects.create(
            trainer=crm_a.tina,
            client=crm_a.ann,
            room=room,
            starts_at=start,
            ends_at=start + timedelta(hours=1),
        )
    browser = browser_as("owner")
    response = browser.post(f"/settings/rooms/{room.pk}/delete/", **HTMX)
    assert response.status_code == 200
    assert "move them to another room first" in response.content.decode()
    response = browser.post(f"/settings/locations/{main_location.pk}/delete/", follow=True)
    assert "move them first" in response.content.decode()
    with tenant_context(crm_a.gym):
        assert Room.objects.filter(pk=room.pk).exists()


# --- Availability ---------------------------------------------------------------------------


def test_manager_edits_a_trainers_week_and_exceptions(crm_a, browser_as):
    gym = crm_a.gym
    gym.time_zone = "Europe/London"
    gym.save(update_fields=["time_zone"])
    browser = browser_as("manager")
    url = f"/settings/availability/{crm_a.tom.pk}/"
    data = {"window-weekday": "1", "window-start_time": "09:00", "window-end_time": "13:00"}
    assert browser.post(url + "windows/", data).status_code == 302
    response = browser.post(
        url + "windows/",
        {"window-weekday": "1", "window-start_time": "12:00", "window-end_time": "15:00"},
        **HTMX,
    )
    assert "start_time" in response.context["window_form"].errors
    response = browser.post(
        url + "windows/",
        {"window-weekday": "1", "window-start_time": "15:00", "window-end_time": "14:00"},
    )
    assert "end_time" in response.context["window_form"].errors

    # Typed on the gym's wall clock: 10:00 in London in July is 09:00 UTC.
    response = browser.post(
        url + "exceptions/",
        {
            "exception-kind": "time_off",
            "exception-starts_at": "2099-07-01T10:00",
            "exception-ends_at": "2099-07-01T12:00",
        },
        **HTMX,
    )
    assert response.status_code == 200
    assert not response.context["exception_form"].errors
    assert "10:00" in response.content.decode()
    with tenant_context(gym):
        exception = crm_a.tom.availability_exceptions.get()
        assert exception.starts_at.isoformat() == "2099-07-01T09:00:00+00:00"
        window = Availability.objects.get(trainer=crm_a.tom)
    response = browser.post(
        url + "exceptions/",
        {
            "exception-kind": "holiday",
            "exception-starts_at": "2099-07-02T10:00",
            "exception-ends_at": "2099-07-01T12:00",
        },
    )
    assert {"kind", "ends_at"} <= set(response.context["exception_form"].errors)

    browser.post(f"{url}windows/{window.pk}/delete/")
    browser.post(f"{url}exceptions/{exception.pk}/delete/")
    with tenant_context(gym):
        assert not Availability.objects.filter(trainer=crm_a.tom).exists()
        assert not crm_a.tom.availability_exceptions.exists()


def test_trainer_edits_their_own_week(crm_a, browser_as):
    browser = browser_as("tina")
    url = f"/settings/availability/{crm_a.tina.pk}/windows/"
    data = {"window-weekday": "4", "window-start_time": "07:00", "window-end_time": "11:00"}
    assert browser.post(url, data).status_code == 302
    with tenant_context(crm_a.gym):
        assert Availability.objects.filter(trainer=crm_a.tina, weekday=4).exists()


# --- Query counts ---------------------------------------------------------------------------


def _queries(browser, url: str) -> int:  # type: ignore[no-untyped-def]
    browser.get(url)  # warm-up: the first request of a session records it
    with CaptureQueriesContext(connection) as queries:
        assert browser.get(url).status_code == 200
    return len(queries)


def _more_data(crm: CrmGym, start: int, count: int) -> None:
    from apps.crm import services as crm_services

    with tenant_context(crm.gym):
        for n in range(start, start + count):
            location = Location.objects.create(name=f"Site {n}")
            for r in range(3):
                Room.objects.create(location=location, name=f"Room {r}")
            trainer = crm_services.trainer_create(
                actor=crm.owner, email=f"coach{n}@alpha.example", first_name=f"Coach{n}"
            )
            Availability.objects.create(
                trainer=trainer, weekday=n % 7, start_time=time(9), end_time=time(12)
            )
        for weekday in range(7):
            OpeningHours.objects.get_or_create(
                gym=crm.gym, weekday=weekday, opens_at=time(6 + start), closes_at=time(7 + start)
            )


@pytest.mark.parametrize(
    "url", ["/settings/", "/settings/hours/", "/settings/locations/", "/settings/availability/"]
)
def test_list_pages_have_a_constant_query_count(crm_a, browser_as, url):
    browser = browser_as("owner")
    _more_data(crm_a, 0, 2)
    few = _queries(browser, url)
    _more_data(crm_a, 2, 6)
    assert _queries(browser, url) == few


def test_availability_page_has_a_constant_query_count(crm_a, browser_as):
    browser = browser_as("owner")
    url = f"/settings/availability/{crm_a.tina.pk}/"
    few = _queries(browser, url)
    with tenant_context(crm_a.gym):
        for weekday in range(7):
            Availability.objects.create(
                trainer=crm_a.tina, weekday=weekday, start_time=time(6), end_time=time(8)
            )
    assert _queries(browser, url) == few
