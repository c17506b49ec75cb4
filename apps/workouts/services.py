"""Writes of workout logging. Who may log for a client: the client themselves, their current
trainers, owners and managers (apps.workouts.selectors.can_train). Every service is atomic and
raises ValidationError naming the field on bad input.

Audit events: starting, completing, changing and deleting a workout, correcting or deleting a
set, and weekly targets are audited. Logging a set or a bout of cardio is not: a workout logs
dozens of them, and the workout's own events already say who logged it and when.
"""

from __future__ import annotations

import uuid
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.models import Role, User
from apps.accounts.roles import has_role, is_management
from apps.audit.services import audit_record, changes_between
from apps.core.constraints import as_field_error
from apps.core.services import check_fields_allowed, model_save, snapshot
from apps.crm.models import Client
from apps.training.models import (
    Exercise,
    ItemKind,
    PlanItem,
    ScheduledWorkout,
    ScheduledWorkoutStatus,
)
from apps.workouts import metrics
from apps.workouts.models import CardioLog, SetLog, WeeklyTarget, WorkoutLog
from apps.workouts.selectors import can_train, gym_today

LOAD_UNITS = ("kg", "lb")
SET_FIELDS = ("reps", "load_kg", "duration_seconds", "rpe", "rir", "skipped")
CARDIO_FIELDS = ("duration_seconds", "distance_m", "average_heart_rate", "skipped")


def preferred_load_unit(user: Any) -> str:
    """The load unit `user` prefers: lb for imperial units, else kg. User.unit_system is
    optional (read with a metric default)."""
    return "lb" if getattr(user, "unit_system", "metric") == "imperial" else "kg"


def _check_can_train(actor: User, client: Client) -> None:
    if not can_train(viewer=actor, client=client):
        raise PermissionDenied(_("You cannot log workouts for this client."))


def _load_in_kg(load: Any, unit: str | None, actor: User) -> Decimal | None:
    if load is None or load == "":
        return None
    unit = unit or preferred_load_unit(actor)
    if unit not in LOAD_UNITS:
        raise ValidationError({"load_unit": [_("Choose kg or lb.")]})
    try:
        value = Decimal(str(load))
    except InvalidOperation:
        raise ValidationError({"load": [_("Enter a number.")]}) from None
    if value < 0:
        raise ValidationError({"load": [_("A load cannot be negative.")]})
    return metrics.to_kg(value, unit)


def _save(instance: Any) -> None:
    model_save(instance, exclude=["client_uuid"] if instance.client_uuid is None else None)


# --- Workouts ---------------------------------------------------------------------------------


@transaction.atomic
def workout_start(
    *,
    actor: User,
    client: Client,
    scheduled_workout: ScheduledWorkout | None = None,
    performed_on: Any = None,
    client_uuid: uuid.UUID | None = None,
) -> tuple[WorkoutLog, bool]:
    """Open a workout log, of a scheduled workout or free. Starting a scheduled workout that
    already has a log, or resending a `client_uuid`, returns that log: (log, created)."""
    _check_can_train(actor, client)
    if client_uuid is not None:
        existing = WorkoutLog.objects.filter(client_uuid=client_uuid).first()
        if existing is not None:
            if existing.client_id != client.pk:
                raise ValidationError({"client_uuid": [_("This id was used for another workout.")]})
            return existing, False
    if scheduled_workout is not None:
        if scheduled_workout.client_id != client.pk:
            raise ValidationError(
                {"scheduled_workout": [_("This workout is not on this client's schedule.")]}
            )
        existing = WorkoutLog.objects.filter(scheduled_workout=scheduled_workout).first()
        if existing is not None:
            return existing, False
    log = WorkoutLog(
        client=client,
        scheduled_workout=scheduled_workout,
        performed_on=performed_on or gym_today(),
        started_at=timezone.now(),
        client_uuid=client_uuid,
        created_by=actor,
    )
    _save(log)
    audit_record(
        action="workout.started",
        actor=actor,
        obj=log,
        changes={"client": {"before": None, "after": client.pk}},
    )
    return log, True


@transaction.atomic
def workout_update(*, actor: User, log: WorkoutLog, **fields: Any) -> WorkoutLog:
    """Change a log's notes, perceived effort or date."""
    _check_can_train(actor, log.client)
    allowed = {"notes", "perceived_effort", "performed_on"}
    check_fields_allowed(fields, allowed)
    before = snapshot(log, tuple(fields))
    for name, value in fields.items():
        setattr(log, name, value)
    _save(log)
    changes = changes_between(before, snapshot(log, tuple(fields)))
    if changes:
        audit_record(action="workout.updated", actor=actor, obj=log, changes=changes)
    return log


@transaction.atomic
def workout_delete(*, actor: User, log: WorkoutLog) -> None:
    """Delete a log started by mistake. Its scheduled workout goes back to scheduled."""
    _check_can_train(actor, log.client)
    if log.scheduled_workout_id is not None:
        ScheduledWorkout.objects.filter(
            pk=log.scheduled_workout_id, status=ScheduledWorkoutStatus.COMPLETED
        ).update(status=ScheduledWorkoutStatus.SCHEDULED, updated_at=timezone.now())
    audit_record(action="workout.deleted", actor=actor, obj=log)
    log.delete()


def _logged_item_ids(log: WorkoutLog) -> set[int]:
    return set(
        SetLog.objects.filter(log=log, plan_item__isnull=False).values_list(
            "plan_item_id", flat=True
        )
    ) | set(
        CardioLog.objects.filter(log=log, plan_item__isnull=False).values_list(
            "plan_item_id", flat=True
        )
    )


def _record_skipped(log: WorkoutLog, item: PlanItem) -> None:
    if item.kind == ItemKind.CARDIO:
        CardioLog.objects.create(
            log=log, exercise_id=item.exercise_id, plan_item=item, skipped=True
        )
    else:
        SetLog.objects.create(
            log=log, exercise_id=item.exercise_id, plan_item=item, set_number=1, skipped=True
        )


@transaction.atomic
def workout_complete(
    *,
    actor: User,
    log: WorkoutLog,
    perceived_effort: int | None = None,
    notes: str | None = None,
) -> WorkoutLog:
    """Finish a workout: planned exercises with nothing logged are recorded as skipped, and the
    scheduled workout is marked completed. Completing twice changes nothing more."""
    _check_can_train(actor, log.client)
    log = (
        WorkoutLog.objects.select_for_update(of=("self",))
        .select_related("scheduled_workout", "client")
        .get(pk=log.pk)
    )
    if perceived_effort is not None:
        log.perceived_effort = perceived_effort
    if notes is not None:
        log.notes = notes
    skipped: list[int] = []
    first_time = not log.is_completed
    if first_time:
        if log.scheduled_workout_id is not None:
            logged = _logged_item_ids(log)
            for item in PlanItem.objects.filter(day_id=log.scheduled_workout.day_id).order_by(
                "order"
            ):
                if item.pk not in logged:
                    _record_skipped(log, item)
                    skipped.append(item.pk)
            ScheduledWorkout.objects.filter(pk=log.scheduled_workout_id).update(
                status=ScheduledWorkoutStatus.COMPLETED, updated_at=timezone.now()
            )
        log.completed_at = max(timezone.now(), log.started_at)
    _save(log)
    if first_time:
        audit_record(
            action="workout.completed",
            actor=actor,
            obj=log,
            changes={"skipped_plan_items": {"before": None, "after": skipped}},
        )
    return log


# --- Sets -------------------------------------------------------------------------------------

# Sets and cardio are validated field by field only (validate_constraints=False): each check
# constraint of SetLog and CardioLog has a field validator saying the same, "done or skipped" is
# checked before, and the set number's uniqueness is the database's, reported as a field error
# (apps.core.constraints). Validating the constraints again would cost a query each.


def _check_exercise(log: WorkoutLog, exercise: Exercise, plan_item: PlanItem | None) -> None:
    if plan_item is None:
        return
    if log.scheduled_workout_id is None or plan_item.day_id != log.scheduled_workout.day_id:
        raise ValidationError({"plan_item": [_("This exercise is not in this workout's plan.")]})
    if plan_item.exercise_id != exercise.pk:
        raise ValidationError({"exercise": [_("The plan has another exercise here.")]})


def _replay(model: type[Any], client_uuid: uuid.UUID | None, log: WorkoutLog) -> Any:
    """The row a retried request already made, or None."""
    if client_uuid is None:
        return None
    existing = model.objects.filter(client_uuid=client_uuid).first()
    if existing is not None and existing.log_id != log.pk:
        raise ValidationError({"client_uuid": [_("This id was used in another workout.")]})
    return existing


@transaction.atomic
def set_log_create(
    *,
    actor: User,
    log: WorkoutLog,
    exercise: Exercise,
    plan_item: PlanItem | None = None,
    set_number: int | None = None,
    reps: int | None = None,
    load: Any = None,
    load_unit: str | None = None,
    duration_seconds: int | None = None,
    rpe: Decimal | None = None,
    rir: int | None = None,
    skipped: bool = False,
    client_uuid: uuid.UUID | None = None,
) -> tuple[SetLog, bool]:
    """Log one set; `load` is in `load_unit` (default: the actor's preferred unit) and stored in
    kg. A request resent with the same `client_uuid` returns the first set: (set, created)."""
    _check_can_train(actor, log.client)
    existing = _replay(SetLog, client_uuid, log)
    if existing is not None:
        return existing, False
    _check_exercise(log, exercise, plan_item)
    if set_number is None:
        # Serialise numbering per workout: two sets sent at once get 1 and 2, not 1 and 1.
        WorkoutLog.objects.select_for_update().filter(pk=log.pk).first()
        done = SetLog.objects.filter(
            log=log, exercise=exercise, plan_item=plan_item, skipped=False
        ).aggregate(last=Max("set_number"))["last"]
        set_number = (done or 0) + 1
    if not skipped:
        # A set done replaces the "skipped" mark of its exercise.
        SetLog.objects.filter(
            log=log, exercise=exercise, plan_item=plan_item, skipped=True
        ).delete()
    set_log = SetLog(
        log=log,
        exercise=exercise,
        plan_item=plan_item,
        set_number=set_number,
        reps=reps,
        load_kg=_load_in_kg(load, load_unit, actor),
        duration_seconds=duration_seconds,
        rpe=rpe,
        rir=rir,
        skipped=skipped,
        client_uuid=client_uuid,
    )
    if not skipped and reps is None and duration_seconds is None:
        raise ValidationError({"reps": [_("Enter the reps you did, or skip the exercise.")]})
    set_log.full_clean(exclude=["log", "exercise", "plan_item"], validate_constraints=False)
    try:
        with transaction.atomic():
            set_log.save()
    except IntegrityError as exc:
        replay = _replay(SetLog, client_uuid, log)
        if replay is not None:  # the same request, sent twice at once
            return replay, False
        field_error = as_field_error(exc)
        if field_error is None:
            raise
        raise field_error from exc
    return set_log, True


@transaction.atomic
def set_log_update(
    *,
    actor: User,
    set_log: SetLog,
    load: Any = None,
    load_unit: str | None = None,
    **fields: Any,
) -> SetLog:
    """Correct a logged set (reps, load, duration, RPE, RIR, skipped)."""
    _check_can_train(actor, set_log.log.client)
    check_fields_allowed(fields, SET_FIELDS)
    if load is not None:
        fields["load_kg"] = _load_in_kg(load, load_unit, actor)
    before = snapshot(set_log, tuple(fields))
    for name, value in fields.items():
        setattr(set_log, name, value)
    if not set_log.skipped and set_log.reps is None and set_log.duration_seconds is None:
        raise ValidationError({"reps": [_("Enter the reps you did, or skip the exercise.")]})
    set_log.full_clean(
        exclude=["log", "exercise", "plan_item", "client_uuid"], validate_constraints=False
    )
    set_log.save()
    changes = changes_between(before, snapshot(set_log, tuple(fields)))
    if changes:
        audit_record(action="workout.set_updated", actor=actor, obj=set_log, changes=changes)
    return set_log


@transaction.atomic
def set_log_delete(*, actor: User, set_log: SetLog) -> None:
    _check_can_train(actor, set_log.log.client)
    audit_record(
        action="workout.set_deleted",
        actor=actor,
        obj=set_log,
        changes={"workout": {"before": set_log.log_id, "after": None}},
    )
    set_log.delete()


@transaction.atomic
def exercise_skip(*, actor: User, log: WorkoutLog, plan_item: PlanItem) -> SetLog | CardioLog:
    """Record a planned exercise as skipped (sets already logged for it are kept)."""
    _check_can_train(actor, log.client)
    _check_exercise(log, plan_item.exercise, plan_item)
    model: type[Any] = CardioLog if plan_item.kind == ItemKind.CARDIO else SetLog
    existing = model.objects.filter(log=log, plan_item=plan_item).first()
    if existing is not None:
        return existing
    if model is CardioLog:
        return CardioLog.objects.create(
            log=log, exercise_id=plan_item.exercise_id, plan_item=plan_item, skipped=True
        )
    return SetLog.objects.create(
        log=log, exercise_id=plan_item.exercise_id, plan_item=plan_item, set_number=1, skipped=True
    )


# --- Cardio -----------------------------------------------------------------------------------


@transaction.atomic
def cardio_log_create(
    *,
    actor: User,
    log: WorkoutLog,
    exercise: Exercise,
    plan_item: PlanItem | None = None,
    duration_seconds: int | None = None,
    distance_m: int | None = None,
    average_heart_rate: int | None = None,
    skipped: bool = False,
    client_uuid: uuid.UUID | None = None,
) -> tuple[CardioLog, bool]:
    """Log a bout of cardio; idempotent on `client_uuid` like sets."""
    _check_can_train(actor, log.client)
    existing = _replay(CardioLog, client_uuid, log)
    if existing is not None:
        return existing, False
    _check_exercise(log, exercise, plan_item)
    if not skipped and duration_seconds is None and distance_m is None:
        raise ValidationError(
            {"duration_seconds": [_("Enter the time or the distance, or skip the exercise.")]}
        )
    if not skipped:
        CardioLog.objects.filter(
            log=log, plan_item=plan_item, exercise=exercise, skipped=True
        ).delete()
    cardio = CardioLog(
        log=log,
        exercise=exercise,
        plan_item=plan_item,
        duration_seconds=duration_seconds,
        distance_m=distance_m,
        average_heart_rate=average_heart_rate,
        skipped=skipped,
        client_uuid=client_uuid,
    )
    cardio.full_clean(exclude=["log", "exercise", "plan_item"], validate_constraints=False)
    try:
        with transaction.atomic():
            cardio.save()
    except IntegrityError:
        replay = _replay(CardioLog, client_uuid, log)
        if replay is not None:
            return replay, False
        raise
    return cardio, True


@transaction.atomic
def cardio_log_update(*, actor: User, cardio: CardioLog, **fields: Any) -> CardioLog:
    _check_can_train(actor, cardio.log.client)
    check_fields_allowed(fields, CARDIO_FIELDS)
    before = snapshot(cardio, tuple(fields))
    for name, value in fields.items():
        setattr(cardio, name, value)
    if not cardio.skipped and cardio.duration_seconds is None and cardio.distance_m is None:
        raise ValidationError(
            {"duration_seconds": [_("Enter the time or the distance, or skip the exercise.")]}
        )
    cardio.full_clean(
        exclude=["log", "exercise", "plan_item", "client_uuid"], validate_constraints=False
    )
    cardio.save()
    changes = changes_between(before, snapshot(cardio, tuple(fields)))
    if changes:
        audit_record(
            action="workout.cardio_updated",
            actor=actor,
            obj=cardio,
            changes=changes,
        )
    return cardio


@transaction.atomic
def cardio_log_delete(*, actor: User, cardio: CardioLog) -> None:
    _check_can_train(actor, cardio.log.client)
    audit_record(
        action="workout.cardio_deleted",
        actor=actor,
        obj=cardio,
        changes={"workout": {"before": cardio.log_id, "after": None}},
    )
    cardio.delete()


# --- Weekly target ----------------------------------------------------------------------------


@transaction.atomic
def weekly_target_set(*, actor: User, client: Client, workouts_per_week: int) -> WeeklyTarget:
    """Set how many workouts a week the client aims for: their trainers and management."""
    if not (is_management(actor) or has_role(actor, Role.TRAINER)) or not can_train(
        viewer=actor, client=client
    ):
        raise PermissionDenied(_("Only the client's trainers and managers set weekly targets."))
    target, _created = WeeklyTarget.objects.get_or_create(client=client)
    before = target.workouts_per_week
    target.workouts_per_week = workouts_per_week
    target.updated_by = actor
    target.full_clean(exclude=["client"])
    target.save()
    audit_record(
        action="workout.target_set",
        actor=actor,
        obj=client,
        changes={"workouts_per_week": {"before": before, "after": workouts_per_week}},
    )
    return target


# --- Workouts recorded elsewhere --------------------------------------------------------------
# A run on a watch can complete a scheduled cardio workout (apps.wearables.services.adherence).
# Nobody logged it, so there is no actor and no permission check; the log, its cardio and the
# planned items recorded as skipped all carry the log's creation time as created_at and
# updated_at, so any later change by a person (a save bumps updated_at, an added row has its own
# created_at) tells "as the provider made it" apart from "edited".


def _as_made(log: WorkoutLog) -> None:
    stamp = log.created_at
    WorkoutLog.objects.filter(pk=log.pk).update(updated_at=stamp)
    for model in (CardioLog, SetLog):
        model.objects.filter(log=log).update(created_at=stamp, updated_at=stamp)
    log.updated_at = stamp


@transaction.atomic
def workout_complete_from_provider(
    *,
    scheduled_workout: ScheduledWorkout,
    plan_item: PlanItem,
    client_uuid: uuid.UUID,
    cardio_uuid: uuid.UUID,
    started_at: Any,
    completed_at: Any,
    performed_on: Any,
    duration_seconds: int | None,
    distance_m: int | None,
    average_heart_rate: int | None,
    notes: str,
    source: str,
) -> WorkoutLog | None:
    """Complete `scheduled_workout` with one bout of cardio a provider recorded, under
    `client_uuid` (the same workout delivered again returns its log). None when the scheduled
    workout already has a log: what the client logged themselves always wins."""
    existing = WorkoutLog.objects.filter(client_uuid=client_uuid).first()
    if existing is not None:
        return existing
    scheduled = ScheduledWorkout.objects.select_for_update().get(pk=scheduled_workout.pk)
    if plan_item.day_id != scheduled.day_id or plan_item.kind != ItemKind.CARDIO:
        raise ValidationError({"plan_item": [_("This exercise is not in this workout's plan.")]})
    if (
        scheduled.status != ScheduledWorkoutStatus.SCHEDULED
        or WorkoutLog.objects.filter(scheduled_workout=scheduled).exists()
    ):
        return None
    log = WorkoutLog(
        client_id=scheduled.client_id,
        scheduled_workout=scheduled,
        performed_on=performed_on,
        started_at=started_at,
        completed_at=max(completed_at, started_at),
        notes=notes,
        client_uuid=client_uuid,
    )
    _save(log)
    cardio = CardioLog(
        log=log,
        exercise_id=plan_item.exercise_id,
        plan_item=plan_item,
        duration_seconds=duration_seconds,
        distance_m=distance_m,
        average_heart_rate=average_heart_rate,
        client_uuid=cardio_uuid,
    )
    cardio.full_clean(exclude=["log", "exercise", "plan_item"], validate_constraints=False)
    cardio.save()
    skipped: list[int] = []
    for item in PlanItem.objects.filter(day_id=scheduled.day_id).exclude(pk=plan_item.pk):
        _record_skipped(log, item)
        skipped.append(item.pk)
    ScheduledWorkout.objects.filter(pk=scheduled.pk).update(
        status=ScheduledWorkoutStatus.COMPLETED, updated_at=timezone.now()
    )
    _as_made(log)
    audit_record(
        action="workout.completed",
        obj=log,
        changes={
            "source": {"before": None, "after": source},
            "skipped_plan_items": {"before": None, "after": skipped},
        },
    )
    return log


def workout_untouched_since_provider(*, log: WorkoutLog, cardio_uuid: uuid.UUID) -> bool:
    """Whether a log made by workout_complete_from_provider is still as it was made: nobody
    changed the log, changed or added a set or cardio, or deleted its cardio."""
    stamp = log.created_at
    if log.updated_at != stamp:
        return False
    rows = [
        *CardioLog.objects.filter(log=log).values_list("client_uuid", "created_at", "updated_at"),
        *SetLog.objects.filter(log=log).values_list("client_uuid", "created_at", "updated_at"),
    ]
    return any(row[0] == cardio_uuid for row in rows) and all(
        row[1] == stamp and row[2] == stamp for row in rows
    )


@transaction.atomic
def workout_uncomplete_from_provider(
    *, log: WorkoutLog, cardio_uuid: uuid.UUID, source: str
) -> bool:
    """The provider deleted the workout that completed `log`: delete the log (its scheduled
    workout goes back to scheduled) if nobody touched it since; a log a person changed stays."""
    log = WorkoutLog.objects.select_for_update().filter(pk=log.pk).first()
    if log is None or not workout_untouched_since_provider(log=log, cardio_uuid=cardio_uuid):
        return False
    if log.scheduled_workout_id is not None:
        ScheduledWorkout.objects.filter(
            pk=log.scheduled_workout_id, status=ScheduledWorkoutStatus.COMPLETED
        ).update(status=ScheduledWorkoutStatus.SCHEDULED, updated_at=timezone.now())
    audit_record(
        action="workout.deleted", obj=log, changes={"source": {"before": source, "after": None}}
    )
    log.delete()
    return True
