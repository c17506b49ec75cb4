"""The pure metrics: estimated 1RM, adherence, streaks, needs attention, volume, records."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from apps.workouts import metrics
from apps.workouts.metrics import SetRow

MONDAY = date(2026, 11, 23)


def test_one_rep_max_formulas_on_known_values():
    assert metrics.epley_1rm(Decimal(100), 5) == Decimal("116.67")
    assert metrics.brzycki_1rm(Decimal(100), 5) == Decimal("112.50")
    # One rep is the load itself, by both formulas.
    assert metrics.epley_1rm(Decimal(100), 1) == Decimal(100)
    assert metrics.brzycki_1rm(Decimal(100), 1) == Decimal(100)


@pytest.mark.parametrize("reps", [0, 37, 50, None])
def test_one_rep_max_is_undefined_outside_1_to_36_reps(reps):
    assert metrics.epley_1rm(Decimal(100), reps) is None
    assert metrics.brzycki_1rm(Decimal(100), reps) is None


def test_one_rep_max_at_36_reps_and_without_load():
    assert metrics.brzycki_1rm(Decimal(10), 36) == Decimal("360.00")
    assert metrics.epley_1rm(None, 5) is None


def test_pounds_become_kilograms():
    assert metrics.to_kg(Decimal(225), "lb") == Decimal("102.06")
    assert metrics.to_kg(Decimal("100"), "kg") == Decimal("100.00")
    assert metrics.from_kg(Decimal("102.06"), "lb") == Decimal("225.00")


def test_adherence_with_nothing_scheduled_is_none_not_zero_or_hundred():
    nothing = metrics.adherence(completed=0, scheduled=0)
    assert nothing.ratio is None
    assert nothing.percent is None
    assert metrics.adherence(completed=0, scheduled=4).percent == 0.0
    assert metrics.adherence(completed=3, scheduled=4).percent == 75.0


def test_needs_attention_at_exactly_twenty_points():
    eighty = metrics.adherence(completed=8, scheduled=10)
    sixty = metrics.adherence(completed=6, scheduled=10)
    just_above = metrics.adherence(completed=61, scheduled=100)
    assert metrics.needs_attention(sixty, eighty)  # exactly 20 points
    assert not metrics.needs_attention(just_above, eighty)  # 19 points
    assert not metrics.needs_attention(eighty, sixty)  # better, not worse


def test_needs_attention_needs_both_figures():
    none = metrics.adherence(completed=0, scheduled=0)
    full = metrics.adherence(completed=5, scheduled=5)
    assert not metrics.needs_attention(none, full)
    assert not metrics.needs_attention(full, none)


def _days(*week_counts: int, today: date) -> list[date]:
    """Workout days: week_counts[0] workouts in the current week, [1] in the week before..."""
    monday = metrics.week_start(today)
    days = []
    for weeks_back, count in enumerate(week_counts):
        days += [monday - timedelta(weeks=weeks_back)] * count
    return days


def test_streak_counts_weeks_meeting_the_target():
    today = MONDAY + timedelta(days=6)  # a Sunday
    assert (
        metrics.streak_weeks(workout_days=_days(3, 3, 3, 1, 3, today=today), target=3, today=today)
        == 3
    )


def test_streak_current_week_not_met_yet_does_not_break_it():
    today = MONDAY + timedelta(days=2)
    assert (
        metrics.streak_weeks(workout_days=_days(1, 3, 4, today=today), target=3, today=today) == 2
    )
    assert (
        metrics.streak_weeks(workout_days=_days(0, 3, 4, today=today), target=3, today=today) == 2
    )


def test_streak_current_week_counts_once_met():
    today = MONDAY + timedelta(days=2)
    assert (
        metrics.streak_weeks(workout_days=_days(3, 3, 4, today=today), target=3, today=today) == 3
    )


def test_streak_a_missed_week_breaks_it():
    today = MONDAY
    assert (
        metrics.streak_weeks(workout_days=_days(0, 0, 3, 3, today=today), target=3, today=today)
        == 0
    )


def test_streak_target_is_at_least_one():
    # A week with a target of zero would be "met" by doing nothing: the target is 1 or more.
    today = MONDAY + timedelta(days=3)
    assert metrics.streak_weeks(workout_days=[], target=0, today=today) == 0
    assert (
        metrics.streak_weeks(workout_days=_days(1, 1, 0, today=today), target=0, today=today) == 2
    )


def test_streak_weeks_start_on_monday():
    sunday = MONDAY - timedelta(days=1)
    # Three workouts on the Sunday count for the week before, not the current one.
    assert metrics.streak_weeks(workout_days=[sunday] * 3, target=3, today=MONDAY) == 1
    assert metrics.week_start(sunday) == MONDAY - timedelta(days=7)


def test_weekly_volume_counts_secondary_muscles_at_half():
    rows = [
        SetRow(exercise_id=1, log_id=1, performed_on=MONDAY, reps=5, load_kg=Decimal(100)),
        SetRow(exercise_id=1, log_id=1, performed_on=MONDAY, reps=5, load_kg=Decimal(100)),
    ]
    muscles = {1: (["quads", "glutes", "hamstrings"], ["hamstrings", "lower_back", "chest"])}
    week = metrics.weekly_volume(rows, muscles)[MONDAY]
    # quads + hamstrings are both legs: counted once, in full (primary wins over secondary).
    assert week["legs"] == {"sets": Decimal(2), "volume_kg": Decimal(1000)}
    assert week["glutes"]["volume_kg"] == Decimal(1000)
    assert week["back"] == {"sets": Decimal(1), "volume_kg": Decimal(500)}
    assert week["chest"]["volume_kg"] == Decimal(500)


def test_personal_records_with_their_dates():
    early, late = MONDAY - timedelta(days=7), MONDAY
    rows = [
        SetRow(1, 10, early, 5, Decimal(100)),  # e1RM 116.67, session volume 500 + 480
        SetRow(1, 10, early, 8, Decimal(60)),
        SetRow(1, 11, late, 1, Decimal(120)),  # heaviest; e1RM 120
        SetRow(1, 11, late, 12, Decimal(60)),  # most reps at 60 kg
        SetRow(1, 11, late, 3, Decimal(100)),
    ]
    records = metrics.personal_records(rows)[1]
    assert (records.heaviest.value, records.heaviest.on) == (Decimal(120), late)
    assert (records.best_e1rm.value, records.best_e1rm.on) == (Decimal(120), late)
    assert records.most_reps_at_load[Decimal(60)].value == 12
    assert records.most_reps_at_load[Decimal(100)].value == 5
    assert records.most_reps_at_load[Decimal(100)].on == early
    assert (records.best_session_volume.value, records.best_session_volume.on) == (
        Decimal(1140),
        late,
    )


def test_record_kinds_beaten():
    assert metrics.record_kinds_beaten(
        reps=5, load_kg=Decimal(105), heaviest=Decimal(100), best_e1rm=Decimal(116)
    ) == ["heaviest", "e1rm"]
    assert metrics.record_kinds_beaten(
        reps=10, load_kg=Decimal(90), heaviest=Decimal(100), best_e1rm=Decimal(116)
    ) == ["e1rm"]
    # Nothing to beat yet: the first set is not a "new record".
    assert (
        metrics.record_kinds_beaten(reps=5, load_kg=Decimal(100), heaviest=None, best_e1rm=None)
        == []
    )
