"""The demo gym's timetable and training (apps.scheduling.demo, apps.training.demo), seeded by
`seed_demo`: realistic, consistent with the rules the services keep, and added once only."""

from __future__ import annotations

import io
from collections import defaultdict
from itertools import pairwise

import pytest
from django.core.management import call_command
from django.db.models import Count, F, Q
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.accounts.models import User
from apps.audit.models import AuditEvent
from apps.crm.models import Assignment, Client
from apps.progress.models import BodyMeasurement
from apps.scheduling.models import (
    SPOT_STATUSES,
    Appointment,
    AppointmentStatus,
    Availability,
    ClassBooking,
    ClassBookingStatus,
    ClassOccurrence,
    Room,
    Strike,
)
from apps.scheduling.policies.selectors import client_block_state
from apps.scheduling.portal.selectors import (
    client_upcoming_appointments,
    client_upcoming_class_bookings,
)
from apps.tenants.models import Gym
from apps.training.models import ScheduledWorkout, ScheduledWorkoutStatus, WorkoutPlan
from apps.training.services import day_date
from apps.workouts.models import CardioLog, SetLog, WorkoutLog
from apps.workouts.selectors import client_training_stats, gym_today, needs_attention_list

COUNTED = (
    Room,
    Availability,
    ClassOccurrence,
    ClassBooking,
    Appointment,
    Strike,
    WorkoutPlan,
    ScheduledWorkout,
    WorkoutLog,
    SetLog,
    CardioLog,
    BodyMeasurement,
    AuditEvent,
)


def _snapshot() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in COUNTED}


@pytest.fixture
def demo_gym(db: None) -> Gym:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    assert "Demo schedule:" in out.getvalue()
    assert "Demo training:" in out.getvalue()
    return Gym.objects.get(subdomain="demo")


def _check_classes(now) -> None:
    assert Room.objects.count() == 3
    assert Availability.objects.values("trainer").distinct().count() == 5
    assert ClassOccurrence.objects.filter(starts_at__lt=now).count() > 20
    assert ClassOccurrence.objects.filter(starts_at__gt=now).count() > 20
    taken = ClassOccurrence.objects.annotate(
        taken=Count("bookings", filter=Q(bookings__status__in=SPOT_STATUSES))
    )
    assert not taken.filter(taken__gt=F("capacity")).exists()
    assert taken.filter(taken=F("capacity")).exists()  # some classes are full
    queues: dict[int, list[int]] = defaultdict(list)
    for occurrence_id, position in ClassBooking.objects.filter(
        status=ClassBookingStatus.WAITLISTED
    ).values_list("occurrence_id", "waitlist_position"):
        queues[occurrence_id].append(position)
    assert queues
    for positions in queues.values():
        assert sorted(positions) == list(range(1, len(positions) + 1))
    # Waitlists only where the class is full.
    for occurrence in taken.filter(pk__in=list(queues)):
        assert occurrence.taken == occurrence.capacity
    past = ClassBooking.objects.filter(occurrence__starts_at__lt=now)
    statuses = set(past.values_list("status", flat=True))
    assert {ClassBookingStatus.ATTENDED, ClassBookingStatus.NO_SHOW} <= statuses
    assert ClassBookingStatus.LATE_CANCELLED in statuses
    assert not past.filter(
        status__in=(ClassBookingStatus.BOOKED, ClassBookingStatus.WAITLISTED)
    ).exists()
    assert not ClassBooking.objects.filter(
        occurrence__starts_at__gt=now,
        status__in=(ClassBookingStatus.ATTENDED, ClassBookingStatus.NO_SHOW),
    ).exists()


def _check_appointments(now) -> None:
    past = Appointment.objects.filter(ends_at__lte=now)
    assert {
        AppointmentStatus.COMPLETED,
        AppointmentStatus.NO_SHOW,
        AppointmentStatus.CANCELLED,
    } <= set(past.values_list("status", flat=True))
    assert not past.filter(status=AppointmentStatus.BOOKED).exists()
    upcoming = Appointment.objects.filter(starts_at__gt=now)
    assert upcoming.filter(status=AppointmentStatus.BOOKED).count() > 20
    assert not upcoming.filter(
        status__in=(AppointmentStatus.COMPLETED, AppointmentStatus.NO_SHOW)
    ).exists()
    # 1:1 sessions are with the trainer's own clients.
    for appointment in Appointment.objects.all():
        assert Assignment.objects.filter(
            trainer_id=appointment.trainer_id, client_id=appointment.client_id, ends_on=None
        ).exists()
    # Nobody is in two places at once: a client's sessions and classes never overlap.
    busy: dict[int, list[tuple]] = defaultdict(list)
    for client_id, start, end in Appointment.objects.filter(
        status__in=(AppointmentStatus.BOOKED, AppointmentStatus.COMPLETED)
    ).values_list("client_id", "starts_at", "ends_at"):
        busy[client_id].append((start, end))
    for client_id, start, end in ClassBooking.objects.filter(status__in=SPOT_STATUSES).values_list(
        "client_id", "occurrence__starts_at", "occurrence__ends_at"
    ):
        busy[client_id].append((start, end))
    for intervals in busy.values():
        intervals.sort()
        assert all(a[1] <= b[0] for a, b in pairwise(intervals))
    # Strikes exist, from no-shows and late cancels, and nobody starts out blocked.
    assert Strike.objects.filter(kind="no_show").exists()
    assert Strike.objects.filter(kind="late_cancel").exists()
    for client in Client.objects.filter(pk__in=Strike.objects.values("client_id")):
        assert not client_block_state(client=client).is_blocked


def _check_demo_client(now) -> None:
    client = Client.objects.get(email="client@demo.example")
    bookings = client_upcoming_class_bookings(client=client)
    assert len([b for b in bookings if b.status == ClassBookingStatus.BOOKED]) >= 2
    appointments = list(client_upcoming_appointments(viewer=client.user))
    assert len(appointments) >= 1
    assert AuditEvent.objects.filter(
        action="class_booking.created", actor=client.user
    ).count() == len(bookings)
    assert not Strike.objects.filter(client=client).exists()
    assert WorkoutPlan.objects.filter(client=client, is_template=False).exists()
    assert BodyMeasurement.objects.filter(client=client).count() >= 6


def _check_training() -> None:
    today = gym_today()
    assert WorkoutPlan.objects.filter(is_template=True).count() == 3
    plans = WorkoutPlan.objects.filter(is_template=False).select_related("client")
    assert plans.count() == 25
    assert all(plan.start_date < today for plan in plans)
    # Backdated plans: every workout still sits on its plan day's date.
    for workout in ScheduledWorkout.objects.select_related("plan", "day__week"):
        assert workout.date == day_date(
            workout.plan.start_date, workout.day.week.number, workout.day.offset
        )
    assert ScheduledWorkout.objects.filter(date__gte=today).exists()
    # Completed workouts have a completed log, and only they do; nothing logged ahead.
    completed = ScheduledWorkout.objects.filter(status=ScheduledWorkoutStatus.COMPLETED)
    assert completed.count() == WorkoutLog.objects.filter(completed_at__isnull=False).count()
    assert not completed.filter(logs__isnull=True).exists()
    assert not WorkoutLog.objects.filter(performed_on__gte=today).exists()
    assert not ScheduledWorkout.objects.filter(
        date__gte=today, status=ScheduledWorkoutStatus.COMPLETED
    ).exists()
    # Every planned item of a completed workout was logged or recorded as skipped.
    for log in WorkoutLog.objects.select_related("scheduled_workout__day")[:40]:
        planned = set(log.scheduled_workout.day.items.values_list("pk", flat=True))
        logged = set(log.sets.values_list("plan_item_id", flat=True)) | set(
            log.cardio.values_list("plan_item_id", flat=True)
        )
        assert planned == logged
    assert CardioLog.objects.filter(skipped=False).exists()
    total = ScheduledWorkout.objects.filter(date__lt=today).count()
    assert 0.6 < completed.count() / total < 0.9  # about 80% for most, some dropping


def test_seed_demo_adds_a_timetable_and_training_once(demo_gym):
    with tenant_context(demo_gym):
        now = timezone.now()
        _check_classes(now)
        _check_appointments(now)
        _check_demo_client(now)
        _check_training()

        trainer = User.objects.get(email="trainer@demo.example")
        flagged = needs_attention_list(viewer=trainer)
        assert 3 <= len(flagged) <= 5
        for row in flagged:
            assert row.adherence_30.ratio is not None
            assert row.adherence_90.ratio - row.adherence_30.ratio >= 0.2
            assert Assignment.objects.filter(
                trainer__user=trainer, client=row.client, ends_on=None
            ).exists()
        # A dropping client's stats say the same, and their loads went up: records exist.
        owner = User.objects.get(email="owner@demo.example")
        stats = client_training_stats(viewer=owner, client=flagged[0].client)
        assert stats.needs_attention
        squat = next(s for s in stats.exercises if s.exercise.slug == "barbell-back-squat")
        first = (
            SetLog.objects.filter(log__client=flagged[0].client, exercise=squat.exercise)
            .order_by("log__performed_on")
            .first()
        )
        assert squat.records.heaviest.value > first.load_kg

        measured = BodyMeasurement.objects.values("client").distinct().count()
        assert measured == 15
        before = _snapshot()

    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    with tenant_context(demo_gym):
        assert _snapshot() == before
