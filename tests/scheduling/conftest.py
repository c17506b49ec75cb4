"""Scheduling fixtures: the CRM's small business (tests/crm/conftest.py) plus Tina's weekly
hours, in a gym on London time."""

from __future__ import annotations

from datetime import time

import pytest
from django_tenants.utils import tenant_context

from apps.scheduling.models import Availability, Location, Room
from tests.crm.conftest import CrmGym, api_as, build_crm_gym, crm_a, crm_b  # noqa: F401

ZONE = "Europe/London"


@pytest.fixture
def sched_a(crm_a: CrmGym) -> CrmGym:  # noqa: F811
    """Gym A on London time; Tina works 09:00-17:00 Monday to Friday and 18:00-20:00 on
    Tuesdays; one room, "Studio"."""
    gym = crm_a.gym
    gym.time_zone = ZONE
    gym.save(update_fields=["time_zone"])
    with tenant_context(gym):
        for weekday in range(5):
            Availability.objects.create(
                trainer=crm_a.tina, weekday=weekday, start_time=time(9), end_time=time(17)
            )
        Availability.objects.create(
            trainer=crm_a.tina, weekday=1, start_time=time(18), end_time=time(20)
        )
        location = Location.objects.create(name="Main")
        Room.objects.create(location=location, name="Studio")
    return crm_a


@pytest.fixture
def studio(sched_a: CrmGym) -> Room:
    with tenant_context(sched_a.gym):
        return Room.objects.get(name="Studio")


def give_tom_hours(crm: CrmGym) -> None:
    """Tom works 09:00-17:00 every day (call inside the gym)."""
    for weekday in range(7):
        Availability.objects.create(
            trainer=crm.tom, weekday=weekday, start_time=time(9), end_time=time(17)
        )
