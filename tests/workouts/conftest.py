"""Workout fixtures: the CRM's small business (tests/crm/conftest.py) plus a client plan for
Cara (Tom's client, with a portal login) with one training day: back squat 3 x 5 @ 100 kg
(rest 90 s), bench press 3 x 8, and 10 minutes of rowing. Plans and scheduled workouts are made
with the ORM: apps.training's services belong to another part of the app."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest
from django_tenants.utils import tenant_context

from apps.crm.models import Client
from apps.training.models import (
    Exercise,
    PlanDay,
    PlanItem,
    PlanPhase,
    PlanWeek,
    ScheduledWorkout,
    WorkoutPlan,
)
from tests.crm.conftest import CrmGym, api_as, build_crm_gym, crm_a, crm_b  # noqa: F401

_weeks = itertools.count(1)


@dataclass
class Training:
    crm: CrmGym
    squat: Exercise
    bench: Exercise
    rower: Exercise
    curl: Exercise
    plan: WorkoutPlan
    day: PlanDay
    squat_item: PlanItem
    bench_item: PlanItem
    row_item: PlanItem


def exercise(name: str, **fields: object) -> Exercise:
    slug = name.lower().replace(" ", "-")
    return Exercise.objects.get_or_create(
        slug=f"wt-{slug}", defaults={"name": f"WT {name}", **fields}
    )[0]


def client_plan(client: Client) -> WorkoutPlan:
    plan, _created = WorkoutPlan.objects.get_or_create(
        client=client,
        is_template=False,
        defaults={"name": f"Plan of {client.first_name}", "start_date": date(2025, 1, 6)},
    )
    return plan


def plan_day(plan: WorkoutPlan) -> PlanDay:
    """A new training day in a week of its own (a scheduled workout is unique per plan day)."""
    phase = plan.phases.first() or PlanPhase.objects.create(plan=plan, order=1, name="Base")
    number = next(_weeks)
    week = PlanWeek.objects.create(plan=plan, phase=phase, number=number)
    return PlanDay.objects.create(week=week, offset=0, name=f"Day {number}")


def schedule(client: Client, on: date, status: str = "scheduled", day: PlanDay | None = None):
    """A scheduled workout of `client` on `on` (a new empty plan day unless `day` is given)."""
    plan = client_plan(client)
    return ScheduledWorkout.objects.create(
        client=client, plan=plan, day=day or plan_day(plan), date=on, status=status
    )


def build_training(crm: CrmGym) -> Training:
    with tenant_context(crm.gym):
        squat = exercise(
            "Back squat",
            category="strength",
            primary_muscles=["quads", "glutes"],
            secondary_muscles=["hamstrings", "lower_back"],
            equipment=["barbell"],
        )
        bench = exercise(
            "Bench press",
            category="strength",
            primary_muscles=["chest"],
            secondary_muscles=["triceps", "front_delts"],
            equipment=["barbell"],
        )
        rower = exercise(
            "Rowing", category="cardio", tracking="distance_time", primary_muscles=["upper_back"]
        )
        curl = exercise("Curl", category="strength", primary_muscles=["biceps"])
        plan = client_plan(crm.cara)
        day = plan_day(plan)
        squat_item = PlanItem.objects.create(
            day=day,
            order=1,
            exercise=squat,
            sets=3,
            reps_min=5,
            reps_max=5,
            load_value=Decimal("100"),
            load_unit="kg",
            rest_seconds=90,
        )
        bench_item = PlanItem.objects.create(
            day=day, order=2, exercise=bench, sets=3, reps_min=8, reps_max=8, rest_seconds=60
        )
        row_item = PlanItem.objects.create(
            day=day, order=3, exercise=rower, kind="cardio", duration_seconds=600
        )
    return Training(crm, squat, bench, rower, curl, plan, day, squat_item, bench_item, row_item)


@pytest.fixture
def training_a(crm_a: CrmGym) -> Training:  # noqa: F811
    return build_training(crm_a)


@pytest.fixture
def training_b(crm_b: CrmGym) -> Training:  # noqa: F811
    return build_training(crm_b)
