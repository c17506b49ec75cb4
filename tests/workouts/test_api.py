"""The workouts API: sessions, sets and cardio, training stats; roles, idempotency, query
counts and the cross-gym rule."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context
from rest_framework.test import APIClient

from apps.training.models import ScheduledWorkout
from apps.workouts import selectors, services
from apps.workouts.models import SetLog, WorkoutLog
from tests.conftest import ALPHA, BRAVO, PASSWORD, GymClient
from tests.workouts.conftest import Training, schedule


@pytest.fixture
def scheduled(training_a: Training) -> ScheduledWorkout:
    with tenant_context(training_a.crm.gym):
        workout = schedule(training_a.crm.cara, selectors.gym_today(), day=training_a.day)
    connection.set_schema_to_public()
    return workout


def _start(api: APIClient, scheduled: ScheduledWorkout, **extra) -> dict:
    response = api.post(
        "/api/v1/workout-sessions/", {"scheduled_workout": scheduled.pk, **extra}, format="json"
    )
    assert response.status_code in (200, 201), response.json()
    return response.json()


def test_client_logs_a_whole_workout(api_as, training_a: Training, scheduled):
    api = api_as("cara")
    session = _start(api, scheduled)
    assert session["client"] == training_a.crm.cara.pk
    key = str(uuid.uuid4())
    body = {
        "workout": session["id"],
        "exercise": training_a.squat.pk,
        "plan_item": training_a.squat_item.pk,
        "reps": 5,
        "load": "225",
        "weight_unit": "lb",
        "rpe": "8.5",
        "client_uuid": key,
    }
    first = api.post("/api/v1/set-logs/", body, format="json")
    retry = api.post("/api/v1/set-logs/", body, format="json")
    assert first.status_code == 201, first.json()
    assert retry.status_code == 200
    assert retry.json()["id"] == first.json()["id"]
    assert first.json()["load_kg"] == "102.06"
    assert first.json()["rpe"] == "8.5"

    cardio = api.post(
        "/api/v1/cardio-logs/",
        {
            "workout": session["id"],
            "exercise": training_a.rower.pk,
            "plan_item": training_a.row_item.pk,
            "duration_seconds": 600,
            "distance_m": 2500,
            "average_heart_rate": 150,
        },
        format="json",
    )
    assert cardio.status_code == 201, cardio.json()

    done = api.post(
        f"/api/v1/workout-sessions/{session['id']}/complete/",
        {"perceived_effort": 8},
        format="json",
    )
    assert done.status_code == 200, done.json()
    data = done.json()
    assert data["completed_at"]
    assert [s["skipped"] for s in data["sets"] if s["plan_item"] == training_a.bench_item.pk] == [
        True
    ]
    with tenant_context(training_a.crm.gym):
        assert ScheduledWorkout.objects.get(pk=scheduled.pk).status == "completed"
        assert SetLog.objects.filter(log_id=session["id"], skipped=False).count() == 1


def test_session_start_is_idempotent(api_as, scheduled):
    api = api_as("cara")
    key = str(uuid.uuid4())
    first = api.post("/api/v1/workout-sessions/", {"client_uuid": key}, format="json")
    again = api.post("/api/v1/workout-sessions/", {"client_uuid": key}, format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert _start(api, scheduled)["id"] == _start(api, scheduled)["id"]


def test_bad_input_names_the_field(api_as, training_a: Training, scheduled):
    api = api_as("cara")
    session = _start(api, scheduled)
    response = api.post(
        "/api/v1/set-logs/",
        {"workout": session["id"], "exercise": training_a.squat.pk, "reps": 5, "rpe": "8.3"},
        format="json",
    )
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert "rpe" in response.json()["errors"]
    response = api.post(
        "/api/v1/set-logs/",
        {"workout": session["id"], "exercise": training_a.squat.pk},
        format="json",
    )
    assert response.status_code == 400
    assert "reps" in response.json()["errors"]


@pytest.mark.parametrize(
    ("role", "sees"),
    [
        ("owner", True),
        ("manager", True),
        ("tom", True),
        ("cara", True),
        ("tina", False),
        ("desk", False),
    ],
)
def test_who_sees_a_clients_sessions(api_as, scheduled, role, sees):
    session = _start(api_as("cara"), scheduled)
    api = api_as(role)
    listed = api.get("/api/v1/workout-sessions/").json()["results"]
    assert bool(listed) == sees
    detail = api.get(f"/api/v1/workout-sessions/{session['id']}/")
    assert detail.status_code == (200 if sees else 404)
    assert bool(api.get("/api/v1/set-logs/").json()["results"]) is False  # none logged yet
    stats = api.get("/api/v1/training-stats/", {"client": scheduled.client_id})
    assert stats.status_code == (200 if sees else 400)


def test_out_of_reach_sessions_cannot_be_changed(api_as, training_a: Training, scheduled):
    session = _start(api_as("cara"), scheduled)
    tina = api_as("tina")
    assert tina.post(f"/api/v1/workout-sessions/{session['id']}/complete/").status_code == 404
    assert tina.delete(f"/api/v1/workout-sessions/{session['id']}/").status_code == 404
    response = tina.post(
        "/api/v1/set-logs/",
        {"workout": session["id"], "exercise": training_a.squat.pk, "reps": 5},
        format="json",
    )
    assert response.status_code == 400
    assert "workout" in response.json()["errors"]
    # Another client's id is "does not exist" for a client too.
    other = api_as("cara").post(
        "/api/v1/workout-sessions/", {"client": training_a.crm.ann.pk}, format="json"
    )
    assert other.status_code == 400
    assert "client" in other.json()["errors"]


def test_front_desk_cannot_start_sessions(api_as, training_a: Training):
    response = api_as("desk").post(
        "/api/v1/workout-sessions/", {"client": training_a.crm.cara.pk}, format="json"
    )
    assert response.status_code == 400
    assert "client" in response.json()["errors"]


def test_training_stats(api_as, training_a: Training, scheduled):
    api = api_as("cara")
    session = _start(api, scheduled)
    api.post(
        "/api/v1/set-logs/",
        {"workout": session["id"], "exercise": training_a.squat.pk, "reps": 5, "load": "100"},
        format="json",
    )
    api.post(f"/api/v1/workout-sessions/{session['id']}/complete/", {}, format="json")
    data = api_as("tom").get("/api/v1/training-stats/", {"client": training_a.crm.cara.pk}).json()
    assert data["adherence"][0] == {"days": 7, "completed": 1, "scheduled": 1, "percent": 100.0}
    assert data["weekly_target"] == 3
    assert data["streak_weeks"] in (0, 1)
    (squat,) = data["records"]
    assert squat["best_e1rm"]["value"] == "116.67"
    assert squat["heaviest"]["value"] == "100.00"
    assert data["weekly_volume"][-1]["groups"]
    assert api_as("owner").get("/api/v1/training-stats/").status_code == 400


def _many_sessions(training: Training, count: int) -> None:
    crm = training.crm
    with tenant_context(crm.gym):
        for day in range(count):
            log, _ = services.workout_start(
                actor=crm.owner,
                client=crm.cara,
                performed_on=selectors.gym_today() - timedelta(days=day),
            )
            for _set in range(2):
                services.set_log_create(
                    actor=crm.owner, log=log, exercise=training.squat, reps=5, load=60
                )
            services.cardio_log_create(
                actor=crm.owner, log=log, exercise=training.rower, duration_seconds=300
            )
    connection.set_schema_to_public()


@pytest.mark.parametrize("role", ["owner", "tom", "cara"])
@pytest.mark.parametrize(
    "url", ["/api/v1/workout-sessions/", "/api/v1/set-logs/", "/api/v1/cardio-logs/"]
)
def test_lists_run_a_constant_number_of_queries(
    api_as, training_a: Training, django_assert_max_num_queries, role, url
):
    _many_sessions(training_a, 12)
    api = api_as(role)
    counts = []
    for page_size in (2, 12):
        with django_assert_max_num_queries(10), CaptureQueriesContext(connection) as queries:
            response = api.get(url, {"page_size": page_size})
        assert response.status_code == 200
        assert len(response.json()["results"]) == page_size
        counts.append(len(queries))
    assert counts[0] == counts[1], counts


def test_gym_a_cannot_log_into_or_read_gym_b(training_a: Training, training_b: Training):
    with tenant_context(training_b.crm.gym):
        b_log, _ = services.workout_start(actor=training_b.crm.owner, client=training_b.crm.cara)
    connection.set_schema_to_public()
    session = GymClient(ALPHA.subdomain)
    session.force_login(training_a.crm.owner)
    token = (
        APIClient(HTTP_HOST=ALPHA.host)
        .post(
            "/_allauth/app/v1/auth/login",
            {"email": ALPHA.owner_email, "password": PASSWORD},
            format="json",
        )
        .json()["meta"]["session_token"]
    )
    by_cookie = APIClient(HTTP_HOST=BRAVO.host)
    by_cookie.cookies["sessionid"] = session.cookies["sessionid"].value
    by_token = APIClient(HTTP_HOST=BRAVO.host, HTTP_X_SESSION_TOKEN=token)
    payload = {"workout": b_log.pk, "exercise": training_b.squat.pk, "reps": 5}
    for api in (by_cookie, by_token):
        for method, path in [
            ("get", "/api/v1/workout-sessions/"),
            ("get", f"/api/v1/workout-sessions/{b_log.pk}/"),
            ("post", f"/api/v1/workout-sessions/{b_log.pk}/complete/"),
            ("post", "/api/v1/set-logs/"),
            ("get", f"/api/v1/training-stats/?client={training_b.crm.cara.pk}"),
        ]:
            response = getattr(api, method)(path, payload, format="json")
            assert response.status_code in (401, 403, 404), (method, path, response.status_code)
    # Gym A's own owner, on gym A's host, does not reach gym B's log by its id.
    alpha = APIClient(HTTP_HOST=ALPHA.host)
    alpha.force_authenticate(training_a.crm.owner)
    assert alpha.get(f"/api/v1/workout-sessions/{b_log.pk}/").status_code == 404
    with tenant_context(training_b.crm.gym):
        assert not SetLog.objects.filter(log=b_log).exists()
        assert WorkoutLog.objects.get(pk=b_log.pk).completed_at is None


def test_skipping_a_planned_exercise_through_the_api(api_as, training_a: Training, scheduled):
    api = api_as("cara")
    session = _start(api, scheduled)
    body = {
        "workout": session["id"],
        "exercise": training_a.bench.pk,
        "plan_item": training_a.bench_item.pk,
        "skipped": True,
    }
    first = api.post("/api/v1/set-logs/", body, format="json")
    again = api.post("/api/v1/set-logs/", body, format="json")
    assert first.status_code == again.status_code == 200
    assert first.json()["id"] == again.json()["id"]
    assert first.json()["skipped"] is True
    cardio = api.post(
        "/api/v1/set-logs/",
        {**body, "exercise": training_a.rower.pk, "plan_item": training_a.row_item.pk},
        format="json",
    )
    assert cardio.status_code == 400
    assert "plan_item" in cardio.json()["errors"]


def test_weekly_target_read_by_the_client_set_by_the_trainer(api_as, training_a: Training):
    cara_id = training_a.crm.cara.pk
    assert api_as("cara").get("/api/v1/weekly-targets/", {"client": cara_id}).json() == {
        "client": cara_id,
        "workouts_per_week": 3,
    }
    body = {"client": cara_id, "workouts_per_week": 4}
    response = api_as("tom").put("/api/v1/weekly-targets/", body, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["workouts_per_week"] == 4
    assert api_as("cara").put("/api/v1/weekly-targets/", body, format="json").status_code == 403
    refused = api_as("tina").put("/api/v1/weekly-targets/", body, format="json")
    assert refused.status_code == 400
    assert "client" in refused.json()["errors"]
    zero = api_as("tom").put(
        "/api/v1/weekly-targets/", {**body, "workouts_per_week": 0}, format="json"
    )
    assert "workouts_per_week" in zero.json()["errors"]
