"""Training fixtures: the CRM's small business (tests/crm/conftest.py) plus a few exercises of
the shipped library, made here so the tests do not depend on data/exercises.json. Their names
start with "Qx" so they never clash with the real library's."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.accounts.models import User
from apps.training import services
from apps.training.models import Exercise, WorkoutPlan
from tests.crm.conftest import CrmGym, api_as, build_crm_gym, crm_a, crm_b  # noqa: F401


@dataclass(frozen=True)
class Library:
    squat: Exercise
    curl: Exercise
    run: Exercise
    pullup: Exercise


def make_library() -> Library:
    """Four library exercises in the current schema."""

    def make(**fields: object) -> Exercise:
        return Exercise.objects.create(is_library=True, licence="CC-BY-4.0", **fields)

    return Library(
        squat=make(
            slug="qx-back-squat",
            name="Qx Back Squat",
            aliases=["Qx High-Bar Squat"],
            category="strength",
            primary_muscles=["quads", "glutes"],
            secondary_muscles=["hamstrings", "lower_back"],
            equipment=["barbell"],
            mechanics="compound",
            instructions=["Brace.", "Sit down between your heels.", "Stand up."],
            cues=["Chest up"],
        ),
        curl=make(
            slug="qx-dumbbell-curl",
            name="Qx Dumbbell Curl",
            aliases=["Qx Bicep Curl"],
            category="strength",
            primary_muscles=["biceps"],
            secondary_muscles=["forearms"],
            equipment=["dumbbell"],
            mechanics="isolation",
        ),
        run=make(
            slug="qx-treadmill-run",
            name="Qx Treadmill Run",
            category="cardio",
            primary_muscles=["quads"],
            equipment=["treadmill"],
            tracking="distance_time",
        ),
        pullup=make(
            slug="qx-pull-up",
            name="Qx Pull-Up",
            aliases=["Qx Chin"],
            category="strength",
            primary_muscles=["lats"],
            secondary_muscles=["biceps"],
            equipment=["pull_up_bar"],
            mechanics="compound",
        ),
    )


@pytest.fixture
def lib_a(crm_a: CrmGym) -> Library:  # noqa: F811
    with tenant_context(crm_a.gym):
        return make_library()


@pytest.fixture
def lib_b(crm_b: CrmGym) -> Library:  # noqa: F811
    with tenant_context(crm_b.gym):
        return make_library()


@pytest.fixture
def in_a(crm_a: CrmGym) -> Iterator[CrmGym]:  # noqa: F811
    with tenant_context(crm_a.gym):
        yield crm_a


def next_monday() -> date:
    today = timezone.localdate()
    return today + timedelta(days=7 - today.weekday())


def build_template(actor: User, lib: Library, name: str = "Qx Strength Block") -> WorkoutPlan:
    """Two phases: "Base" with weeks 1 and 2, "Peak" with week 3. Week 1 trains on days 0 and
    2, week 2 on day 0, week 3 on day 4; five items in all."""
    plan = services.plan_create(actor=actor, name=name, goal="Stronger legs")
    base = services.phase_add(actor=actor, plan=plan, name="Base")
    peak = services.phase_add(actor=actor, plan=plan, name="Peak")
    week1 = services.week_add(actor=actor, phase=base)
    week3 = services.week_add(actor=actor, phase=peak)
    week2 = services.week_add(actor=actor, phase=base)  # lands between: renumbered
    monday = services.day_add(actor=actor, week=week1, offset=0, name="Legs")
    wednesday = services.day_add(actor=actor, week=week1, offset=2, name="Arms")
    services.item_add(
        actor=actor,
        day=monday,
        exercise=lib.squat,
        sets=5,
        reps_min=5,
        load_value=80,
        load_unit="pct_1rm",
        rest_seconds=180,
        tempo="3-1-1-0",
    )
    services.item_add(
        actor=actor, day=monday, exercise=lib.run, duration_seconds=600, heart_rate_zone=2
    )
    services.item_add(
        actor=actor,
        day=wednesday,
        exercise=lib.curl,
        sets=3,
        reps_min=8,
        reps_max=12,
        load_value=2,
        load_unit="rir",
        superset="A",
    )
    week2_day = services.day_add(actor=actor, week=week2, offset=0)
    services.item_add(actor=actor, day=week2_day, exercise=lib.squat, sets=3, reps_min=3)
    week3_day = services.day_add(actor=actor, week=week3, offset=4)
    services.item_add(actor=actor, day=week3_day, exercise=lib.pullup, sets=4, reps_min=6)
    plan.refresh_from_db()
    return plan
