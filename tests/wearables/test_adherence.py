"""Outside workouts count for adherence: a run from Strava that matches a scheduled run completes
it (once, whatever is delivered again), a deleted one takes back only an untouched completion,
and nothing crosses from one gym to another."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django_tenants.utils import tenant_context

from apps.training.models import (
    Exercise,
    PlanItem,
    ScheduledWorkout,
    ScheduledWorkoutStatus,
)
from apps.wearables.models import ExternalWorkout
from apps.wearables.services import adherence
from apps.wearables.services.adherence import (
    completion_uuids,
    exercise_kind,
    outside_workouts_match,
    sport_kind,
)
from apps.workouts import services as workouts
from apps.workouts.models import CardioLog, SetLog, WorkoutLog
from apps.workouts.selectors import client_training_stats
from tests.wearables.conftest import make_client
from tests.wearables.test_strava import connect, post_event
from tests.workouts.conftest import client_plan, plan_day

pytestmark = pytest.mark.django_db

YESTERDAY = datetime.now(UTC).date() - timedelta(days=1)


def scheduled(client, on, *items):  # type: ignore[no-untyped-def]
    """A scheduled workout of `client` on `on` whose day has `items`: (exercise slug, planned
    seconds, planned metres, kind)."""
    plan = client_plan(client)
    day = plan_day(plan)
    for order, (slug, seconds, metres, kind) in enumerate(items, 1):
        PlanItem.objects.create(
            day=day,
            order=order,
            exercise=Exercise.objects.get(slug=slug),
            kind=kind,
            sets=None if kind == "cardio" else 3,
            duration_seconds=seconds,
            distance_m=metres,
        )
    return ScheduledWorkout.objects.create(client=client, plan=plan, day=day, date=on)


def run_5k(client, on):  # type: ignore[no-untyped-def]
    return scheduled(client, on, ("outdoor-run", None, 5000, "cardio"))


def outside(client, on, provider_id="1", **fields):  # type: ignore[no-untyped-def]
    values = {
        "sport": "Run",
        "name": "Morning Run",
        "start_at": datetime.combine(on, time(7), tzinfo=UTC),
        "date": on,
        "time_zone": "Europe/London",
        "duration_seconds": 1800,
        "moving_seconds": 1750,
        "distance_m": Decimal("5012.3"),
        "average_heart_rate": 151,
        **fields,
    }
    return ExternalWorkout.objects.update_or_create(
        client=client, provider="strava", provider_id=provider_id, defaults=values
    )[0]


@pytest.mark.parametrize(
    ("sport", "kind"),
    [
        ("Run", "run"),
        ("TrailRun", "run"),
        ("VirtualRun", "run"),
        ("TRAIL_RUNNING", "run"),
        ("HKWorkoutActivityTypeRunning", "run"),
        ("VirtualRide", "ride"),
        ("INDOOR_CYCLING", "ride"),
        ("Swim", "swim"),
        ("LAP_SWIMMING", "swim"),
        ("Hike", "walk"),
        ("Rowing", "row"),
        ("EBikeRide", None),
        ("WeightTraining", None),
        ("Yoga", None),
    ],
)
def test_provider_sports_map_to_cardio_kinds(sport: str, kind: str | None) -> None:
    assert sport_kind(sport) == kind


@pytest.mark.parametrize(
    ("slug", "kind"),
    [
        ("outdoor-run", "run"),
        ("treadmill-run", "run"),
        ("sprint", "run"),
        ("walk", "walk"),
        ("treadmill-incline-walk", "walk"),
        ("stationary-bike", "ride"),
        ("rowing-machine", "row"),
        ("swimming", "swim"),
        ("elliptical", "elliptical"),
        ("stair-climber", "stairs"),
        ("jump-rope", None),
        ("ski-erg", None),
    ],
)
def test_library_exercises_get_their_kind_from_name_and_aliases(
    in_gym_a, slug: str, kind: str | None
) -> None:
    exercise = Exercise.objects.get(slug=slug)
    assert exercise_kind(name=exercise.name, aliases=exercise.aliases) == kind


def test_a_matching_run_completes_the_scheduled_run_and_adherence_counts_it(
    in_gym_a, owner_a
) -> None:
    _user, client = make_client(in_gym_a, "match@alpha.example")
    planned = run_5k(client, YESTERDAY)
    before = client_training_stats(viewer=owner_a, client=client).adherence[7]
    assert (before.completed, before.scheduled) == (0, 1)

    run = outside(client, YESTERDAY, provider_id="777")
    assert outside_workouts_match(client_id=client.pk).completed == 1

    planned.refresh_from_db()
    assert planned.status == ScheduledWorkoutStatus.COMPLETED
    log = WorkoutLog.objects.get(scheduled_workout=planned)
    assert log.client_uuid == completion_uuids(provider="strava", provider_id="777")[0]
    assert log.is_completed
    assert log.created_by is None
    assert log.performed_on == YESTERDAY
    assert log.started_at == run.start_at
    # The trainer sees where it came from.
    assert log.notes == "Completed from Strava: Morning Run"
    cardio = CardioLog.objects.get(log=log)
    assert (cardio.distance_m, cardio.duration_seconds, cardio.average_heart_rate) == (
        5012,
        1750,
        151,
    )
    assert cardio.plan_item.exercise.slug == "outdoor-run"
    after = client_training_stats(viewer=owner_a, client=client).adherence[7]
    assert (after.completed, after.scheduled) == (1, 1)


@pytest.mark.parametrize(
    ("fields", "why"),
    [
        ({"sport": "Ride"}, "another sport"),
        ({"sport": "WeightTraining"}, "not cardio"),
        ({"date": YESTERDAY - timedelta(days=1)}, "another day"),
        (
            {"distance_m": Decimal("3000"), "duration_seconds": 1000, "moving_seconds": 990},
            "too short",
        ),
        ({"distance_m": Decimal("7000")}, "too long"),
    ],
)
def test_an_outside_workout_that_does_not_match_completes_nothing(
    in_gym_a, fields: dict, why: str
) -> None:
    _user, client = make_client(in_gym_a, "nomatch@alpha.example")
    planned = run_5k(client, YESTERDAY)
    outside(client, YESTERDAY, **fields)
    assert outside_workouts_match(client_id=client.pk).completed == 0, why
    planned.refresh_from_db()
    assert planned.status == ScheduledWorkoutStatus.SCHEDULED
    assert not WorkoutLog.objects.filter(client=client).exists()


def test_duration_within_the_tolerance_matches_when_the_plan_gives_time(in_gym_a) -> None:
    _user, client = make_client(in_gym_a, "minutes@alpha.example")
    ride = scheduled(client, YESTERDAY, ("stationary-bike", 45 * 60, None, "cardio"))
    walk = scheduled(client, YESTERDAY, ("walk", 30 * 60, None, "cardio"))
    # 40 minutes against 45 planned (within 20%), sport VirtualRide against a stationary bike.
    outside(client, YESTERDAY, "r", sport="VirtualRide", duration_seconds=2400, moving_seconds=None)
    # 20 minutes against 30 planned: not within 20%.
    outside(client, YESTERDAY, "w", sport="Walk", duration_seconds=1200, moving_seconds=None)
    assert outside_workouts_match(client_id=client.pk).completed == 1
    ride.refresh_from_db()
    walk.refresh_from_db()
    assert ride.status == ScheduledWorkoutStatus.COMPLETED
    assert walk.status == ScheduledWorkoutStatus.SCHEDULED


def test_a_day_with_strength_work_is_not_a_cardio_workout(in_gym_a) -> None:
    _user, client = make_client(in_gym_a, "mixed@alpha.example")
    planned = scheduled(
        client,
        YESTERDAY,
        ("barbell-back-squat", None, None, "strength"),
        ("outdoor-run", None, 5000, "cardio"),
    )
    outside(client, YESTERDAY)
    assert outside_workouts_match(client_id=client.pk).completed == 0
    planned.refresh_from_db()
    assert planned.status == ScheduledWorkoutStatus.SCHEDULED


def test_other_planned_items_are_recorded_as_skipped(in_gym_a) -> None:
    _user, client = make_client(in_gym_a, "two@alpha.example")
    planned = scheduled(
        client,
        YESTERDAY,
        ("walk", 600, None, "cardio"),
        ("outdoor-run", 1800, None, "cardio"),
    )
    outside(client, YESTERDAY)
    assert outside_workouts_match(client_id=client.pk).completed == 1
    log = WorkoutLog.objects.get(scheduled_workout=planned)
    rows = {c.plan_item.exercise.slug: c.skipped for c in CardioLog.objects.filter(log=log)}
    assert rows == {"walk": True, "outdoor-run": False}


def test_matching_again_or_the_same_workout_delivered_again_adds_nothing(in_gym_a) -> None:
    _user, client = make_client(in_gym_a, "again@alpha.example")
    run_5k(client, YESTERDAY)
    run_5k(client, YESTERDAY)  # a second run planned that day: one outside run completes one
    outside(client, YESTERDAY)
    assert outside_workouts_match(client_id=client.pk).completed == 1
    outside(client, YESTERDAY, name="Renamed")  # re-delivered: updated in place
    assert outside_workouts_match(client_id=client.pk) == adherence.MatchResult()
    assert WorkoutLog.objects.filter(client=client).count() == 1
    assert CardioLog.objects.filter(log__client=client).count() == 1
    statuses = sorted(
        ScheduledWorkout.objects.filter(client=client).values_list("status", flat=True)
    )
    assert sorted(statuses) == ["completed", "scheduled"]


def test_a_workout_the_client_logged_themselves_is_never_completed_for_them(
    in_gym_a, owner_a
) -> None:
    _user, client = make_client(in_gym_a, "own@alpha.example")
    planned = run_5k(client, YESTERDAY)
    own, _created = workouts.workout_start(actor=owner_a, client=client, scheduled_workout=planned)
    outside(client, YESTERDAY)
    assert outside_workouts_match(client_id=client.pk).completed == 0
    assert list(WorkoutLog.objects.filter(client=client)) == [own]
    assert not CardioLog.objects.filter(log=own).exists()


def test_a_deleted_outside_workout_takes_back_only_an_untouched_completion(
    in_gym_a, owner_a
) -> None:
    _user, client = make_client(in_gym_a, "undo@alpha.example")
    untouched = run_5k(client, YESTERDAY)
    edited = run_5k(client, YESTERDAY - timedelta(days=1))
    outside(client, YESTERDAY, "a")
    outside(client, YESTERDAY - timedelta(days=1), "b")
    assert outside_workouts_match(client_id=client.pk).completed == 2
    kept = WorkoutLog.objects.get(scheduled_workout=edited)
    workouts.workout_update(actor=owner_a, log=kept, perceived_effort=7)

    ExternalWorkout.objects.filter(client=client).delete()
    assert outside_workouts_match(client_id=client.pk).removed == 1
    untouched.refresh_from_db()
    edited.refresh_from_db()
    assert untouched.status == ScheduledWorkoutStatus.SCHEDULED
    assert not WorkoutLog.objects.filter(scheduled_workout=untouched).exists()
    assert edited.status == ScheduledWorkoutStatus.COMPLETED
    assert WorkoutLog.objects.filter(pk=kept.pk).exists()


@pytest.mark.parametrize("change", ["cardio", "set added", "cardio deleted"])
def test_any_change_by_a_person_keeps_the_completion(in_gym_a, owner_a, change: str) -> None:
    _user, client = make_client(in_gym_a, f"touch-{change.replace(' ', '-')}@alpha.example")
    planned = scheduled(
        client, YESTERDAY, ("walk", 600, None, "cardio"), ("outdoor-run", None, 5000, "cardio")
    )
    outside(client, YESTERDAY)
    outside_workouts_match(client_id=client.pk)
    log = WorkoutLog.objects.get(scheduled_workout=planned)
    run = CardioLog.objects.get(log=log, skipped=False)
    if change == "cardio":
        workouts.cardio_log_update(actor=owner_a, cardio=run, average_heart_rate=160)
    elif change == "set added":
        SetLog.objects.create(
            log=log, exercise=Exercise.objects.get(slug="barbell-back-squat"), set_number=1, reps=5
        )
    else:
        workouts.cardio_log_delete(actor=owner_a, cardio=run)
    ExternalWorkout.objects.filter(client=client).delete()
    assert outside_workouts_match(client_id=client.pk).removed == 0
    assert WorkoutLog.objects.filter(pk=log.pk).exists()


def test_a_completion_a_person_deleted_is_not_made_again(in_gym_a, owner_a) -> None:
    _user, client = make_client(in_gym_a, "notthatone@alpha.example")
    planned = run_5k(client, YESTERDAY)
    outside(client, YESTERDAY)
    outside_workouts_match(client_id=client.pk)
    workouts.workout_delete(actor=owner_a, log=WorkoutLog.objects.get(scheduled_workout=planned))
    outside(client, YESTERDAY, name="Synced again")
    assert outside_workouts_match(client_id=client.pk).completed == 0
    planned.refresh_from_db()
    assert planned.status == ScheduledWorkoutStatus.SCHEDULED


def test_matching_runs_a_bounded_number_of_queries(in_gym_a, django_assert_max_num_queries) -> None:
    _user, client = make_client(in_gym_a, "queries@alpha.example")
    for days in range(1, 21):
        on = YESTERDAY - timedelta(days=days)
        run_5k(client, on)
        outside(client, on, str(days), sport="Ride")  # 20 that match nothing
    with django_assert_max_num_queries(10):
        assert outside_workouts_match(client_id=client.pk).completed == 0


# --- Through Strava ---------------------------------------------------------------------------


def _local_day(activity: dict) -> date:
    start = datetime.fromisoformat(activity["start_date"].replace("Z", "+00:00"))
    return start.astimezone(ZoneInfo("Europe/London")).date()


def test_strava_events_complete_once_and_a_delete_event_takes_it_back(
    gym_a, public_client, fake_strava, django_capture_on_commit_callbacks
) -> None:
    _user, client = make_client(gym_a, "strava-adh@alpha.example")
    athlete = fake_strava.add_athlete()
    connect(gym_a, client, fake_strava, django_capture_on_commit_callbacks)
    activity = fake_strava.add_activity(athlete, days_ago=0.5)
    with tenant_context(gym_a):
        planned = run_5k(client, _local_day(activity))
    create = fake_strava.event("activity", activity["id"], "create", owner_id=athlete)
    update = fake_strava.event("activity", activity["id"], "update", owner_id=athlete)
    for event in (create, update, create):
        post_event(public_client, event, django_capture_on_commit_callbacks)
    with tenant_context(gym_a):
        planned.refresh_from_db()
        assert planned.status == ScheduledWorkoutStatus.COMPLETED
        assert WorkoutLog.objects.filter(client=client).count() == 1

    del fake_strava.athletes[athlete][activity["id"]]
    delete = fake_strava.event("activity", activity["id"], "delete", owner_id=athlete)
    post_event(public_client, delete, django_capture_on_commit_callbacks)
    with tenant_context(gym_a):
        planned.refresh_from_db()
        assert planned.status == ScheduledWorkoutStatus.SCHEDULED
        assert not WorkoutLog.objects.filter(client=client).exists()


def test_the_backfill_on_connect_completes_past_scheduled_runs(
    gym_a, fake_strava, django_capture_on_commit_callbacks
) -> None:
    _user, client = make_client(gym_a, "backfill-adh@alpha.example")
    athlete = fake_strava.add_athlete()
    activity = fake_strava.add_activity(athlete, days_ago=10)
    with tenant_context(gym_a):
        planned = run_5k(client, _local_day(activity))
    connect(gym_a, client, fake_strava, django_capture_on_commit_callbacks)
    with tenant_context(gym_a):
        planned.refresh_from_db()
        assert planned.status == ScheduledWorkoutStatus.COMPLETED


def test_gym_a_outside_workouts_never_complete_gym_b_workouts(
    gym_a, gym_b, public_client, fake_strava, django_capture_on_commit_callbacks
) -> None:
    _u, client_of_a = make_client(gym_a, "iso-a@alpha.example")
    athlete_a = fake_strava.add_athlete()
    connect(gym_a, client_of_a, fake_strava, django_capture_on_commit_callbacks)
    _u, client_of_b = make_client(gym_b, "iso-b@bravo.example")
    fake_strava.add_athlete()
    connect(gym_b, client_of_b, fake_strava, django_capture_on_commit_callbacks)
    activity = fake_strava.add_activity(athlete_a, days_ago=0.5)
    on = _local_day(activity)
    with tenant_context(gym_a):
        planned_a = run_5k(client_of_a, on)
    with tenant_context(gym_b):
        planned_b = run_5k(client_of_b, on)

    event = fake_strava.event("activity", activity["id"], "create", owner_id=athlete_a)
    post_event(public_client, event, django_capture_on_commit_callbacks)
    with tenant_context(gym_a):
        planned_a.refresh_from_db()
        assert planned_a.status == ScheduledWorkoutStatus.COMPLETED
    with tenant_context(gym_b):
        planned_b.refresh_from_db()
        assert planned_b.status == ScheduledWorkoutStatus.SCHEDULED
        assert not WorkoutLog.objects.filter(client=client_of_b).exists()
        # Matching gym B's client with the same ids finds nothing of gym A's.
        assert outside_workouts_match(client_id=client_of_b.pk).completed == 0
