"""Outside workouts count for adherence: a workout a provider recorded (a run on Strava, a ride on
a Garmin) that matches a scheduled cardio workout completes it, so adherence, which counts
completed scheduled workouts (apps.workouts.metrics), counts it.

A match needs, all of:
- a scheduled workout of the client, still scheduled and with no log at all (what the client
  logged themselves always wins), dated the outside workout's local day (`ExternalWorkout.date`);
- a cardio workout: every item of its plan day is a cardio item;
- an item of the same cardio kind: the library has no sport field, so an exercise's kind comes
  from keywords in its name and aliases (`EXERCISE_KEYWORDS`: "Outdoor run" and "Sprint" are
  runs, "Stationary bike" a ride, "Rowing machine" a row...), and a provider's sport from
  `PROVIDER_SPORTS` (Strava's sport_type, Garmin's activity types, HealthKit's
  HKWorkoutActivityType, Google Health's exercise types, compared without case, spaces or
  underscores). E-bike rides and sports with no kind never match;
- the planned distance or duration within MATCH_TOLERANCE (20%) of what was done (moving or
  elapsed time); an item that plans neither matches on sport and day alone.

The completion is a WorkoutLog (apps.workouts.services.workout_complete_from_provider) under a
client_uuid derived from the provider and its id, with one CardioLog carrying the distance,
duration and average heart rate and a note in the gym's language naming the provider, so
delivering or syncing the same workout again never adds a second one. An outside workout
completes at most one scheduled workout, once: if a person deletes that completion, it is not
made again (the audit trail says it matched before). When the provider deletes the workout, the
completion goes with it unless a person changed it since.

Matching runs on Celery after every successful sync of a connection (services.sync_succeeded),
over the client's last MATCH_WINDOW_DAYS days, serialised per client by a lock on the client."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from celery import shared_task
from django.db import transaction
from django.db.models import Prefetch
from django.utils import translation
from django.utils.translation import gettext as _

from apps.audit.models import AuditEvent
from apps.audit.services import audit_record
from apps.wearables.models import Connection, ExternalWorkout, Provider

MATCH_TOLERANCE = Decimal("0.20")
# Longer than the 30-day backfill, so a backfilled workout is matched and a deletion seen.
MATCH_WINDOW_DAYS = 35
MATCHED_ACTION = "wearables.outside_workout_matched"
# Fixed for ever: completions' ids derive from it, and re-deliveries must find them.
COMPLETION_NAMESPACE = uuid.UUID("6f1d3c1e-5b0a-4e59-9a43-7c2f0e9b8d21")

RUN, RIDE, WALK, SWIM, ROW, ELLIPTICAL, STAIRS = (
    "run",
    "ride",
    "walk",
    "swim",
    "row",
    "elliptical",
    "stairs",
)

_SPORTS_BY_KIND: dict[str, tuple[str, ...]] = {
    RUN: (
        "run",  # Strava
        "trailrun",
        "virtualrun",
        "running",  # Garmin, HealthKit, Google Health
        "trailrunning",
        "treadmillrunning",
        "indoorrunning",
        "streetrunning",
        "trackrunning",
        "virtualrunning",
        "ultrarun",
        "treadmill",
    ),
    RIDE: (
        "ride",
        "virtualride",
        "mountainbikeride",
        "gravelride",
        "cycling",
        "roadbiking",
        "mountainbiking",
        "indoorcycling",
        "gravelcycling",
        "cyclocross",
        "trackcycling",
        "virtualcycling",
        "biking",
        "bike",
        "outdoorbike",
        "spinning",
        "bikingstationary",
    ),
    WALK: (
        "walk",
        "hike",
        "walking",
        "hiking",
        "casualwalking",
        "speedwalking",
        "indoorwalking",
    ),
    SWIM: (
        "swim",
        "swimming",
        "lapswimming",
        "openwaterswimming",
        "swimmingpool",
        "swimmingopenwater",
    ),
    ROW: ("rowing", "virtualrow", "indoorrowing", "rowingmachine"),
    ELLIPTICAL: ("elliptical",),
    STAIRS: ("stairstepper", "stairclimbing", "stairs", "stairclimbingmachine"),
}
# A provider's sport, normalised (`_normal`), to the cardio kind it is.
PROVIDER_SPORTS: dict[str, str] = {
    sport: kind for kind, sports in _SPORTS_BY_KIND.items() for sport in sports
}
# An exercise's kind, from words in its name or aliases; the first match wins.
EXERCISE_KEYWORDS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(rf"\b(?:{words})\b"), kind)
    for words, kind in (
        (r"runs?|running|jog|jogging|sprints?", RUN),
        (r"walks?|walking|hikes?|hiking", WALK),
        (r"bikes?|biking|cycle|cycling|spin|spinning|rides?|riding", RIDE),
        (r"swim|swims|swimming", SWIM),
        (r"row|rowing|rower", ROW),
        (r"elliptical|cross trainer|crosstrainer", ELLIPTICAL),
        (r"stairs?|stair climber|stepmill|stepper", STAIRS),
    )
)
_HEALTHKIT_PREFIX = "hkworkoutactivitytype"


def _normal(sport: str) -> str:
    return re.sub(r"[^a-z0-9]", "", sport.lower()).removeprefix(_HEALTHKIT_PREFIX)


def sport_kind(sport: str) -> str | None:
    """The cardio kind of a provider's sport (Strava "TrailRun", Garmin "TRAIL_RUNNING",
    HealthKit "HKWorkoutActivityTypeRunning": run), or None."""
    return PROVIDER_SPORTS.get(_normal(sport))


def exercise_kind(*, name: str, aliases: list[str] | None = None) -> str | None:
    """The cardio kind of an exercise, from its name and aliases ("Treadmill run": run)."""
    for text in (name, *(aliases or [])):
        lowered = text.lower()
        for pattern, kind in EXERCISE_KEYWORDS:
            if pattern.search(lowered):
                return kind
    return None


def _within(done: Decimal | int | None, planned: int | None) -> bool:
    if not done or not planned:
        return False
    return abs(Decimal(done) - planned) <= planned * MATCH_TOLERANCE


def item_matches(*, item: Any, workout: ExternalWorkout) -> bool:
    """Whether `workout` did what the cardio plan item planned: the same kind, and the planned
    distance or duration within the tolerance (the kind alone when neither is planned)."""
    kind = sport_kind(workout.sport)
    exercise = item.exercise
    if kind is None or exercise_kind(name=exercise.name, aliases=exercise.aliases) != kind:
        return False
    if not item.distance_m and not item.duration_seconds:
        return True
    return _within(workout.distance_m, item.distance_m) or any(
        _within(seconds, item.duration_seconds)
        for seconds in (workout.moving_seconds, workout.duration_seconds)
    )


def completion_uuids(*, provider: str, provider_id: str) -> tuple[uuid.UUID, uuid.UUID]:
    """The client_uuid of the WorkoutLog an outside workout completes, and of its CardioLog."""
    log_uuid = uuid.uuid5(COMPLETION_NAMESPACE, f"{provider}:{provider_id}")
    return log_uuid, _cardio_uuid(log_uuid)


def _cardio_uuid(log_uuid: uuid.UUID) -> uuid.UUID:
    return uuid.uuid5(COMPLETION_NAMESPACE, f"{log_uuid}:cardio")


def _note(workout: ExternalWorkout) -> str:
    from apps.tenants.selectors import current_gym

    # Stored text that the gym's staff read: written in the gym's language.
    with translation.override(current_gym().language or None):
        provider = str(Provider(workout.provider).label)
        if workout.name:
            return _("Completed from %(provider)s: %(name)s") % {
                "provider": provider,
                "name": workout.name,
            }
        return _("Completed from %(provider)s") % {"provider": provider}


def _cardio_values(workout: ExternalWorkout) -> dict[str, int | None]:
    seconds = workout.moving_seconds or workout.duration_seconds
    distance = None if workout.distance_m is None else round(workout.distance_m)
    heart_rate = workout.average_heart_rate
    return {
        "duration_seconds": seconds if 0 < seconds <= 24 * 3600 else None,
        "distance_m": distance if distance and distance <= 1_000_000 else None,
        "average_heart_rate": heart_rate if heart_rate and 30 <= heart_rate <= 250 else None,
    }


@dataclass(frozen=True)
class MatchResult:
    completed: int = 0
    removed: int = 0


def outside_workouts_match(*, client_id: int, today: date | None = None) -> MatchResult:
    """Complete the client's scheduled cardio workouts that their outside workouts of the last
    MATCH_WINDOW_DAYS match, and undo completions whose outside workout is gone. Idempotent; a
    fixed number of queries plus a few for each completion made or undone."""
    from apps.crm.models import Client
    from apps.tenants.selectors import gym_today
    from apps.workouts.models import WorkoutLog

    since = (today or gym_today()) - timedelta(days=MATCH_WINDOW_DAYS)
    result = MatchResult()
    with transaction.atomic():
        # Two syncs of one client (Strava and Garmin, a backfill and an event) match in turn.
        if not list(Client.objects.select_for_update().filter(pk=client_id).values_list("pk")):
            return result
        outside = {
            completion_uuids(provider=w.provider, provider_id=w.provider_id)[0]: w
            for w in ExternalWorkout.objects.filter(client_id=client_id, date__gte=since).order_by(
                "start_at", "pk"
            )
        }
        made = set(
            WorkoutLog.objects.filter(client_uuid__in=list(outside)).values_list(
                "client_uuid", flat=True
            )
        )
        removed = _undo_orphans(client_id=client_id, since=since, outside=outside)
        waiting = [
            (log_uuid, workout)
            for log_uuid, workout in outside.items()
            if log_uuid not in made and sport_kind(workout.sport) is not None
        ]
        completed = _complete(client_id=client_id, waiting=waiting) if waiting else 0
        result = MatchResult(completed=completed, removed=removed)
    return result


def _undo_orphans(*, client_id: int, since: date, outside: dict[uuid.UUID, Any]) -> int:
    """Delete the untouched completions whose outside workout was deleted."""
    from apps.workouts import services as workouts
    from apps.workouts.models import CardioLog, WorkoutLog

    # Completions made from outside workouts have no author and a cardio row whose id derives
    # from the log's: nobody else makes those.
    logs = {
        log.client_uuid: log
        for log in WorkoutLog.objects.filter(
            client_id=client_id,
            created_by__isnull=True,
            client_uuid__isnull=False,
            performed_on__gte=since,
        )
        if log.client_uuid not in outside
    }
    if not logs:
        return 0
    signed = set(
        CardioLog.objects.filter(
            log__in=list(logs.values()),
            client_uuid__in=[_cardio_uuid(log_uuid) for log_uuid in logs],
        ).values_list("log_id", flat=True)
    )
    removed = 0
    for log_uuid, log in logs.items():
        if log.pk in signed and workouts.workout_uncomplete_from_provider(
            log=log, cardio_uuid=_cardio_uuid(log_uuid), source="outside workout deleted"
        ):
            removed += 1
    return removed


def _complete(*, client_id: int, waiting: list[tuple[uuid.UUID, ExternalWorkout]]) -> int:
    from apps.training.models import ItemKind, PlanItem, ScheduledWorkout, ScheduledWorkoutStatus
    from apps.workouts import services as workouts

    matched_before = set(
        AuditEvent.objects.filter(
            action=MATCHED_ACTION,
            object_type=ExternalWorkout._meta.label_lower,
            object_id__in=[str(workout.pk) for _uuid, workout in waiting],
        ).values_list("object_id", flat=True)
    )
    waiting = [(u, w) for u, w in waiting if str(w.pk) not in matched_before]
    if not waiting:
        return 0
    scheduled = list(
        ScheduledWorkout.objects.filter(
            client_id=client_id,
            date__in={workout.date for _uuid, workout in waiting},
            status=ScheduledWorkoutStatus.SCHEDULED,
            logs__isnull=True,
        )
        .select_related("day")
        .prefetch_related(
            Prefetch(
                "day__items",
                queryset=PlanItem.objects.select_related("exercise").order_by("order"),
            )
        )
        .order_by("date", "pk")
    )
    cardio_days = [
        (planned, items)
        for planned in scheduled
        if (items := list(planned.day.items.all()))
        and all(item.kind == ItemKind.CARDIO for item in items)
    ]
    completed = 0
    taken: set[int] = set()
    for log_uuid, workout in waiting:
        for planned, items in cardio_days:
            if planned.pk in taken or planned.date != workout.date:
                continue
            item = next((i for i in items if item_matches(item=i, workout=workout)), None)
            if item is None:
                continue
            taken.add(planned.pk)
            log = workouts.workout_complete_from_provider(
                scheduled_workout=planned,
                plan_item=item,
                client_uuid=log_uuid,
                cardio_uuid=_cardio_uuid(log_uuid),
                started_at=workout.start_at,
                completed_at=workout.start_at + timedelta(seconds=workout.duration_seconds),
                performed_on=workout.date,
                notes=_note(workout),
                source=f"{workout.provider}:{workout.provider_id}",
                **_cardio_values(workout),
            )
            if log is None:
                continue
            audit_record(
                action=MATCHED_ACTION,
                obj=workout,
                changes={
                    "workout_log": {"before": None, "after": log.pk},
                    "scheduled_workout": {"before": None, "after": planned.pk},
                },
            )
            completed += 1
            break
    return completed


def adherence_match_queue(*, connection_id: int) -> None:
    """Match the connection's client's outside workouts once the current transaction commits."""
    from apps.wearables.services import _on_commit_in_this_gym

    _on_commit_in_this_gym(lambda: adherence_match_task.delay(connection_id))


# The task lives with its service: apps.wearables.tasks imports this package, so workers know it.
@shared_task(
    name="wearables.adherence_match", acks_late=True, reject_on_worker_lost=True, ignore_result=True
)
def adherence_match_task(connection_id: int) -> int:
    """Match the outside workouts of the connection's client; how many workouts it completed."""
    client_id = (
        Connection.objects.filter(pk=connection_id).values_list("client_id", flat=True).first()
    )
    if client_id is None:
        return 0
    return outside_workouts_match(client_id=client_id).completed
