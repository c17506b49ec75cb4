"""Input any caller can send is a 4xx naming the field, never a server error, and writes
nothing: NUL characters, JSON nested a thousand levels deep, dates at the ends of the calendar,
births in the future."""

from __future__ import annotations

import json

import pytest
from django_tenants.utils import tenant_context

from apps.crm.models import Client, Lead, LeadStatus, Note
from tests.conftest import GymClient

PROBLEM = "application/problem+json"


@pytest.mark.parametrize(
    "path", ["/api/v1/clients/", "/api/v1/exercises/", "/api/v1/plans/", "/api/v1/leads/"]
)
def test_a_nul_character_in_a_search_is_a_400_naming_it(api_as, path: str) -> None:
    response = api_as("owner").get(path, {"search": "a\x00b"})
    assert response.status_code == 400
    assert response["Content-Type"] == PROBLEM
    assert response.json()["errors"] == {"search": ["Null characters are not allowed."]}


def test_a_nul_character_on_a_page_is_a_400_page(crm_a) -> None:
    client = GymClient(crm_a.gym.subdomain)
    client.force_login(crm_a.owner)
    response = client.get("/clients/", {"search": "a\x00b"})
    assert response.status_code == 400
    assert "search" in response.content.decode()


def _deep(levels: int) -> str:
    return '{"a": ' * levels + "1" + "}" * levels


@pytest.mark.parametrize("levels", [40, 1_000, 100_000])
def test_json_nested_too_deep_is_a_400_and_writes_nothing(api_as, crm_a, levels: int) -> None:
    owner = api_as("owner")
    with tenant_context(crm_a.gym):
        notes = Note.objects.count()
    body = f'{{"client": {crm_a.ann.pk}, "body": "x", "extra": {_deep(levels)}}}'
    response = owner.post("/api/v1/notes/", body, content_type="application/json")
    assert response.status_code == 400
    assert response["Content-Type"] == PROBLEM
    patch = owner.patch(
        f"/api/v1/clients/{crm_a.ann.pk}/", _deep(levels), content_type="application/json"
    )
    assert patch.status_code == 400
    with tenant_context(crm_a.gym):
        assert Note.objects.count() == notes


def test_a_nul_character_inside_json_is_a_400(api_as, crm_a) -> None:
    body = json.dumps({"first_name": "a\x00b"})
    response = api_as("owner").patch(
        f"/api/v1/clients/{crm_a.ann.pk}/", body, content_type="application/json"
    )
    assert response.status_code == 400
    with tenant_context(crm_a.gym):
        assert "\x00" not in Client.objects.get(pk=crm_a.ann.pk).first_name


def test_timetable_of_the_whole_calendar_is_a_400_naming_the_dates(api_as) -> None:
    response = api_as("owner").get(
        "/api/v1/occurrences/", {"from": "0001-01-01", "to": "9999-12-31"}
    )
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"from", "to"}


def test_an_appointment_at_the_end_of_time_is_a_400_naming_it(api_as, crm_a) -> None:
    response = api_as("owner").post(
        "/api/v1/appointments/",
        {
            "trainer": crm_a.tina.pk,
            "client": crm_a.ann.pk,
            "starts_at": "9999-12-31T23:00:00Z",
            "ends_at": "9999-12-31T23:30:00Z",
        },
        format="json",
    )
    assert response.status_code == 400
    assert {"starts_at", "ends_at"} <= set(response.json()["errors"])


@pytest.mark.parametrize("born", ["2380-01-01", "2031-05-05", "1800-01-01"])
def test_a_birth_date_in_the_future_or_long_ago_is_a_400(api_as, crm_a, born: str) -> None:
    response = api_as("owner").patch(
        f"/api/v1/clients/{crm_a.ann.pk}/", {"date_of_birth": born}, format="json"
    )
    assert response.status_code == 400
    assert "date_of_birth" in response.json()["errors"]
    with tenant_context(crm_a.gym):
        assert str(Client.objects.get(pk=crm_a.ann.pk).date_of_birth) != born


def test_a_birth_date_in_the_future_is_refused_on_the_page(crm_a) -> None:
    client = GymClient(crm_a.gym.subdomain)
    client.force_login(crm_a.owner)
    response = client.post(
        "/clients/new/",
        {
            "first_name": "Fay",
            "last_name": "Future",
            "status": "trial",
            "joined_on": "2026-01-05",
            "date_of_birth": "2031-05-05",
        },
    )
    assert response.status_code == 200  # the form again, with the error
    assert "A date of birth cannot be in the future." in response.content.decode()
    with tenant_context(crm_a.gym):
        assert not Client.objects.filter(last_name="Future").exists()


def test_the_calendar_far_in_the_future_shows_today_instead(crm_a) -> None:
    client = GymClient(crm_a.gym.subdomain)
    client.force_login(crm_a.owner)
    assert client.get("/schedule/calendar/", {"date": "9999-12-31"}).status_code == 200
    assert client.get("/schedule/calendar/", {"date": "0001-01-01"}).status_code == 200


def test_two_join_forms_with_one_email_convert_to_one_client(api_as, crm_a) -> None:
    join = GymClient(crm_a.gym.subdomain)
    for message in ("Mornings?", "Evenings then?"):
        response = join.post(
            "/join/",
            {
                "first_name": "Rae",
                "last_name": "Twice",
                "email": "rae@twice.example",
                "message": message,
            },
        )
        assert response.status_code == 302, response.content
    with tenant_context(crm_a.gym):
        leads = list(Lead.objects.filter(email="rae@twice.example").order_by("pk"))
    assert len(leads) == 2
    desk = api_as("desk")
    ids = {
        desk.post(f"/api/v1/leads/{lead.pk}/convert/", {}, format="json").json()["id"]
        for lead in leads
    }
    assert len(ids) == 1
    with tenant_context(crm_a.gym):
        client = Client.objects.get(email="rae@twice.example")
        assert set(client.leads.values_list("status", flat=True)) == {LeadStatus.CONVERTED}
        assert client.leads.count() == 2


def test_today_is_the_gyms_day_not_utcs(crm_a, monkeypatch) -> None:
    """At noon UTC it is already tomorrow on Kiritimati (UTC+14): a client churned then left on
    the gym's date, and a birth date of that local day is not in the future."""
    from datetime import UTC, date, datetime

    from django.utils import timezone

    from apps.crm import services
    from apps.crm.models import ClientStatus

    monkeypatch.setattr(timezone, "now", lambda: datetime(2026, 12, 6, 12, tzinfo=UTC))
    gym = crm_a.gym
    gym.time_zone = "Pacific/Kiritimati"
    with tenant_context(gym):
        client = services.client_create(
            actor=crm_a.owner,
            first_name="Kiri",
            last_name="Timati",
            status=ClientStatus.CHURNED,
            date_of_birth=date(2026, 12, 7),
        )
        assert client.churned_on == date(2026, 12, 7)
