"""Logging workouts: who may log, idempotency, units, skipped exercises, completion."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.audit.models import AuditEvent
from apps.training.models import ScheduledWorkout
from apps.workouts import services
from apps.workouts.models import CardioLog, SetLog, WeeklyTarget, WorkoutLog
from apps.workouts.selectors import gym_today
from tests.workouts.conftest import Training, schedule


@pytest.fixture
def gym(training_a: Training):
    with tenant_context(training_a.crm.gym):
        yield training_a


def _start(t: Training, actor=None):
    scheduled = schedule(t.crm.cara, gym_today(), day=t.day)
    log, created = services.workout_start(
        actor=actor or t.crm.cara_user, client=t.crm.cara, scheduled_workout=scheduled
    )
    assert created
    return log


def test_completing_records_unlogged_exercises_as_skipped(gym: Training):
    log = _start(gym)
    services.set_log_create(
        actor=gym.crm.cara_user,
        log=log,
        exercise=gym.squat,
        plan_item=gym.squat_item,
        reps=5,
        load=100,
        load_unit="kg",
    )

    services.workout_complete(actor=gym.crm.cara_user, log=log, perceived_effort=7)

    log.refresh_from_db()
    assert log.is_completed
    assert log.perceived_effort == 7
    skipped_sets = SetLog.objects.filter(log=log, skipped=True)
    assert [s.plan_item_id for s in skipped_sets] == [gym.bench_item.pk]
    assert CardioLog.objects.get(log=log).skipped
    assert CardioLog.objects.get(log=log).plan_item == gym.row_item
    assert not SetLog.objects.get(log=log, plan_item=gym.squat_item).skipped
    assert ScheduledWorkout.objects.get(pk=log.scheduled_workout_id).status == "completed"
    assert AuditEvent.objects.filter(action="workout.completed", object_id=str(log.pk)).exists()
    # Completing again adds nothing.
    services.workout_complete(actor=gym.crm.cara_user, log=log)
    assert SetLog.objects.filter(log=log).count() == 2


def test_starting_a_scheduled_workout_twice_reopens_it(gym: Training):
    log = _start(gym)
    again, created = services.workout_start(
        actor=gym.crm.cara_user, client=gym.crm.cara, scheduled_workout=log.scheduled_workout
    )
    assert (again, created) == (log, False)


def test_set_logging_is_idempotent_on_the_client_uuid(gym: Training):
    log = _start(gym)
    key = uuid.uuid4()
    first, created = services.set_log_create(
        actor=gym.crm.cara_user, log=log, exercise=gym.squat, reps=5, load=100, client_uuid=key
    )
    again, created_again = services.set_log_create(
        actor=gym.crm.cara_user, log=log, exercise=gym.squat, reps=5, load=100, client_uuid=key
    )
    assert created
    assert not created_again
    assert again.pk == first.pk
    assert SetLog.objects.filter(log=log).count() == 1


def test_a_client_uuid_from_another_workout_is_refused(gym: Training):
    log = _start(gym)
    other, _ = services.workout_start(actor=gym.crm.cara_user, client=gym.crm.cara)
    key = uuid.uuid4()
    services.set_log_create(
        actor=gym.crm.cara_user, log=log, exercise=gym.squat, reps=5, client_uuid=key
    )
    with pytest.raises(ValidationError) as error:
        services.set_log_create(
            actor=gym.crm.cara_user, log=other, exercise=gym.squat, reps=5, client_uuid=key
        )
    assert "client_uuid" in error.value.message_dict


def test_set_numbers_follow_on(gym: Training):
    log = _start(gym)
    for _ in range(3):
        services.set_log_create(
            actor=gym.crm.cara_user, log=log, exercise=gym.squat, plan_item=gym.squat_item, reps=5
        )
    numbers = SetLog.objects.filter(log=log).values_list("set_number", flat=True)
    assert sorted(numbers) == [1, 2, 3]


def test_pounds_are_stored_in_kilograms(gym: Training):
    log = _start(gym)
    lifted, _ = services.set_log_create(
        actor=gym.crm.cara_user, log=log, exercise=gym.squat, reps=5, load=225, load_unit="lb"
    )
    assert lifted.load_kg == Decimal("102.06")


def test_the_users_unit_system_is_the_default_unit(gym: Training):
    log = _start(gym)
    user = gym.crm.cara_user
    metric, _ = services.set_log_create(actor=user, log=log, exercise=gym.squat, reps=5, load=100)
    assert metric.load_kg == Decimal("100.00")
    user.unit_system = "imperial"  # User.unit_system is read with getattr, metric by default
    imperial, _ = services.set_log_create(actor=user, log=log, exercise=gym.squat, reps=5, load=100)
    assert imperial.load_kg == Decimal("45.36")


def test_skipping_and_then_logging_keeps_the_set(gym: Training):
    log = _start(gym)
    services.exercise_skip(actor=gym.crm.cara_user, log=log, plan_item=gym.bench_item)
    assert SetLog.objects.get(log=log, plan_item=gym.bench_item).skipped
    services.set_log_create(
        actor=gym.crm.cara_user, log=log, exercise=gym.bench, plan_item=gym.bench_item, reps=8
    )
    rows = list(SetLog.objects.filter(log=log, plan_item=gym.bench_item))
    assert [(r.set_number, r.skipped) for r in rows] == [(1, False)]


def test_plan_item_must_belong_to_the_workout(gym: Training):
    log, _ = services.workout_start(actor=gym.crm.cara_user, client=gym.crm.cara)
    with pytest.raises(ValidationError) as error:
        services.set_log_create(
            actor=gym.crm.cara_user, log=log, exercise=gym.squat, plan_item=gym.squat_item, reps=5
        )
    assert "plan_item" in error.value.message_dict


def test_rpe_in_half_points_and_rir_in_range(gym: Training):
    log = _start(gym)
    ok, _ = services.set_log_create(
        actor=gym.crm.cara_user, log=log, exercise=gym.squat, reps=5, rpe=Decimal("8.5")
    )
    assert ok.rpe == Decimal("8.5")
    with pytest.raises(ValidationError) as error:
        services.set_log_create(
            actor=gym.crm.cara_user, log=log, exercise=gym.squat, reps=5, rpe=Decimal("8.3")
        )
    assert "rpe" in error.value.message_dict
    with pytest.raises(ValidationError):
        services.set_log_create(
            actor=gym.crm.cara_user, log=log, exercise=gym.squat, reps=5, rir=11
        )


def test_database_checks_the_ranges(gym: Training):
    log = _start(gym)
    bad_rows = [
        lambda: SetLog.objects.create(
            log=log, exercise=gym.squat, set_number=1, reps=5, rpe=Decimal("7.3")
        ),
        lambda: SetLog.objects.create(log=log, exercise=gym.squat, set_number=2, reps=5, rir=12),
        lambda: SetLog.objects.create(log=log, exercise=gym.squat, set_number=3),
        lambda: SetLog.objects.create(log=log, exercise=gym.squat, set_number=0, reps=5),
        lambda: CardioLog.objects.create(
            log=log, exercise=gym.rower, average_heart_rate=300, duration_seconds=60
        ),
        lambda: CardioLog.objects.create(log=log, exercise=gym.rower),
        lambda: WorkoutLog.objects.filter(pk=log.pk).update(perceived_effort=11),
        lambda: WeeklyTarget.objects.create(client=gym.crm.cara, workouts_per_week=0),
    ]
    for make in bad_rows:
        with pytest.raises(IntegrityError), transaction.atomic():
            make()


def test_who_may_log_for_a_client(gym: Training):
    crm = gym.crm
    for outsider in (crm.desk, crm.tina.user):  # front desk; a trainer who is not Cara's
        with pytest.raises(PermissionDenied):
            services.workout_start(actor=outsider, client=crm.cara)
    for allowed in (crm.owner, crm.manager, crm.tom.user, crm.cara_user):
        log, created = services.workout_start(actor=allowed, client=crm.cara)
        assert created
        assert log.created_by == allowed
    log = WorkoutLog.objects.filter(client=crm.cara).first()
    with pytest.raises(PermissionDenied):
        services.set_log_create(actor=crm.tina.user, log=log, exercise=gym.squat, reps=5)
    # A client logs only for themselves.
    with pytest.raises(PermissionDenied):
        services.workout_start(actor=crm.cara_user, client=crm.ann)


def test_deleting_a_completed_workout_reschedules_it(gym: Training):
    log = _start(gym)
    services.workout_complete(actor=gym.crm.cara_user, log=log)
    services.workout_delete(actor=gym.crm.tom.user, log=log)
    assert ScheduledWorkout.objects.get(day=gym.day).status == "scheduled"
    assert not WorkoutLog.objects.filter(pk=log.pk).exists()


def test_set_corrections_are_audited(gym: Training):
    log = _start(gym)
    lifted, _ = services.set_log_create(
        actor=gym.crm.cara_user, log=log, exercise=gym.squat, reps=5, load=100
    )
    services.set_log_update(
        actor=gym.crm.tom.user, set_log=lifted, reps=6, load=220, load_unit="lb"
    )
    lifted.refresh_from_db()
    assert (lifted.reps, lifted.load_kg) == (6, Decimal("99.79"))
    event = AuditEvent.objects.get(action="workout.set_updated")
    assert event.changes["reps"] == {"before": 5, "after": 6}
    services.set_log_delete(actor=gym.crm.tom.user, set_log=lifted)
    assert AuditEvent.objects.filter(action="workout.set_deleted").exists()


def test_weekly_target_is_set_by_trainers_not_clients(gym: Training):
    crm = gym.crm
    target = services.weekly_target_set(actor=crm.tom.user, client=crm.cara, workouts_per_week=4)
    assert target.workouts_per_week == 4
    with pytest.raises(PermissionDenied):
        services.weekly_target_set(actor=crm.cara_user, client=crm.cara, workouts_per_week=5)
    with pytest.raises(PermissionDenied):
        services.weekly_target_set(actor=crm.tina.user, client=crm.cara, workouts_per_week=5)
    with pytest.raises(ValidationError):
        services.weekly_target_set(actor=crm.tom.user, client=crm.cara, workouts_per_week=0)


def test_cardio_logging(gym: Training):
    log = _start(gym)
    key = uuid.uuid4()
    bout, created = services.cardio_log_create(
        actor=gym.crm.cara_user,
        log=log,
        exercise=gym.rower,
        plan_item=gym.row_item,
        duration_seconds=600,
        distance_m=2400,
        average_heart_rate=150,
        client_uuid=key,
    )
    again, created_again = services.cardio_log_create(
        actor=gym.crm.cara_user, log=log, exercise=gym.rower, duration_seconds=600, client_uuid=key
    )
    assert created
    assert not created_again
    assert again.pk == bout.pk
    with pytest.raises(ValidationError):
        services.cardio_log_create(actor=gym.crm.cara_user, log=log, exercise=gym.rower)
    assert log.started_at <= timezone.now()
