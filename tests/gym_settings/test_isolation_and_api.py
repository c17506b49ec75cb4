"""Gym A's staff cannot reach gym B's settings through guessed ids, and GET /api/v1/gym/ shows
the requesting gym only. Also the opening-hours rules of the services and selectors."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django_tenants.utils import tenant_context
from rest_framework.test import APIClient

from apps.scheduling.models import Availability, AvailabilityException, Location, Room
from apps.tenants import services
from apps.tenants.models import OpeningHours, SpecialDay
from apps.tenants.selectors import gym_is_open, gym_opening_hours

pytestmark = pytest.mark.django_db


@pytest.fixture
def bravo_setup(crm_b):  # type: ignore[no-untyped-def]
    """Gym B's location, room, hours and Tom's week, with ids that gym A has no rows for."""
    with tenant_context(crm_b.gym):
        location = Location.objects.create(name="Bravo Main")
        room = Room.objects.create(location=location, name="Bravo Studio")
        window = Availability.objects.create(
            trainer=crm_b.tom, weekday=0, start_time=time(9), end_time=time(17)
        )
        exception = AvailabilityException.objects.create(
            trainer=crm_b.tom,
            kind="time_off",
            starts_at=datetime(2099, 1, 1, 9, tzinfo=UTC),
            ends_at=datetime(2099, 1, 1, 17, tzinfo=UTC),
        )
    hours = OpeningHours.objects.create(
        gym=crm_b.gym, weekday=0, opens_at=time(5), closes_at=time(23)
    )
    day = SpecialDay.objects.create(gym=crm_b.gym, date="2099-12-25", name="Bravo Christmas")
    return {
        "location": location,
        "room": room,
        "window": window,
        "exception": exception,
        "hours": hours,
        "day": day,
        "tom": crm_b.tom,
    }


def test_gym_a_cannot_see_or_change_gym_b_settings(crm_a, crm_b, bravo_setup, browser_as):
    b = bravo_setup
    with tenant_context(crm_a.gym):
        # The ids below mean nothing in gym A.
        Location.objects.filter(pk=b["location"].pk).delete()
        Room.objects.filter(pk=b["room"].pk).delete()
        assert not Availability.objects.filter(pk=b["window"].pk).exists()
    browser = browser_as("owner")
    location, room = b["location"].pk, b["room"].pk
    assert browser.get(f"/settings/locations/{location}/edit/").status_code == 404
    assert browser.post(f"/settings/locations/{location}/edit/", {"name": "X"}).status_code == 404
    assert browser.post(f"/settings/locations/{location}/delete/").status_code == 404
    assert browser.get(f"/settings/locations/{location}/rooms/new/").status_code == 404
    assert browser.get(f"/settings/rooms/{room}/edit/").status_code == 404
    assert browser.post(f"/settings/rooms/{room}/delete/").status_code == 404
    assert browser.post(f"/settings/hours/{b['hours'].pk}/delete/").status_code == 404
    assert browser.post(f"/settings/hours/special/{b['day'].pk}/delete/").status_code == 404
    # Tom of gym B: gym A's trainers have other ids (or a different Tom).
    tom_url = f"/settings/availability/{crm_a.tom.pk}"
    assert browser.post(f"{tom_url}/windows/{b['window'].pk}/delete/").status_code == 404
    assert browser.post(f"{tom_url}/exceptions/{b['exception'].pk}/delete/").status_code == 404

    for url in ("/settings/", "/settings/hours/", "/settings/locations/"):
        body = browser.get(url).content.decode()
        assert "Bravo" not in body, url
        assert "05:00" not in body, url

    with tenant_context(crm_b.gym):
        assert Location.objects.filter(pk=location, name="Bravo Main").exists()
        assert Room.objects.filter(pk=room).exists()
        assert Availability.objects.filter(pk=b["window"].pk).exists()
        assert AvailabilityException.objects.filter(pk=b["exception"].pk).exists()
    assert OpeningHours.objects.filter(pk=b["hours"].pk).exists()
    assert SpecialDay.objects.filter(pk=b["day"].pk).exists()


def test_gym_api_shows_the_requesting_gym_only(crm_a, crm_b, bravo_setup):
    services.opening_hours_add(
        actor=_in(crm_a, crm_a.owner), gym=crm_a.gym, weekday=2, opens_at=time(7), closes_at=time(9)
    )
    services.opening_hours_add(
        actor=_in(crm_a, crm_a.owner),
        gym=crm_a.gym,
        weekday=2,
        opens_at=time(17),
        closes_at=time(21),
    )
    api = APIClient(HTTP_HOST=crm_a.host)
    assert api.get("/api/v1/gym/").status_code in (401, 403)
    api.force_authenticate(crm_a.cara_user)  # clients read it too (the mobile app)
    response = api.get("/api/v1/gym/")
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == crm_a.gym.name
    assert body["time_zone"] == "UTC"
    assert len(body["opening_hours"]) == 7
    wednesday = body["opening_hours"][2]
    assert wednesday == {
        "weekday": 2,
        "closed": False,
        "ranges": [
            {"opens_at": "07:00", "closes_at": "09:00"},
            {"opens_at": "17:00", "closes_at": "21:00"},
        ],
    }
    assert body["opening_hours"][0]["closed"] is True  # gym B's Monday is not gym A's
    assert body["special_days"] == []
    assert api.post("/api/v1/gym/", {}).status_code == 405


def _in(crm, user):  # type: ignore[no-untyped-def]
    """Services write audit events in the current schema: enter the gym first."""
    from django.db import connection

    connection.set_tenant(crm.gym)
    return user


def test_opening_hours_rules_and_is_open(crm_a):
    gym = crm_a.gym
    gym.time_zone = "Europe/London"
    gym.save(update_fields=["time_zone"])
    owner = _in(crm_a, crm_a.owner)
    services.opening_hours_add(
        actor=owner, gym=gym, weekday=0, opens_at=time(6), closes_at=time(12)
    )
    services.opening_hours_add(
        actor=owner, gym=gym, weekday=0, opens_at=time(14), closes_at=time(22)
    )
    with pytest.raises(ValidationError) as error:
        services.opening_hours_add(
            actor=owner, gym=gym, weekday=0, opens_at=time(11), closes_at=time(15)
        )
    assert "opens_at" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        services.opening_hours_add(
            actor=owner, gym=gym, weekday=0, opens_at=time(23), closes_at=time(22, 30)
        )
    assert "closes_at" in error.value.message_dict
    with pytest.raises(PermissionDenied):
        services.opening_hours_add(
            actor=crm_a.tina.user, gym=gym, weekday=1, opens_at=time(6), closes_at=time(7)
        )
    # The database refuses an overlap that gets past the service.
    with pytest.raises(IntegrityError), transaction.atomic():
        OpeningHours.objects.create(gym=gym, weekday=0, opens_at=time(7), closes_at=time(8))

    week = gym_opening_hours(gym)
    assert [(r.opens_at, r.closes_at) for r in week[0].ranges] == [
        (time(6), time(12)),
        (time(14), time(22)),
    ]
    assert week[1].is_closed

    # Monday 6 July 2099, 10:30 in London (BST) is 09:30 UTC.
    assert gym_is_open(gym, datetime(2099, 7, 6, 9, 30, tzinfo=UTC))
    assert not gym_is_open(gym, datetime(2099, 7, 6, 11, 30, tzinfo=UTC))  # 12:30, lunch
    assert not gym_is_open(gym, datetime(2099, 7, 6, 4, 30, tzinfo=UTC))  # 05:30 local
    assert gym_is_open(gym, datetime(2099, 7, 6, 5, 30, tzinfo=UTC))  # 06:30 local

    services.special_day_save(actor=owner, gym=gym, date=date(2099, 7, 6))
    assert not gym_is_open(gym, datetime(2099, 7, 6, 9, 30, tzinfo=UTC))
    services.special_day_save(
        actor=owner,
        gym=gym,
        date=date(2099, 7, 6),
        name="Short day",
        opens_at=time(12),
        closes_at=time(13),
    )
    assert SpecialDay.objects.filter(gym=gym).count() == 1
    assert gym_is_open(gym, datetime(2099, 7, 6, 11, 30, tzinfo=UTC))
    with pytest.raises(ValidationError):
        services.special_day_save(actor=owner, gym=gym, date=date(2099, 7, 7), opens_at=time(9))


def test_a_time_zone_change_moves_the_hours_with_it(crm_a):
    gym = crm_a.gym
    owner = _in(crm_a, crm_a.owner)
    services.opening_hours_add(
        actor=owner, gym=gym, weekday=0, opens_at=time(9), closes_at=time(10)
    )
    monday_0930_utc = datetime(2099, 7, 6, 9, 30, tzinfo=UTC)
    assert gym_is_open(gym, monday_0930_utc)
    gym = services.gym_profile_update(
        actor=owner, gym=gym, name=gym.name, time_zone="America/New_York"
    )
    assert not gym_is_open(gym, monday_0930_utc)  # 05:30 in New York
    assert gym_is_open(gym, datetime(2099, 7, 6, 13, 30, tzinfo=UTC))  # 09:30 in New York
    with pytest.raises(ValidationError) as error:
        services.gym_profile_update(actor=owner, gym=gym, name="X", time_zone="Nowhere/Land")
    assert list(error.value.message_dict) == ["time_zone"]
    with pytest.raises(PermissionDenied):
        services.gym_profile_update(actor=crm_a.desk, gym=gym, name="Desk's gym", time_zone="UTC")
