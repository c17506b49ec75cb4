"""The scheduling API: booking (409 naming the conflict, 400 naming the field, idempotent
retries), cancelling, role-scoped lists with bounded queries, and free slots."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django_tenants.utils import tenant_context
from rest_framework.test import APIClient

from apps.scheduling.appointments import services
from apps.scheduling.models import Appointment, AppointmentStatus
from tests.crm.conftest import CrmGym
from tests.scheduling.conftest import give_tom_hours

LONDON = ZoneInfo("Europe/London")
URL = "/api/v1/appointments/"


def at(hour: int, day: int = 1) -> str:
    return datetime(2037, 12, day, hour, tzinfo=LONDON).isoformat()


def payload(crm: CrmGym, **fields: object) -> dict:
    values = {
        "trainer": crm.tina.pk,
        "client": crm.ann.pk,
        "starts_at": at(10),
        "ends_at": at(11),
    }
    values.update(fields)
    return values


def count(crm: CrmGym) -> int:
    with tenant_context(crm.gym):
        return Appointment.objects.count()


def test_book_then_conflict_is_409_naming_the_trainer(
    sched_a: CrmGym, api_as: Callable[..., APIClient]
) -> None:
    desk = api_as("desk")
    first = desk.post(URL, payload(sched_a), format="json")
    assert first.status_code == 201, first.content
    assert first.json()["status"] == "booked"
    clash = desk.post(URL, payload(sched_a, client=sched_a.bob.pk, starts_at=at(10)), format="json")
    assert clash.status_code == 409
    assert clash["Content-Type"] == "application/problem+json"
    body = clash.json()
    assert body["status"] == 409
    assert "trainer" in body["errors"]
    assert "2037-12-01T10:00:00+00:00" in body["detail"]


def test_room_conflict_is_409_naming_the_room(
    sched_a: CrmGym, studio, api_as: Callable[..., APIClient]
) -> None:
    with tenant_context(sched_a.gym):
        give_tom_hours(sched_a)
    desk = api_as("desk")
    assert desk.post(URL, payload(sched_a, room=studio.pk), format="json").status_code == 201
    clash = desk.post(
        URL,
        payload(sched_a, trainer=sched_a.tom.pk, client=sched_a.cara.pk, room=studio.pk),
        format="json",
    )
    assert clash.status_code == 409
    assert list(clash.json()["errors"]) == ["room"]


def test_bad_input_is_400_naming_the_field(
    sched_a: CrmGym, api_as: Callable[..., APIClient]
) -> None:
    desk = api_as("desk")
    response = desk.post(URL, payload(sched_a, ends_at="not a time"), format="json")
    assert response.status_code == 400
    assert "ends_at" in response.json()["errors"]
    outside = desk.post(URL, payload(sched_a, starts_at=at(6), ends_at=at(7)), format="json")
    assert outside.status_code == 400
    assert "starts_at" in outside.json()["errors"]
    override = desk.post(
        URL,
        payload(sched_a, starts_at=at(6), ends_at=at(7), override_availability=True),
        format="json",
    )
    assert override.status_code == 403
    manager = api_as("manager").post(
        URL,
        payload(sched_a, starts_at=at(6), ends_at=at(7), override_availability=True),
        format="json",
    )
    assert manager.status_code == 201


def test_idempotent_retry_returns_the_first_answer(
    sched_a: CrmGym, api_as: Callable[..., APIClient]
) -> None:
    desk = api_as("desk")
    headers = {"HTTP_IDEMPOTENCY_KEY": "retry-1"}
    first = desk.post(URL, payload(sched_a), format="json", **headers)
    again = desk.post(URL, payload(sched_a), format="json", **headers)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert count(sched_a) == 1
    # A new key is a new request: this one conflicts.
    other = desk.post(URL, payload(sched_a), format="json", HTTP_IDEMPOTENCY_KEY="retry-2")
    assert other.status_code == 409
    # A failed request stores nothing: its key can be used again once the slot is free.
    with tenant_context(sched_a.gym):
        services.appointment_cancel(
            actor=sched_a.desk, appointment=Appointment.objects.get(), waive_late=True
        )
    assert (
        desk.post(URL, payload(sched_a), format="json", HTTP_IDEMPOTENCY_KEY="retry-2").status_code
        == 201
    )


def test_idempotency_keys_are_per_user(sched_a: CrmGym, api_as: Callable[..., APIClient]) -> None:
    headers = {"HTTP_IDEMPOTENCY_KEY": "same"}
    assert api_as("desk").post(URL, payload(sched_a), format="json", **headers).status_code == 201
    second = api_as("manager").post(
        URL, payload(sched_a, client=sched_a.bob.pk), format="json", **headers
    )
    assert second.status_code == 409


def test_roles_through_the_api(sched_a: CrmGym, api_as: Callable[..., APIClient]) -> None:
    with tenant_context(sched_a.gym):
        give_tom_hours(sched_a)
    tina = api_as("tina")
    assert tina.post(URL, payload(sched_a), format="json").status_code == 201
    # Bob is not Tina's client: the CRM does not even show him to her.
    response = tina.post(
        URL,
        payload(sched_a, client=sched_a.bob.pk, starts_at=at(12), ends_at=at(13)),
        format="json",
    )
    assert response.status_code == 400
    cara = api_as("cara")
    own = cara.post(
        URL, payload(sched_a, trainer=sched_a.tom.pk, client=sched_a.cara.pk), format="json"
    )
    assert own.status_code == 201
    assert (
        cara.post(
            URL, payload(sched_a, starts_at=at(12), ends_at=at(13)), format="json"
        ).status_code
        == 400
    )

    assert [a["trainer"] for a in tina.get(URL).json()["results"]] == [sched_a.tina.pk]
    assert [a["client"] for a in cara.get(URL).json()["results"]] == [sched_a.cara.pk]
    assert len(api_as("desk").get(URL).json()["results"]) == 2
    # Someone else's appointment is a 404, not a 403.
    toms = own.json()["id"]
    assert tina.get(f"{URL}{toms}/").status_code == 404
    assert tina.post(f"{URL}{toms}/cancel/", {}, format="json").status_code == 404
    cancelled = cara.post(f"{URL}{toms}/cancel/", {}, format="json")
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] in (
        AppointmentStatus.CANCELLED,
        AppointmentStatus.LATE_CANCELLED,
    )
    assert cara.post(f"{URL}{toms}/cancel/", {}, format="json").status_code == 400


def test_list_runs_a_bounded_number_of_queries(
    sched_a: CrmGym, api_as: Callable[..., APIClient], django_assert_max_num_queries
) -> None:
    with tenant_context(sched_a.gym):
        give_tom_hours(sched_a)
        for day in range(1, 5):
            for trainer, client in ((sched_a.tina, sched_a.ann), (sched_a.tom, sched_a.cara)):
                services.appointment_book(
                    actor=sched_a.desk,
                    trainer=trainer,
                    client=client,
                    starts_at=datetime.fromisoformat(at(10, day)),
                    ends_at=datetime.fromisoformat(at(11, day)),
                )
    desk = api_as("desk")
    with django_assert_max_num_queries(8):
        response = desk.get(URL)
    assert response.status_code == 200
    assert len(response.json()["results"]) == 8


def test_free_slots_endpoint(sched_a: CrmGym, api_as: Callable[..., APIClient]) -> None:
    desk = api_as("desk")
    desk.post(URL, payload(sched_a), format="json")
    response = desk.get(
        "/api/v1/free-slots/",
        {"trainer": sched_a.tina.pk, "from": "2037-12-01", "to": "2037-12-01"},
    )
    assert response.status_code == 200
    starts = [slot["starts_at"] for slot in response.json()]
    assert "2037-12-01T09:00:00Z" in starts
    assert "2037-12-01T10:00:00Z" not in starts
    assert response.json()[0]["ends_at"] == "2037-12-01T10:00:00Z"
    # A client sees only their own trainers.
    cara = api_as("cara")
    hidden = cara.get(
        "/api/v1/free-slots/",
        {"trainer": sched_a.tina.pk, "from": "2037-12-01", "to": "2037-12-01"},
    )
    assert hidden.status_code == 400
    assert "trainer" in hidden.json()["errors"]


def test_free_slots_bad_input_names_the_field(
    sched_a: CrmGym, api_as: Callable[..., APIClient]
) -> None:
    desk = api_as("desk")
    response = desk.get("/api/v1/free-slots/", {"trainer": sched_a.tina.pk, "from": "nope"})
    assert response.status_code == 400
    assert {"from", "to"} <= set(response.json()["errors"])
    backwards = desk.get(
        "/api/v1/free-slots/",
        {"trainer": sched_a.tina.pk, "from": date(2037, 12, 2), "to": date(2037, 12, 1)},
    )
    assert backwards.status_code == 400
    assert "to" in backwards.json()["errors"]


def test_gym_b_cannot_see_gym_a_appointments(
    sched_a: CrmGym, crm_b: CrmGym, api_as: Callable[..., APIClient]
) -> None:
    assert api_as("desk").post(URL, payload(sched_a), format="json").status_code == 201
    other_gym = api_as("desk", crm_b)
    assert other_gym.get(URL).json()["results"] == []
    with tenant_context(sched_a.gym):
        pk = Appointment.objects.get().pk
    assert other_gym.get(f"{URL}{pk}/").status_code == 404
