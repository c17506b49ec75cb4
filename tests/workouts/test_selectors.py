"""Stats of one client and the needs-attention list: definitions, time zones, query counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.crm import services as crm_services
from apps.crm.models import Client
from apps.workouts import selectors, services
from apps.workouts.models import SetLog, WeeklyTarget, WorkoutLog
from tests.workouts.conftest import Training, schedule


@pytest.fixture
def gym(training_a: Training):
    with tenant_context(training_a.crm.gym):
        yield training_a


def _history(client: Client, today, *, last_30: tuple[int, int], before: tuple[int, int]):
    """Scheduled workouts: `last_30` = (completed, missed) within the last 30 days, `before` the
    same between 31 and 90 days ago."""
    for index in range(sum(last_30)):
        status = "completed" if index < last_30[0] else "scheduled"
        schedule(client, today - timedelta(days=index % 30), status)
    for index in range(sum(before)):
        status = "completed" if index < before[0] else "scheduled"
        schedule(client, today - timedelta(days=31 + index % 59), status)


def test_adherence_windows_and_none_when_nothing_is_scheduled(gym: Training):
    cara, viewer = gym.crm.cara, gym.crm.tom.user
    today = selectors.gym_today()
    stats = selectors.client_training_stats(viewer=viewer, client=cara, today=today)
    assert {days: a.percent for days, a in stats.adherence.items()} == {7: None, 30: None, 90: None}
    assert not stats.needs_attention

    schedule(cara, today - timedelta(days=40), "completed")
    schedule(cara, today - timedelta(days=10), "skipped")
    schedule(cara, today + timedelta(days=1))  # tomorrow is not due yet
    stats = selectors.client_training_stats(viewer=viewer, client=cara, today=today)
    assert stats.adherence[7].percent is None  # no plan this week: not 0%, not 100%
    assert stats.adherence[30].percent == 0.0
    assert (stats.adherence[90].completed, stats.adherence[90].scheduled) == (1, 2)


def test_today_is_the_gyms_today(gym: Training, monkeypatch):
    """A workout scheduled "today" in Auckland counts while UTC is still on yesterday."""
    gym_row = gym.crm.gym
    gym_row.time_zone = "Pacific/Auckland"
    gym_row.save(update_fields=["time_zone"])
    utc_now = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)  # 01:00 on the 25th in Auckland
    monkeypatch.setattr(timezone, "now", lambda: utc_now)
    auckland_today = utc_now.date() + timedelta(days=1)
    assert selectors.gym_today() == auckland_today
    schedule(gym.crm.cara, auckland_today, "completed")

    stats = selectors.client_training_stats(viewer=gym.crm.tom.user, client=gym.crm.cara)

    assert stats.today == auckland_today
    assert stats.adherence[7].percent == 100.0


def test_needs_attention_from_exactly_twenty_points(gym: Training):
    today = selectors.gym_today()
    # 30 days: 6 of 10 (60%); 90 days: 16 of 20 (80%) -> exactly 20 points below.
    _history(gym.crm.cara, today, last_30=(6, 4), before=(10, 0))
    stats = selectors.client_training_stats(
        viewer=gym.crm.tom.user, client=gym.crm.cara, today=today
    )
    assert stats.adherence[30].percent == 60.0
    assert stats.adherence[90].percent == 80.0
    assert stats.needs_attention
    rows = selectors.needs_attention_list(viewer=gym.crm.tom.user, today=today)
    assert [row.client for row in rows] == [gym.crm.cara]
    # Not Tina's client: not on her list.
    assert selectors.needs_attention_list(viewer=gym.crm.tina.user, today=today) == []


def test_nineteen_points_is_fine(gym: Training):
    today = selectors.gym_today()
    # 30 days: 13 of 20 (65%); 90 days: 42 of 50 (84%) -> 19 points below.
    _history(gym.crm.cara, today, last_30=(13, 7), before=(29, 1))
    stats = selectors.client_training_stats(
        viewer=gym.crm.tom.user, client=gym.crm.cara, today=today
    )
    assert stats.adherence[30].percent == 65.0
    assert stats.adherence[90].percent == 84.0
    assert not stats.needs_attention


def _log(gym: Training, client: Client, on, sets: list[tuple[int, str]]) -> WorkoutLog:
    log, _ = services.workout_start(actor=gym.crm.owner, client=client, performed_on=on)
    for reps, load in sets:
        services.set_log_create(
            actor=gym.crm.owner, log=log, exercise=gym.squat, reps=reps, load=Decimal(load)
        )
    services.workout_complete(actor=gym.crm.owner, log=log)
    return log


def test_records_volume_and_streak_of_a_client(gym: Training):
    today = selectors.gym_today()
    monday = today - timedelta(days=today.weekday())
    WeeklyTarget.objects.create(client=gym.crm.cara, workouts_per_week=1)
    _log(gym, gym.crm.cara, monday - timedelta(days=7), [(5, "100"), (5, "100")])
    _log(gym, gym.crm.cara, monday, [(3, "110")])

    stats = selectors.client_training_stats(viewer=gym.crm.tom.user, client=gym.crm.cara)

    assert stats.streak == 2
    (squat,) = stats.exercises
    assert squat.records.heaviest.value == Decimal("110.00")
    assert squat.records.best_e1rm.value == Decimal("121.00")
    assert squat.records.best_session_volume.value == Decimal("1000.00")
    this_week = stats.weekly_volume[-1]
    assert this_week["week"] == monday
    assert this_week["groups"]["legs"]["volume_kg"] == Decimal("330")  # quads (primary)
    assert this_week["groups"]["back"]["volume_kg"] == Decimal("165")  # lower back: half


def test_one_clients_stats_take_a_fixed_number_of_queries(gym: Training):
    today = selectors.gym_today()
    _log(gym, gym.crm.cara, today, [(5, "100")])
    with CaptureQueriesContext(connection) as few:
        selectors.client_training_stats(viewer=gym.crm.tom.user, client=gym.crm.cara)
    for days in range(1, 6):
        _log(gym, gym.crm.cara, today - timedelta(days=days * 3), [(5, "100"), (6, "90")])
    _history(gym.crm.cara, today, last_30=(5, 5), before=(5, 5))
    with CaptureQueriesContext(connection) as many:
        selectors.client_training_stats(viewer=gym.crm.tom.user, client=gym.crm.cara)
    assert len(many) == len(few)
    assert len(many) <= 12


def test_needs_attention_list_takes_a_fixed_number_of_queries(gym: Training):
    today = selectors.gym_today()
    _history(gym.crm.cara, today, last_30=(1, 4), before=(10, 0))
    with CaptureQueriesContext(connection) as few:
        assert len(selectors.needs_attention_list(viewer=gym.crm.owner, today=today)) == 1
    for number in range(4):
        client = crm_services.client_create(actor=gym.crm.owner, first_name=f"Extra{number}")
        _history(client, today, last_30=(0, 3), before=(5, 0))
    with CaptureQueriesContext(connection) as many:
        assert len(selectors.needs_attention_list(viewer=gym.crm.owner, today=today)) == 5
    assert len(many) == len(few) <= 4


def test_last_time_prefills_the_next_workout(gym: Training):
    first = _log(gym, gym.crm.cara, selectors.gym_today() - timedelta(days=3), [(5, "102.5")])
    SetLog.objects.filter(log=first).update(plan_item=None)
    scheduled = schedule(gym.crm.cara, selectors.gym_today(), day=gym.day)
    log, _ = services.workout_start(
        actor=gym.crm.cara_user, client=gym.crm.cara, scheduled_workout=scheduled
    )
    blocks = {b.exercise: b for b in selectors.workout_blocks(log=log, unit="kg")}
    squat = blocks[gym.squat]
    assert squat.prefill["from_last_time"]
    assert squat.prefill["load"] == Decimal("102.5")
    bench = blocks[gym.bench]
    assert bench.prefill == {"from_last_time": False, "reps": 8}
    assert blocks[gym.rower].is_cardio
    in_pounds = {b.exercise: b for b in selectors.workout_blocks(log=log, unit="lb")}
    assert in_pounds[gym.squat].prefill["load"] == Decimal("225.97")
