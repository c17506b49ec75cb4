"""The wearables API for the mobile apps: a client reads their own, staff name a client they
may see, precedence applies to daily data, workouts come in cursor pages in a bounded number of
queries, sync now and disconnect, and gym B stays out of reach."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context
from rest_framework.test import APIClient

from apps.crm.models import Client
from apps.tenants.selectors import gym_today
from apps.wearables.models import Connection, ConnectionStatus, DailyActivity, ExternalWorkout
from apps.wearables.services import sync
from tests.conftest import ALPHA
from tests.wearables.conftest import make_client
from tests.wearables.test_activity import fill_days, make_trainer

pytestmark = pytest.mark.django_db
PROBLEM = "application/problem+json"


def api_for(user, host=ALPHA.host) -> APIClient:  # type: ignore[no-untyped-def]
    api = APIClient(HTTP_HOST=host)
    api.force_authenticate(user)
    return api


def _workouts(client, count):  # type: ignore[no-untyped-def]
    now = timezone.now()
    ExternalWorkout.objects.bulk_create(
        ExternalWorkout(
            client=client,
            provider="strava",
            provider_id=f"w{n}",
            sport="Run",
            name=f"Run {n}",
            start_at=now - timedelta(hours=n + 1),
            date=(now - timedelta(hours=n + 1)).date(),
            duration_seconds=1200,
        )
        for n in range(count)
    )


def test_a_client_reads_their_days_with_one_source_per_day(
    gym_a, django_assert_max_num_queries
) -> None:
    user, client = make_client(gym_a, "apidays@alpha.example")
    with tenant_context(gym_a):
        fill_days(client, days=3)
    api = api_for(user)
    api.get("/api/v1/wearables/days/", {"kind": "activity"})
    with django_assert_max_num_queries(10):
        response = api.get("/api/v1/wearables/days/", {"kind": "activity"})
    with tenant_context(gym_a):
        fill_days(make_client(gym_a, "apidays2@alpha.example")[1], days=1)
    with django_assert_max_num_queries(10):
        year = api.get(
            "/api/v1/wearables/days/",
            {"kind": "activity", "start": (gym_today() - timedelta(days=365)).isoformat()},
        )
    assert len(year.json()) == 3
    assert response.status_code == 200, response.content
    rows = response.json()
    assert len(rows) == 3  # Garmin's, never Garmin's and Strava's
    assert {row["provider"] for row in rows} == {"garmin"}
    assert rows[-1]["date"] == gym_today().isoformat()
    assert rows[-1]["values"]["steps"] == 8000
    sleep = api.get("/api/v1/wearables/days/", {"kind": "sleep"}).json()
    assert sleep[0]["values"]["asleep_minutes"] == 420

    for params, field in (
        ({"kind": "steps"}, "kind"),
        ({}, "kind"),
        ({"kind": "activity", "start": "yesterday"}, "start"),
        ({"kind": "activity", "start": "2026-01-10", "end": "2026-01-01"}, "start"),
        ({"kind": "activity", "start": "2020-01-01", "end": "2026-01-01"}, "start"),
    ):
        bad = api.get("/api/v1/wearables/days/", params)
        assert bad.status_code == 400
        assert bad["Content-Type"].startswith(PROBLEM)
        assert field in bad.json()["errors"]


def test_workouts_come_in_cursor_pages_in_bounded_queries(
    gym_a, django_assert_max_num_queries
) -> None:
    user, client = make_client(gym_a, "apiworkouts@alpha.example")
    with tenant_context(gym_a):
        _workouts(client, 5)
    api = api_for(user)
    api.get("/api/v1/wearables/workouts/")
    with django_assert_max_num_queries(12) as few:
        api.get("/api/v1/wearables/workouts/")
    with tenant_context(gym_a):
        ExternalWorkout.objects.filter(client=client).delete()
        _workouts(client, 70)
    with django_assert_max_num_queries(len(few.captured_queries)):
        first = api.get("/api/v1/wearables/workouts/", {"page_size": 50})
    body = first.json()
    assert len(body["results"]) == 50
    assert body["results"][0]["name"] == "Run 0"  # latest first
    second = api.get(body["next"])
    assert len(second.json()["results"]) == 20
    assert api.get("/api/v1/wearables/workouts/", {"page_size": "x"}).status_code == 400
    assert api.get("/api/v1/wearables/workouts/", {"cursor": "nope"}).status_code == 400


def test_staff_name_a_client_they_may_see(gym_a, owner_a, django_assert_max_num_queries) -> None:
    user, client = make_client(gym_a, "apistaff@alpha.example")
    _other_user, other = make_client(gym_a, "apistaff2@alpha.example")
    with tenant_context(gym_a):
        fill_days(client, days=2)
        Connection.objects.create(client=client, provider="strava", kinds="workouts")
    coach = make_trainer(gym_a, owner_a, client)
    api = api_for(coach)
    assert api.get("/api/v1/wearables/connections/").status_code == 400  # which client?
    assert api.get("/api/v1/wearables/connections/", {"client": "x"}).status_code == 400
    api.get("/api/v1/wearables/connections/", {"client": client.pk})
    with django_assert_max_num_queries(12):
        listed = api.get("/api/v1/wearables/connections/", {"client": client.pk})
    assert listed.status_code == 200
    assert [c["provider"] for c in listed.json()] == ["strava"]
    assert listed.json()[0]["can_sync"] is True
    workouts = api.get("/api/v1/wearables/workouts/", {"client": client.pk}).json()
    assert len(workouts["results"]) == 2
    # Not their client: 404, as for one that does not exist.
    assert api.get("/api/v1/wearables/workouts/", {"client": other.pk}).status_code == 404
    # A client cannot name someone else.
    own = api_for(user)
    assert own.get("/api/v1/wearables/connections/", {"client": other.pk}).status_code == 404
    assert own.get("/api/v1/wearables/connections/", {"client": client.pk}).status_code == 200


def test_sync_now_and_disconnect_through_the_api(
    gym_a, owner_a, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    queued: list[int] = []
    monkeypatch.setattr(sync, "_queue", lambda pk, countdown=0: queued.append(pk))
    user, client = make_client(gym_a, "apisync@alpha.example")
    _u, other = make_client(gym_a, "apisync2@alpha.example")
    with tenant_context(gym_a):
        connection = Connection.objects.create(client=client, provider="strava")
        upload = Connection.objects.create(client=client, provider="apple_health")
        not_mine = Connection.objects.create(client=other, provider="strava")
    api = api_for(user)
    url = f"/api/v1/wearables/connections/{connection.pk}/"
    with django_capture_on_commit_callbacks(execute=True):
        first = api.post(f"{url}sync/")
    assert first.status_code == 202
    assert first.json() == {"queued": True}
    again = api.post(f"{url}sync/")
    assert again.status_code == 429
    assert again["Content-Type"].startswith(PROBLEM)
    assert "a moment ago" in again.json()["detail"]
    assert int(again["Retry-After"]) > 0
    refused = api.post(f"/api/v1/wearables/connections/{upload.pk}/sync/")
    assert refused.status_code == 409
    assert api.post(f"/api/v1/wearables/connections/{not_mine.pk}/sync/").status_code == 404
    assert queued == [connection.pk]

    gone = api.post(f"{url}disconnect/")
    assert gone.status_code == 200
    assert gone.json()["status"] == ConnectionStatus.DISCONNECTED
    assert gone.json()["can_sync"] is False
    assert api.post(f"/api/v1/wearables/connections/{not_mine.pk}/disconnect/").status_code == 404


def test_gym_a_cannot_reach_gym_b_through_the_api(gym_a, gym_b, owner_a) -> None:
    _u, bravo_client = make_client(gym_b, "apibravo@bravo.example")
    with tenant_context(gym_b):
        bravo_connection = Connection.objects.create(
            client=bravo_client, provider="strava", last_error="bravo-only-error"
        )
        DailyActivity.objects.create(
            client=bravo_client, provider="garmin", provider_id="d", date=gym_today(), steps=4321
        )
    with tenant_context(gym_a):
        # Ids are per gym: the same number may name one of gym A's own rows, never B's.
        client_id_in_a = Client.objects.filter(pk=bravo_client.pk).exists()
        connection_id_in_a = Connection.objects.filter(pk=bravo_connection.pk).exists()
    api = api_for(owner_a)
    listed = api.get("/api/v1/wearables/connections/", {"client": bravo_client.pk})
    assert listed.status_code == (200 if client_id_in_a else 404)
    assert b"bravo-only-error" not in listed.content
    days = api.get("/api/v1/wearables/days/", {"kind": "activity", "client": bravo_client.pk})
    assert b"4321" not in days.content
    synced = api.post(f"/api/v1/wearables/connections/{bravo_connection.pk}/sync/")
    if not connection_id_in_a:
        assert synced.status_code == 404
    with tenant_context(gym_b):
        bravo_connection.refresh_from_db()
        assert bravo_connection.status == ConnectionStatus.ACTIVE
