"""The demo gym's training: three plan templates built through the services, assigned to 25
active clients, with their logged workouts (progressive loads, so personal records exist) and a
weekly weight and waist series for 15 clients. Deterministic (seeded).

Plans start in the past, but `plan_assign` accepts a start at most ASSIGN_PAST_DAYS ago (a
trainer entering this week's plan, not history). So each plan is assigned through the service
from the earliest start it accepts, then moved back in time by shifting its start date and
every one of its scheduled workouts by the same number of days, in two UPDATEs, recorded as a
`plan.backdated` audit event. The result is exactly what assigning on the real start day would
have made. The history (workout logs, sets, cardio, measurements) is written in bulk: the
services log today's training, not last month's, and one call per set would be slow.

Most clients complete about 80% of their workouts. Four clients of the demo trainer started
nine weeks ago and then dropped off in the last 30 days, so the trainer's home lists them under
"needs attention" (apps.workouts.selectors.needs_attention_list).
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import F
from django.utils import timezone

from apps.accounts.models import User
from apps.audit.services import audit_record
from apps.crm.models import Assignment, Client, ClientStatus, Trainer
from apps.progress.models import BodyMeasurement
from apps.tenants.selectors import current_gym
from apps.training import services
from apps.training.models import (
    Exercise,
    ItemKind,
    LoadUnit,
    PlanItem,
    PlanStatus,
    ScheduledWorkout,
    ScheduledWorkoutStatus,
    WorkoutPlan,
)
from apps.workouts.models import CardioLog, SetLog, WorkoutLog
from apps.workouts.services import weekly_target_set

DEMO_CLIENT_EMAIL = "client@demo.example"
DEMO_TRAINER_EMAIL = "trainer@demo.example"
PLAN_CLIENTS = 25
DROPPING_CLIENTS = 4
WEEKS_BACK = 3
DROPPING_WEEKS_BACK = 9
MEASURED_CLIENTS = 15
MEASURED_WEEKS = 12


def _lift(sets: int, low: int, high: int | None = None, rpe: str = "", rest: int = 90) -> dict:
    fields: dict[str, Any] = {
        "sets": sets,
        "reps_min": low,
        "reps_max": high or low,
        "rest_seconds": rest,
    }
    if rpe:
        fields.update(load_value=Decimal(rpe), load_unit=LoadUnit.RPE)
    return fields


def _hold(sets: int, seconds: int) -> dict:
    return {"sets": sets, "duration_seconds": seconds, "rest_seconds": 45}


def _cardio(minutes: int, zone: int, notes: str = "") -> dict:
    return {
        "kind": ItemKind.CARDIO,
        "duration_seconds": minutes * 60,
        "heart_rate_zone": zone,
        "notes": notes,
    }


DAY_A = (
    ("barbell-back-squat", _lift(5, 5, rpe="8", rest=180)),
    ("barbell-bench-press", _lift(5, 5, rpe="8", rest=180)),
    ("barbell-bent-over-row", _lift(5, 5, rpe="8", rest=120)),
)
TEMPLATES: tuple[dict[str, Any], ...] = (
    {
        "name": "Beginner full body",
        "description": "Three full-body sessions a week to learn the main movements.",
        "goal": "Build the habit and confidence with the basic lifts",
        "phases": (("Foundations", 4, "Leave two reps in the tank; form first."),),
        "days": (
            (
                0,
                "Full body A",
                (
                    ("goblet-squat", _lift(3, 8, 12, rpe="7")),
                    ("dumbbell-bench-press", _lift(3, 8, 12, rpe="7")),
                    ("seated-cable-row", _lift(3, 10, 12)),
                    ("plank", _hold(3, 30)),
                ),
            ),
            (
                2,
                "Full body B",
                (
                    ("leg-press", _lift(3, 10, 12, rpe="7")),
                    ("lat-pulldown", _lift(3, 8, 12)),
                    ("seated-dumbbell-shoulder-press", _lift(3, 8, 10)),
                    ("glute-bridge", _lift(3, 15)),
                ),
            ),
            (
                4,
                "Full body C",
                (
                    ("dumbbell-romanian-deadlift", _lift(3, 10, 12, rpe="7")),
                    ("incline-dumbbell-press", _lift(3, 8, 12)),
                    ("one-arm-dumbbell-row", _lift(3, 10)),
                    ("dead-bug", _lift(3, 10)),
                    ("stationary-bike", _cardio(10, 2, "Easy spin to finish.")),
                ),
            ),
        ),
    },
    {
        "name": "Strength 5x5",
        "description": "The classic: few lifts, five sets of five, a little more each session.",
        "goal": "Get stronger on squat, bench, deadlift and press",
        "phases": (
            ("Base", 6, "Add 2.5 kg each session while all five sets stay clean."),
            ("Build", 6, "Smaller jumps; after two stalled sessions take 10% off and build up."),
        ),
        "days": (
            (0, "Workout A", DAY_A),
            (
                2,
                "Workout B",
                (
                    ("barbell-back-squat", _lift(5, 5, rpe="8", rest=180)),
                    ("barbell-overhead-press", _lift(5, 5, rpe="8", rest=150)),
                    ("conventional-deadlift", _lift(1, 5, rpe="8", rest=180)),
                ),
            ),
            (4, "Workout A", DAY_A),
        ),
    },
    {
        "name": "Conditioning base",
        "description": "Intervals, steady cardio and a circuit: an engine for sport or life.",
        "goal": "Better fitness and recovery between efforts",
        "phases": (("Aerobic base", 6, "Most of the work easy; the hard parts really hard."),),
        "days": (
            (
                0,
                "Intervals",
                (
                    ("rowing-machine", _cardio(20, 3, "8 x 1 min hard, 1 min easy.")),
                    ("kettlebell-swing", _lift(4, 15, rest=60)),
                    ("burpee", _lift(3, 10, rest=60)),
                ),
            ),
            (
                2,
                "Steady state",
                (
                    ("treadmill-run", _cardio(30, 2, "Conversational pace.")),
                    ("plank", _hold(3, 45)),
                ),
            ),
            (
                4,
                "Circuit",
                (
                    ("air-bike", _cardio(10, 4)),
                    ("dumbbell-thruster", _lift(4, 12, rest=60)),
                    ("box-jump", _lift(3, 8, rest=60)),
                    ("ski-erg", _cardio(8, 3)),
                ),
            ),
        ),
    },
)
# Starting loads (kg) of an average client; each client is somewhat stronger or weaker.
BASE_KG = {
    "barbell-back-squat": 60,
    "barbell-bench-press": 45,
    "barbell-bent-over-row": 40,
    "barbell-overhead-press": 30,
    "conventional-deadlift": 80,
    "goblet-squat": 16,
    "dumbbell-bench-press": 14,
    "seated-cable-row": 35,
    "leg-press": 90,
    "lat-pulldown": 35,
    "seated-dumbbell-shoulder-press": 10,
    "dumbbell-romanian-deadlift": 16,
    "incline-dumbbell-press": 12,
    "one-arm-dumbbell-row": 16,
    "kettlebell-swing": 16,
    "dumbbell-thruster": 10,
}
# Metres a minute on each machine, to turn a bout's time into a distance.
METRES_PER_MINUTE = {
    "rowing-machine": 240,
    "treadmill-run": 165,
    "stationary-bike": 450,
    "air-bike": 420,
    "ski-erg": 220,
}
PROGRESS_PER_SESSION = Decimal("0.02")


def _gym_today() -> tuple[date, ZoneInfo]:
    zone = ZoneInfo(current_gym().time_zone)
    return timezone.now().astimezone(zone).date(), zone


def _counts() -> dict[str, int]:
    return {
        "plan templates": WorkoutPlan.objects.filter(is_template=True).count(),
        "client plans": WorkoutPlan.objects.filter(is_template=False).count(),
        "scheduled workouts": ScheduledWorkout.objects.count(),
        "workout logs": WorkoutLog.objects.count(),
        "sets": SetLog.objects.count(),
        "cardio bouts": CardioLog.objects.count(),
    }


def seed_training(*, owner: User, seed: int = 2026) -> dict[str, int]:
    """Templates, client plans and their workout history (see the module docstring). Safe to
    run again: does nothing once the demo templates exist."""
    if WorkoutPlan.objects.filter(is_template=True, name=TEMPLATES[0]["name"]).exists():
        return _counts()
    rng = random.Random(seed)  # noqa: S311 - demo data, not security
    templates = [_build_template(owner, spec) for spec in TEMPLATES]
    beginner, strength, _conditioning = templates

    trainer_of = _primary_trainers()
    demo_trainer = Trainer.objects.filter(user__email=DEMO_TRAINER_EMAIL).first()
    candidates = [
        client
        for client in Client.objects.filter(status=ClientStatus.ACTIVE).order_by("pk")
        if client.pk in trainer_of and client.email != DEMO_CLIENT_EMAIL
    ]
    dropping = [c for c in candidates if demo_trainer and trainer_of[c.pk] == demo_trainer.pk]
    dropping = dropping[:DROPPING_CLIENTS]
    others = [c for c in candidates if c not in dropping]
    demo_client = Client.objects.filter(email=DEMO_CLIENT_EMAIL).first()
    chosen = [demo_client] if demo_client is not None else []
    regulars = chosen + rng.sample(
        others, min(len(others), PLAN_CLIENTS - len(dropping) - len(chosen))
    )

    today, zone = _gym_today()
    this_monday = today - timedelta(days=today.weekday())
    plans: list[tuple[WorkoutPlan, bool]] = []
    for client in dropping:
        start = this_monday - timedelta(weeks=DROPPING_WEEKS_BACK)
        plans.append((_assign(owner, strength, client, start), True))
    for index, client in enumerate(regulars):
        template = beginner if client == demo_client else templates[index % len(templates)]
        weeks = WEEKS_BACK if rng.random() < 0.75 else WEEKS_BACK - 1
        start = this_monday - timedelta(weeks=weeks)
        plans.append((_assign(owner, template, client, start), False))
    for plan, _dropping in plans:
        weekly_target_set(actor=owner, client=plan.client, workouts_per_week=3)
    _log_history(rng, plans, trainer_of, today, zone)
    return _counts()


def _build_template(owner: User, spec: dict[str, Any]) -> WorkoutPlan:
    """One template through the services: the first week day by day, the others copies."""
    plan = services.plan_create(
        actor=owner,
        name=spec["name"],
        description=spec["description"],
        goal=spec["goal"],
        status=PlanStatus.ACTIVE,
    )
    slugs = {slug for _offset, _name, items in spec["days"] for slug, _fields in items}
    exercises = Exercise.objects.in_bulk(list(slugs), field_name="slug")
    first_week = None
    for phase_name, weeks, notes in spec["phases"]:
        phase = services.phase_add(actor=owner, plan=plan, name=phase_name, notes=notes)
        for _week in range(weeks):
            if first_week is not None:
                services.week_add(actor=owner, phase=phase, copy_from=first_week)
                continue
            first_week = services.week_add(actor=owner, phase=phase)
            for offset, day_name, items in spec["days"]:
                day = services.day_add(actor=owner, week=first_week, offset=offset, name=day_name)
                for slug, fields in items:
                    services.item_add(actor=owner, day=day, exercise=exercises[slug], **fields)
    return plan


def _primary_trainers() -> dict[int, int]:
    """Client pk -> trainer pk of their current (primary first) assignment."""
    found: dict[int, int] = {}
    for client_id, trainer_id in (
        Assignment.objects.filter(ends_on__isnull=True)
        .order_by("client_id", "-is_primary", "pk")
        .values_list("client_id", "trainer_id")
    ):
        found.setdefault(client_id, trainer_id)
    return found


def _assign(owner: User, template: WorkoutPlan, client: Client, start: date) -> WorkoutPlan:
    """Assign through plan_assign, then move the plan back to `start` (module docstring)."""
    earliest = timezone.localdate() - timedelta(days=services.ASSIGN_PAST_DAYS)
    plan = services.plan_assign(
        template=template, client=client, start_date=max(start, earliest), by=owner
    )
    shift = plan.start_date - start
    if shift:
        WorkoutPlan.objects.filter(pk=plan.pk).update(start_date=start)
        ScheduledWorkout.objects.filter(plan=plan).update(date=F("date") - shift)
        audit_record(
            action="plan.backdated",
            actor=owner,
            obj=plan,
            changes={
                "start_date": {"before": plan.start_date.isoformat(), "after": start.isoformat()}
            },
        )
        plan.start_date = start
    return plan


# --- History ---------------------------------------------------------------------------------


def _is_done(
    rng: random.Random, *, dropping: bool, adherence: float, index: int, recent: bool
) -> bool:
    """Whether the client did their `index`-th past workout (counted within `recent`, the last
    30 days, or before). A dropping client's pattern is fixed rather than drawn, so the drop is
    always 20 points or more: nearly every workout for weeks, then one in three lately."""
    if not dropping:
        return rng.random() < adherence
    return index % 3 == 0 if recent else index % 8 != 5


def _round_load(kilograms: Decimal, base: int) -> Decimal:
    step = Decimal("2.5") if base >= 20 else Decimal(1)
    return max(step, (kilograms / step).quantize(Decimal(1)) * step)


def _log_history(
    rng: random.Random,
    plans: list[tuple[WorkoutPlan, bool]],
    trainer_of: dict[int, int],
    today: date,
    zone: ZoneInfo,
) -> None:
    """Logs of the plans' past workouts; the rest stay missed (scheduled) or skipped."""
    plan_ids = [plan.pk for plan, _dropping in plans]
    items_of: dict[int, list[PlanItem]] = defaultdict(list)
    for item in (
        PlanItem.objects.filter(day__week__plan_id__in=plan_ids)
        .select_related("exercise")
        .order_by("day_id", "order")
    ):
        items_of[item.day_id].append(item)
    past: dict[int, list[ScheduledWorkout]] = defaultdict(list)
    for workout in ScheduledWorkout.objects.filter(plan_id__in=plan_ids, date__lt=today).order_by(
        "date", "pk"
    ):
        past[workout.plan_id].append(workout)
    trainer_users = dict(Trainer.objects.values_list("pk", "user_id"))
    recent_from = today - timedelta(days=29)  # the 30-day window of needs_attention_list

    logs: list[WorkoutLog] = []
    done: list[int] = []
    skipped: list[int] = []
    pending: list[tuple[WorkoutLog, list[SetLog], list[CardioLog]]] = []
    for plan, dropping in plans:
        client = plan.client
        assert client is not None
        strength = Decimal(str(round(rng.uniform(0.7, 1.35), 2)))
        adherence = rng.uniform(0.72, 0.95)
        sessions: dict[int, int] = defaultdict(int)  # exercise pk -> sessions logged so far
        logger = client.user_id or trainer_users.get(trainer_of.get(client.pk, 0))
        counters = {True: 0, False: 0}
        for workout in past[plan.pk]:
            recent = workout.date >= recent_from
            index = counters[recent]
            counters[recent] += 1
            if not _is_done(
                rng, dropping=dropping, adherence=adherence, index=index, recent=recent
            ):
                if rng.random() < 0.25:
                    skipped.append(workout.pk)
                continue
            started = datetime.combine(
                workout.date,
                time(rng.choice((7, 8, 12, 17, 18, 19)), rng.choice((0, 15, 30, 45))),
                tzinfo=zone,
            )
            log = WorkoutLog(
                client=client,
                scheduled_workout=workout,
                performed_on=workout.date,
                started_at=started,
                completed_at=started + timedelta(minutes=rng.randint(40, 75)),
                perceived_effort=rng.randint(5, 9),
                created_by_id=logger,
            )
            sets, cardio = _log_items(rng, items_of[workout.day_id], sessions, strength)
            logs.append(log)
            pending.append((log, sets, cardio))
            done.append(workout.pk)

    WorkoutLog.objects.bulk_create(logs, batch_size=500)
    all_sets, all_cardio = [], []
    for log, sets, cardio in pending:
        for row in (*sets, *cardio):
            row.log = log
        all_sets.extend(sets)
        all_cardio.extend(cardio)
    SetLog.objects.bulk_create(all_sets, batch_size=1000)
    CardioLog.objects.bulk_create(all_cardio, batch_size=1000)
    now = timezone.now()
    ScheduledWorkout.objects.filter(pk__in=done).update(
        status=ScheduledWorkoutStatus.COMPLETED, updated_at=now
    )
    ScheduledWorkout.objects.filter(pk__in=skipped).update(
        status=ScheduledWorkoutStatus.SKIPPED, updated_at=now
    )


def _log_items(
    rng: random.Random, items: list[PlanItem], sessions: dict[int, int], strength: Decimal
) -> tuple[list[SetLog], list[CardioLog]]:
    """What the client did of a day's plan items: a little more than last time, as a plan
    meant. Now and then the last exercise is skipped (recorded, as workout_complete does)."""
    sets: list[SetLog] = []
    cardio: list[CardioLog] = []
    skip_last = rng.random() < 0.1
    for position, item in enumerate(items):
        exercise = item.exercise
        if skip_last and position == len(items) - 1:
            if item.kind == ItemKind.CARDIO:
                cardio.append(CardioLog(exercise=exercise, plan_item=item, skipped=True))
            else:
                sets.append(SetLog(exercise=exercise, plan_item=item, set_number=1, skipped=True))
            continue
        done_before = sessions[exercise.pk]
        sessions[exercise.pk] += 1
        if item.kind == ItemKind.CARDIO:
            seconds = (item.duration_seconds or 600) + rng.randint(-30, 90)
            pace = METRES_PER_MINUTE.get(exercise.slug, 200) * (1 + done_before / 100)
            cardio.append(
                CardioLog(
                    exercise=exercise,
                    plan_item=item,
                    duration_seconds=seconds,
                    distance_m=round(pace * seconds / 60),
                    average_heart_rate=100 + 13 * (item.heart_rate_zone or 2) + rng.randint(-6, 6),
                )
            )
            continue
        base = BASE_KG.get(exercise.slug)
        load = (
            _round_load(Decimal(base) * strength * (1 + PROGRESS_PER_SESSION * done_before), base)
            if base is not None and exercise.tracking == "weight_reps"
            else None
        )
        for number in range(1, (item.sets or 1) + 1):
            last = number == item.sets
            if exercise.tracking == "time":
                values: dict[str, Any] = {
                    "duration_seconds": (item.duration_seconds or 30) + 5 * done_before
                }
            else:
                reps = (item.reps_max or 10) + (done_before // 4 if load is None else 0)
                if last and rng.random() < 0.3:
                    reps -= 1  # the last set is the hardest
                values = {"reps": reps, "load_kg": load}
                if last and load is not None:
                    values["rpe"] = Decimal(rng.choice(("7", "7.5", "8", "8.5", "9")))
            sets.append(SetLog(exercise=exercise, plan_item=item, set_number=number, **values))
    return sets, cardio


# --- Body measurements -----------------------------------------------------------------------


def seed_measurements(*, owner: User, seed: int = 2026) -> dict[str, int]:
    """A weekly weight and waist series over 12 weeks for 15 clients (the demo client first),
    trending with their goal. Safe to run again: does nothing once measurements exist."""
    if BodyMeasurement.objects.exists():
        return {"measurements": BodyMeasurement.objects.count()}
    rng = random.Random(seed)  # noqa: S311 - demo data, not security
    today, zone = _gym_today()
    trainer_of = _primary_trainers()
    trainer_users = dict(Trainer.objects.values_list("pk", "user_id"))
    with_plans = set(
        WorkoutPlan.objects.filter(is_template=False).values_list("client_id", flat=True)
    )
    active = [
        c
        for c in Client.objects.filter(
            status__in=(ClientStatus.ACTIVE, ClientStatus.TRIAL)
        ).order_by("pk")
        if c.pk in trainer_of
    ]
    # The demo client first, then clients with a plan, then others.
    active.sort(key=lambda c: (c.email != DEMO_CLIENT_EMAIL, c.pk not in with_plans, c.pk))
    rows = []
    first_monday = today - timedelta(days=today.weekday(), weeks=MEASURED_WEEKS - 1)
    for client in active[:MEASURED_CLIENTS]:
        goal = client.goals.lower()
        if "lose" in goal:
            per_week = Decimal("-0.55")
        elif "strength" in goal or "deadlift" in goal:
            per_week = Decimal("0.15")
        else:
            per_week = Decimal("-0.2")
        weight = Decimal(str(round(rng.uniform(58, 98), 1)))
        waist = Decimal(70) + (weight - 60) * Decimal("0.6") + Decimal(rng.randint(-4, 4))
        body_fat = Decimal(str(round(rng.uniform(18, 32), 1)))
        weekday, hour = rng.randint(0, 4), rng.choice((7, 8, 9, 18))
        recorder = client.user_id or trainer_users.get(trainer_of[client.pk])
        for week in range(MEASURED_WEEKS):
            day = first_monday + timedelta(weeks=week, days=weekday)
            if day > today or (rng.random() < 0.1 and week < MEASURED_WEEKS - 2):
                continue  # not yet this week, or a week missed
            noise = Decimal(str(round(rng.uniform(-0.4, 0.4), 1)))
            trend = per_week * week
            rows.append(
                BodyMeasurement(
                    client=client,
                    measured_at=datetime.combine(day, time(hour, rng.randint(0, 59)), tzinfo=zone),
                    weight_kg=(weight + trend + noise).quantize(Decimal("0.1")),
                    waist_cm=(waist + trend * Decimal("0.7") + noise / 2).quantize(Decimal("0.1")),
                    # Body fat now and then (callipers once a month).
                    body_fat_percent=(
                        (body_fat + trend * Decimal("0.4")).quantize(Decimal("0.1"))
                        if week % 4 == 0
                        else None
                    ),
                    recorded_by_id=recorder,
                )
            )
    BodyMeasurement.objects.bulk_create(rows, batch_size=500)
    return {"measurements": len(rows)}
