"""Opening hours for the whole week in one form and one save: each day open or closed with one
or two ranges; errors show on their day and nothing is saved; gym B's hours never change."""

from __future__ import annotations

from datetime import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from apps.audit.models import AuditEvent
from apps.tenants.models import OpeningHours
from tests.crm.conftest import CrmGym
from tests.gym_settings.conftest import HTMX

pytestmark = pytest.mark.django_db


def week(**days: tuple[str, ...]) -> dict[str, str]:
    """Form data: `mon=("06:00", "22:00")`, two ranges as four times; other days closed."""
    names = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    data: dict[str, str] = {}
    for index, name in enumerate(names):
        times = days.get(name, ())
        if times:
            data[f"day-{index}-is_open"] = "on"
        for field, value in zip(
            ("opens_at", "closes_at", "opens_at_2", "closes_at_2"), times, strict=False
        ):
            data[f"day-{index}-{field}"] = value
    return data


def saved(crm: CrmGym) -> list[tuple[int, time, time]]:
    return [
        (h.weekday, h.opens_at, h.closes_at)
        for h in OpeningHours.objects.filter(gym=crm.gym).order_by("weekday", "opens_at")
    ]


def test_the_whole_week_in_one_save(crm_a: CrmGym, browser_as) -> None:
    browser = browser_as("manager")
    page = browser.get("/settings/hours/").content.decode()
    assert page.count('data-testid="week-day-') == 7
    data = week(
        mon=("06:00", "12:00", "13:00", "22:00"),
        tue=("06:00", "22:00"),
        wed=("06:00", "22:00"),
        thu=("06:00", "22:00"),
        fri=("06:00", "21:00"),
        sat=("08:00", "14:00"),
    )
    response = browser.post("/settings/hours/week/", data)
    assert response.status_code == 302
    hours = saved(crm_a)
    assert len(hours) == 7
    assert hours[:2] == [(0, time(6), time(12)), (0, time(13), time(22))]
    assert (5, time(8), time(14)) in hours
    assert not [h for h in hours if h[0] == 6]  # Sunday closed
    with tenant_context(crm_a.gym):
        assert AuditEvent.objects.filter(action="opening_hours.week_saved").count() == 1

    # Saving the same week again changes nothing and writes no event.
    browser.post("/settings/hours/week/", data)
    with tenant_context(crm_a.gym):
        assert AuditEvent.objects.filter(action="opening_hours.week_saved").count() == 1

    # The form shows the saved week; closing Monday and saving by HTMX returns the section.
    page = browser.get("/settings/hours/").content.decode()
    assert 'value="13:00"' in page
    del data["day-0-is_open"]
    response = browser.post("/settings/hours/week/", data, **HTMX)
    assert response.status_code == 200
    assert "<html" not in response.content.decode()
    assert [h for h in saved(crm_a) if h[0] == 0] == []


@pytest.mark.parametrize(
    ("data", "day"),
    [
        (week(mon=("22:00", "06:00")), 0),  # closes before it opens
        (week(tue=("06:00",)), 1),  # no closing time
        (week(wed=("06:00", "14:00", "13:00", "20:00")), 2),  # ranges overlap
        (week(thu=("06:00", "14:00", "15:00")), 3),  # half a second range
    ],
)
def test_errors_show_on_their_day_and_nothing_is_saved(
    crm_a: CrmGym, browser_as, data: dict[str, str], day: int
) -> None:
    OpeningHours.objects.create(gym=crm_a.gym, weekday=6, opens_at=time(9), closes_at=time(12))
    browser = browser_as("owner")
    # Other days are fine: the bad one alone keeps the whole week from being saved.
    data = {**week(fri=("07:00", "19:00"), sun=("09:00", "12:00")), **data}
    response = browser.post("/settings/hours/week/", data)
    assert response.status_code == 200
    html = response.content.decode()
    section = html.split(f'data-testid="week-day-{day}"', 1)[1].split("</fieldset>", 1)[0]
    assert 'class="errors"' in section
    assert saved(crm_a) == [(6, time(9), time(12))]


@pytest.mark.parametrize("role", ["tina", "desk", "cara"])
def test_only_management_saves_the_week(crm_a: CrmGym, browser_as, role: str) -> None:
    browser_as(role).post("/settings/hours/week/", week(mon=("06:00", "22:00")))
    assert saved(crm_a) == []


def test_gym_b_hours_never_change(crm_a: CrmGym, crm_b: CrmGym, browser_as) -> None:
    OpeningHours.objects.create(gym=crm_b.gym, weekday=0, opens_at=time(5), closes_at=time(23))
    response = browser_as("owner").post("/settings/hours/week/", week(tue=("06:00", "22:00")))
    assert response.status_code == 302
    assert saved(crm_b) == [(0, time(5), time(23))]
    assert saved(crm_a) == [(1, time(6), time(22))]


def test_queries_do_not_grow_with_the_week(crm_a: CrmGym, browser_as) -> None:
    browser = browser_as("owner")
    full = week(**dict.fromkeys(("mon", "tue", "wed"), ("06:00", "12:00", "13:00", "22:00")))
    with CaptureQueriesContext(connection) as small:
        browser.post("/settings/hours/week/", week(mon=("06:00", "22:00")))
    with CaptureQueriesContext(connection) as large:
        browser.post("/settings/hours/week/", full)
    assert len(large) <= len(small) + 2
