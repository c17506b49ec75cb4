"""Reads with rules. Training logs are health data: owners and managers see every client's, a
trainer their current clients', a client their own; front desk sees none.

The stats selectors run a fixed number of queries whatever the history's length or the number
of clients, and hand the rows to the pure functions of apps.workouts.metrics.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import (
    Count,
    Exists,
    FloatField,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
)
from django.db.models.functions import Cast

from apps.accounts.models import Role, User
from apps.accounts.roles import has_role, is_management
from apps.crm.models import Assignment, Client
from apps.crm.selectors import can_see_health_data, client_list
from apps.tenants.selectors import gym_today
from apps.training.models import (
    Exercise,
    PlanItem,
    ScheduledWorkout,
    ScheduledWorkoutStatus,
)
from apps.workouts import metrics
from apps.workouts.models import (
    DEFAULT_WEEKLY_TARGET,
    CardioLog,
    SetLog,
    WeeklyTarget,
    WorkoutLog,
)

ADHERENCE_WINDOWS = (7, 30, 90)
VOLUME_WEEKS = 8
RECENT_LOGS = 10


def can_train(*, viewer: User, client: Client) -> bool:
    """Whether `viewer` may read and log `client`'s training: management, the client's current
    trainers, the client themselves."""
    return can_see_health_data(viewer=viewer, client=client)


def trainable_clients(*, viewer: User) -> QuerySet[Client]:
    """The clients whose training `viewer` may see (front desk: none)."""
    if is_management(viewer) or has_role(viewer, Role.TRAINER, Role.CLIENT):
        return client_list(viewer=viewer)
    return Client.objects.none()


def _visible_client_filter(viewer: User, path: str) -> Q | None:
    """A filter on `path` (the ORM path to the client) for what `viewer` may see; None: all."""
    if is_management(viewer):
        return None
    if has_role(viewer, Role.TRAINER):
        return Q(
            Exists(
                Assignment.objects.filter(
                    client=OuterRef(path), trainer__user=viewer, ends_on__isnull=True
                )
            )
        )
    if has_role(viewer, Role.CLIENT):
        return Q(**{f"{path}__user": viewer})
    return Q(pk__in=[])


def workout_log_list(*, viewer: User, client: Client | None = None) -> QuerySet[WorkoutLog]:
    """Workout logs the viewer may see, newest first, with their client."""
    logs = WorkoutLog.objects.select_related("client", "scheduled_workout__day")
    rule = _visible_client_filter(viewer, "client")
    if rule is not None:
        logs = logs.filter(rule)
    if client is not None:
        logs = logs.filter(client=client)
    return logs


def _with_exercise_name(model: type[SetLog] | type[CardioLog]) -> QuerySet[Any]:
    """Logged sets or cardio with their exercise's name and nothing more of it: an exercise row
    carries its instructions, cues and aliases, kilobytes read for every set otherwise."""
    own = [field.name for field in model._meta.concrete_fields]
    return model.objects.select_related("exercise").only(*own, "exercise__name")


def workout_log_detail_list(*, viewer: User) -> QuerySet[WorkoutLog]:
    """Workout logs with their sets and cardio prefetched (three queries for any page)."""
    return workout_log_list(viewer=viewer).prefetch_related(
        Prefetch("sets", queryset=_with_exercise_name(SetLog)),
        Prefetch("cardio", queryset=_with_exercise_name(CardioLog)),
    )


def set_log_list(*, viewer: User) -> QuerySet[SetLog]:
    sets = SetLog.objects.select_related("log", "exercise")
    rule = _visible_client_filter(viewer, "log__client")
    return sets if rule is None else sets.filter(rule)


def cardio_log_list(*, viewer: User) -> QuerySet[CardioLog]:
    cardio = CardioLog.objects.select_related("log", "exercise")
    rule = _visible_client_filter(viewer, "log__client")
    return cardio if rule is None else cardio.filter(rule)


def scheduled_workout_list(*, viewer: User) -> QuerySet[ScheduledWorkout]:
    """Scheduled workouts the viewer may see, with their plan and day."""
    workouts = ScheduledWorkout.objects.select_related("plan", "day", "client")
    rule = _visible_client_filter(viewer, "client")
    return workouts if rule is None else workouts.filter(rule)


def weekly_target_of(client: Client) -> int:
    target = WeeklyTarget.objects.filter(client=client).values_list("workouts_per_week", flat=True)
    return next(iter(target), DEFAULT_WEEKLY_TARGET)


def plan_items_of(log: WorkoutLog) -> list[PlanItem]:
    """The planned exercises of the log's scheduled workout, in order (none for a free one)."""
    if log.scheduled_workout_id is None:
        return []
    return list(
        PlanItem.objects.filter(day_id=log.scheduled_workout.day_id)
        .select_related("exercise")
        .order_by("order")
    )


def last_sets_by_exercise(
    *, client: Client, exercise_ids: list[int], before: WorkoutLog | None = None
) -> dict[int, dict[int, SetLog]]:
    """The client's most recent logged sets of each exercise, by set number (one query): what
    "last time" prefills from."""
    if not exercise_ids:
        return {}
    sets = SetLog.objects.filter(
        log__client=client, exercise_id__in=exercise_ids, skipped=False
    ).select_related("log")
    if before is not None:
        sets = sets.exclude(log=before)
    latest = sets.order_by("exercise_id", "set_number", "-log__performed_on", "-log__started_at")
    found: dict[int, dict[int, SetLog]] = {}
    for set_log in latest.distinct("exercise_id", "set_number"):
        found.setdefault(set_log.exercise_id, {})[set_log.set_number] = set_log
    return found


def records_before(
    *, client: Client, exercise_id: int, exclude_pk: int | None = None
) -> dict[str, Decimal | None]:
    """The heaviest load and best Epley estimate of the client's sets of an exercise, in one
    aggregate (the PR badge compares a new set with them)."""
    sets = SetLog.objects.filter(log__client=client, exercise_id=exercise_id, skipped=False)
    if exclude_pk is not None:
        sets = sets.exclude(pk=exclude_pk)
    estimable = Q(reps__gte=1, reps__lte=metrics.MAX_ESTIMATE_REPS, load_kg__isnull=False)
    found = sets.aggregate(
        heaviest=Max("load_kg"),
        best_e1rm=Max(
            Cast("load_kg", FloatField()) * (1 + Cast("reps", FloatField()) / 30.0),
            filter=estimable & Q(reps__gt=1),
        ),
        best_single=Max("load_kg", filter=estimable & Q(reps=1)),
    )
    candidates = [
        Decimal(str(value)).quantize(metrics.TWO_PLACES)
        for value in (found["best_e1rm"], found["best_single"])
        if value is not None
    ]
    return {"heaviest": found["heaviest"], "best_e1rm": max(candidates) if candidates else None}


def set_records_beaten(set_log: SetLog) -> list[str]:
    """Which personal records `set_log` beats ("heaviest", "e1rm")."""
    if set_log.skipped:
        return []
    best = records_before(
        client=set_log.log.client, exercise_id=set_log.exercise_id, exclude_pk=set_log.pk
    )
    return metrics.record_kinds_beaten(
        reps=set_log.reps,
        load_kg=set_log.load_kg,
        heaviest=best["heaviest"],
        best_e1rm=best["best_e1rm"],
    )


# --- Stats ------------------------------------------------------------------------------------


@dataclass
class ExerciseStats:
    exercise: Exercise
    records: metrics.ExerciseRecords


@dataclass
class TrainingStats:
    client: Client
    today: date
    adherence: dict[int, metrics.Adherence]
    weekly_target: int
    streak: int
    needs_attention: bool
    exercises: list[ExerciseStats] = field(default_factory=list)
    weekly_volume: list[dict[str, Any]] = field(default_factory=list)
    recent_logs: list[WorkoutLog] = field(default_factory=list)


def _adherence_windows(rows: list[tuple[date, str]], today: date) -> dict[int, metrics.Adherence]:
    result = {}
    for days in ADHERENCE_WINDOWS:
        since = today - timedelta(days=days - 1)
        in_window = [status for day, status in rows if since <= day <= today]
        result[days] = metrics.adherence(
            completed=sum(1 for s in in_window if s == ScheduledWorkoutStatus.COMPLETED),
            scheduled=len(in_window),
        )
    return result


def client_training_stats(
    *, viewer: User, client: Client, today: date | None = None
) -> TrainingStats:
    """Adherence, streak, records, weekly volume and recent logs of one client, in a fixed
    number of queries. Raises Client.DoesNotExist when the viewer may not see the client."""
    if not can_train(viewer=viewer, client=client):
        raise Client.DoesNotExist
    today = today or gym_today()
    since = today - timedelta(days=max(ADHERENCE_WINDOWS) - 1)
    scheduled = list(
        ScheduledWorkout.objects.filter(
            client=client, date__gte=since, date__lte=today
        ).values_list("date", "status")
    )
    adherence = _adherence_windows(scheduled, today)
    target = weekly_target_of(client)
    workout_days = list(
        WorkoutLog.objects.filter(client=client, completed_at__isnull=False).values_list(
            "performed_on", flat=True
        )
    )
    rows = [
        metrics.SetRow(
            exercise_id=row["exercise_id"],
            log_id=row["log_id"],
            performed_on=row["log__performed_on"],
            reps=row["reps"],
            load_kg=row["load_kg"],
        )
        for row in SetLog.objects.filter(log__client=client, skipped=False).values(
            "exercise_id", "log_id", "log__performed_on", "reps", "load_kg"
        )
    ]
    exercise_ids = {row.exercise_id for row in rows}
    exercises = Exercise.objects.in_bulk(exercise_ids) if exercise_ids else {}
    records = metrics.personal_records(rows)
    first_week = metrics.week_start(today) - timedelta(weeks=VOLUME_WEEKS - 1)
    muscles = {pk: (ex.primary_muscles, ex.secondary_muscles) for pk, ex in exercises.items()}
    volume = metrics.weekly_volume([r for r in rows if r.performed_on >= first_week], muscles)
    weekly_volume = [
        {"week": monday, "groups": volume.get(monday, {})}
        for monday in (first_week + timedelta(weeks=n) for n in range(VOLUME_WEEKS))
    ]
    recent = list(workout_log_list(viewer=viewer, client=client)[:RECENT_LOGS])
    return TrainingStats(
        client=client,
        today=today,
        adherence=adherence,
        weekly_target=target,
        streak=metrics.streak_weeks(workout_days=workout_days, target=target, today=today),
        needs_attention=metrics.needs_attention(adherence[30], adherence[90]),
        exercises=sorted(
            (ExerciseStats(exercises[pk], rec) for pk, rec in records.items() if pk in exercises),
            key=lambda stats: stats.exercise.name,
        ),
        weekly_volume=weekly_volume,
        recent_logs=recent,
    )


@dataclass(frozen=True)
class AttentionRow:
    client: Client
    adherence_30: metrics.Adherence
    adherence_90: metrics.Adherence


def needs_attention_list(*, viewer: User, today: date | None = None) -> list[AttentionRow]:
    """The viewer's clients whose 30-day adherence dropped 20 points or more below their 90-day
    adherence, worst first. Two queries whatever the number of clients."""
    today = today or gym_today()
    since_30 = today - timedelta(days=29)
    since_90 = today - timedelta(days=89)
    clients = trainable_clients(viewer=viewer).values("pk")
    completed = Q(status=ScheduledWorkoutStatus.COMPLETED)
    counts = (
        ScheduledWorkout.objects.filter(client__in=clients, date__gte=since_90, date__lte=today)
        .values("client_id")
        .annotate(
            scheduled_90=Count("pk"),
            completed_90=Count("pk", filter=completed),
            scheduled_30=Count("pk", filter=Q(date__gte=since_30)),
            completed_30=Count("pk", filter=completed & Q(date__gte=since_30)),
        )
    )
    flagged: dict[int, tuple[metrics.Adherence, metrics.Adherence]] = {}
    for row in counts:
        recent = metrics.adherence(completed=row["completed_30"], scheduled=row["scheduled_30"])
        longer = metrics.adherence(completed=row["completed_90"], scheduled=row["scheduled_90"])
        if metrics.needs_attention(recent, longer):
            flagged[row["client_id"]] = (recent, longer)
    if not flagged:
        return []
    people = Client.objects.in_bulk(list(flagged))
    rows = [AttentionRow(people[pk], *flagged[pk]) for pk in flagged if pk in people]
    return sorted(rows, key=lambda r: (r.adherence_30.ratio or 0, r.client.last_name))


# --- The logging page ---------------------------------------------------------------------------


@dataclass
class Block:
    """One exercise on the logging page: the plan's prescription, what is logged so far, and
    what the next set's inputs start with."""

    key: str
    exercise: Exercise
    plan_item: PlanItem | None
    is_cardio: bool
    sets: list[SetLog] = field(default_factory=list)
    cardio: list[CardioLog] = field(default_factory=list)
    skipped: bool = False
    next_set_number: int = 1
    prefill: dict[str, Any] = field(default_factory=dict)

    @property
    def rest_seconds(self) -> int | None:
        return self.plan_item.rest_seconds if self.plan_item is not None else None

    @property
    def planned_sets(self) -> int | None:
        return self.plan_item.sets if self.plan_item is not None else None

    @property
    def done(self) -> bool:
        if self.skipped:
            return True
        if self.is_cardio:
            return bool(self.cardio)
        return self.planned_sets is not None and len(self.sets) >= self.planned_sets


def _plain(value: Decimal) -> Decimal:
    """`value` without trailing zeros, never in exponent form (100, not 1E+2)."""
    return Decimal(format(value.normalize(), "f"))


def _is_cardio_exercise(exercise: Exercise) -> bool:
    return exercise.category == "cardio" or exercise.tracking == "distance_time"


def _prefill(block: Block, last: dict[int, SetLog], unit: str) -> dict[str, Any]:
    """Last time's set of the same number, else the plan's prescription."""
    previous = last.get(block.next_set_number) or (last[max(last)] if last else None)
    if previous is not None:
        return {
            "reps": previous.reps,
            "load": None
            if previous.load_kg is None
            else _plain(metrics.from_kg(previous.load_kg, unit)),
            "rpe": previous.rpe,
            "rir": previous.rir,
            "from_last_time": True,
        }
    item = block.plan_item
    prefill: dict[str, Any] = {"from_last_time": False}
    if item is not None:
        prefill["reps"] = item.reps_max or item.reps_min
        if item.load_value is not None and item.load_unit in ("kg", "lb"):
            in_kg = metrics.to_kg(item.load_value, item.load_unit)
            prefill["load"] = _plain(metrics.from_kg(in_kg, unit))
        elif item.load_value is not None and item.load_unit == "rpe":
            prefill["rpe"] = item.load_value
        elif item.load_value is not None and item.load_unit == "rir":
            prefill["rir"] = int(item.load_value)
    return prefill


def workout_blocks(
    *, log: WorkoutLog, unit: str, extra_exercise_ids: list[int] | None = None
) -> list[Block]:
    """The logging page of `log`: planned exercises in order, then any other exercise logged or
    added, in a fixed number of queries."""
    blocks: dict[str, Block] = {}
    for item in plan_items_of(log):
        blocks[f"i{item.pk}"] = Block(
            key=f"i{item.pk}",
            exercise=item.exercise,
            plan_item=item,
            is_cardio=item.kind == "cardio",
        )
    sets = list(
        SetLog.objects.filter(log=log).select_related("exercise").order_by("set_number", "pk")
    )
    cardio = list(CardioLog.objects.filter(log=log).select_related("exercise").order_by("pk"))

    def block_for(exercise: Exercise, plan_item_id: int | None, is_cardio: bool) -> Block:
        key = (
            f"i{plan_item_id}"
            if plan_item_id and f"i{plan_item_id}" in blocks
            else f"e{exercise.pk}"
        )
        if key not in blocks:
            blocks[key] = Block(key=key, exercise=exercise, plan_item=None, is_cardio=is_cardio)
        return blocks[key]

    for set_log in sets:
        block = block_for(set_log.exercise, set_log.plan_item_id, False)
        if set_log.skipped:
            block.skipped = True
        else:
            block.sets.append(set_log)
    for bout in cardio:
        block = block_for(bout.exercise, bout.plan_item_id, True)
        if bout.skipped:
            block.skipped = True
        else:
            block.cardio.append(bout)
    extra = [pk for pk in (extra_exercise_ids or []) if f"e{pk}" not in blocks]
    if extra:
        for exercise in Exercise.objects.filter(pk__in=extra, is_active=True):
            block_for(exercise, None, _is_cardio_exercise(exercise))
    last = last_sets_by_exercise(
        client=log.client,
        exercise_ids=[b.exercise.pk for b in blocks.values() if not b.is_cardio],
        before=log,
    )
    for block in blocks.values():
        block.next_set_number = max((s.set_number for s in block.sets), default=0) + 1
        block.prefill = _prefill(block, last.get(block.exercise.pk, {}), unit)
    return list(blocks.values())
