"""Training metrics as pure functions: no database, no clock. The selectors feed them rows.

Definitions (what the staff progress page and the API report):

- Estimated 1RM: Epley w * (1 + r / 30) and Brzycki w * 36 / (37 - r), for 1 <= r <= 36 (Brzycki
  divides by zero at 37); one rep is the load itself. Outside that range there is no estimate.
- Weekly volume per muscle group: sets x reps x load (kg) of the exercise's primary muscle groups,
  and half of that for each secondary muscle group that is not also a primary one. Muscles map to
  groups through apps.training.vocabulary.MUSCLE_GROUP; two muscles of one group count once.
- Adherence: completed / scheduled scheduled workouts dated in the window (today and the days
  before it). Nothing scheduled gives None ("no plan"), never 0% or 100%.
- Streak: consecutive Monday-based weeks with at least the weekly target of completed workout
  logs (of scheduled workouts or free ones, by the day performed), counted back from the current
  week; the current week counts once it is met and does not
  break the streak while it is not.
- Needs attention: 30-day adherence at least 20 percentage points below the 90-day adherence,
  when both exist.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from apps.training.vocabulary import MUSCLE_GROUP

KG_PER_LB = Decimal("0.45359237")
TWO_PLACES = Decimal("0.01")
MAX_ESTIMATE_REPS = 36
ATTENTION_DROP_POINTS = 20
SECONDARY_SHARE = Decimal("0.5")


def to_kg(value: Decimal, unit: str) -> Decimal:
    """A load typed in `unit` ("kg" or "lb") in kilograms, to two places."""
    kilograms = value * KG_PER_LB if unit == "lb" else value
    return kilograms.quantize(TWO_PLACES, rounding=ROUND_HALF_UP)


def from_kg(value: Decimal, unit: str) -> Decimal:
    """A load in kilograms shown in `unit` ("kg" or "lb"), to two places."""
    shown = value / KG_PER_LB if unit == "lb" else value
    return shown.quantize(TWO_PLACES, rounding=ROUND_HALF_UP)


def _estimable(load: Decimal | None, reps: int | None) -> bool:
    return load is not None and reps is not None and 1 <= reps <= MAX_ESTIMATE_REPS


def epley_1rm(load: Decimal | None, reps: int | None) -> Decimal | None:
    """Epley: load * (1 + reps / 30); the load itself for one rep."""
    if not _estimable(load, reps):
        return None
    assert load is not None
    assert reps is not None
    if reps == 1:
        return Decimal(load).quantize(TWO_PLACES)
    return (Decimal(load) * (1 + Decimal(reps) / 30)).quantize(TWO_PLACES, ROUND_HALF_UP)


def brzycki_1rm(load: Decimal | None, reps: int | None) -> Decimal | None:
    """Brzycki: load * 36 / (37 - reps); the load itself for one rep."""
    if not _estimable(load, reps):
        return None
    assert load is not None
    assert reps is not None
    return (Decimal(load) * 36 / (37 - Decimal(reps))).quantize(TWO_PLACES, ROUND_HALF_UP)


@dataclass(frozen=True)
class Adherence:
    completed: int
    scheduled: int

    @property
    def ratio(self) -> Fraction | None:
        return Fraction(self.completed, self.scheduled) if self.scheduled else None

    @property
    def percent(self) -> float | None:
        ratio = self.ratio
        return None if ratio is None else round(float(ratio * 100), 1)


def adherence(*, completed: int, scheduled: int) -> Adherence:
    return Adherence(completed=min(completed, scheduled), scheduled=scheduled)


def needs_attention(recent: Adherence, longer: Adherence) -> bool:
    """30-day adherence `recent` at least ATTENTION_DROP_POINTS below the 90-day `longer`.
    Exact fractions: 60% against 80% is exactly 20 points, and flags."""
    if recent.ratio is None or longer.ratio is None:
        return False
    return (longer.ratio - recent.ratio) * 100 >= ATTENTION_DROP_POINTS


def week_start(day: date) -> date:
    """The Monday of `day`'s week."""
    return day - timedelta(days=day.weekday())


def streak_weeks(*, workout_days: Iterable[date], target: int, today: date) -> int:
    """Consecutive weeks meeting `target` (at least 1), back from the week of `today`."""
    target = max(1, target)
    per_week: dict[date, int] = {}
    for day in workout_days:
        if day <= today:
            monday = week_start(day)
            per_week[monday] = per_week.get(monday, 0) + 1
    monday = week_start(today)
    streak = 0
    if per_week.get(monday, 0) >= target:
        streak += 1
    # The current week not (yet) met does not break the streak: start from the week before.
    monday -= timedelta(days=7)
    while per_week.get(monday, 0) >= target:
        streak += 1
        monday -= timedelta(days=7)
    return streak


def muscle_group_shares(primary: Iterable[str], secondary: Iterable[str]) -> dict[str, Decimal]:
    """The share of an exercise's volume each muscle group gets: 1 for primary groups, one half
    for secondary groups that are not primary."""
    shares: dict[str, Decimal] = {}
    for muscle in secondary:
        group = MUSCLE_GROUP.get(muscle)
        if group:
            shares[str(group)] = SECONDARY_SHARE
    for muscle in primary:
        group = MUSCLE_GROUP.get(muscle)
        if group:
            shares[str(group)] = Decimal(1)
    return shares


@dataclass(frozen=True)
class SetRow:
    """What the metrics need of one logged (not skipped) set."""

    exercise_id: int
    log_id: int
    performed_on: date
    reps: int | None
    load_kg: Decimal | None


def set_volume(row: SetRow) -> Decimal:
    if row.reps is None or row.load_kg is None:
        return Decimal(0)
    return Decimal(row.reps) * row.load_kg


def weekly_volume(
    rows: Iterable[SetRow], muscles: dict[int, tuple[list[str], list[str]]]
) -> dict[date, dict[str, dict[str, Decimal]]]:
    """{monday: {group: {"sets": n, "volume_kg": kg}}}; `muscles` maps an exercise id to its
    (primary, secondary) muscles. Sets count like volume: a secondary group gets half a set."""
    weeks: dict[date, dict[str, dict[str, Decimal]]] = {}
    for row in rows:
        primary, secondary = muscles.get(row.exercise_id, ([], []))
        volume = set_volume(row)
        groups = weeks.setdefault(week_start(row.performed_on), {})
        for group, share in muscle_group_shares(primary, secondary).items():
            totals = groups.setdefault(group, {"sets": Decimal(0), "volume_kg": Decimal(0)})
            totals["sets"] += share
            totals["volume_kg"] += volume * share
    return weeks


@dataclass
class Record:
    value: Decimal
    on: date
    reps: int | None = None
    load_kg: Decimal | None = None


@dataclass
class ExerciseRecords:
    """Personal records of one exercise, each with the day it was set."""

    exercise_id: int
    heaviest: Record | None = None
    best_e1rm: Record | None = None
    best_session_volume: Record | None = None
    # load (kg) -> most reps done with it
    most_reps_at_load: dict[Decimal, Record] | None = None

    @property
    def most_reps(self) -> Record | None:
        if not self.most_reps_at_load:
            return None
        return max(self.most_reps_at_load.values(), key=lambda r: (r.value, r.load_kg or 0))


def _beats(current: Record | None, value: Decimal) -> bool:
    return current is None or value > current.value


def personal_records(rows: Iterable[SetRow]) -> dict[int, ExerciseRecords]:
    """Records per exercise from its logged sets; ties keep the earliest date (rows in any
    order: they are sorted by day here)."""
    records: dict[int, ExerciseRecords] = {}
    session_volume: dict[tuple[int, int], tuple[Decimal, date]] = {}
    for row in sorted(rows, key=lambda r: (r.performed_on, r.log_id)):
        rec = records.setdefault(row.exercise_id, ExerciseRecords(row.exercise_id, None))
        if row.load_kg is not None and _beats(rec.heaviest, row.load_kg):
            rec.heaviest = Record(row.load_kg, row.performed_on, row.reps, row.load_kg)
        estimate = epley_1rm(row.load_kg, row.reps)
        if estimate is not None and _beats(rec.best_e1rm, estimate):
            rec.best_e1rm = Record(estimate, row.performed_on, row.reps, row.load_kg)
        if row.reps is not None:
            load = row.load_kg if row.load_kg is not None else Decimal(0)
            at_load = rec.most_reps_at_load if rec.most_reps_at_load is not None else {}
            rec.most_reps_at_load = at_load
            if _beats(at_load.get(load), Decimal(row.reps)):
                at_load[load] = Record(Decimal(row.reps), row.performed_on, row.reps, load)
        key = (row.exercise_id, row.log_id)
        before = session_volume.get(key, (Decimal(0), row.performed_on))[0]
        session_volume[key] = (before + set_volume(row), row.performed_on)
    for (exercise_id, _log_id), (volume, day) in session_volume.items():
        rec = records[exercise_id]
        best = rec.best_session_volume
        tie_earlier = best is not None and volume == best.value and day < best.on
        if volume > 0 and (_beats(best, volume) or tie_earlier):
            rec.best_session_volume = Record(volume, day)
    return records


def record_kinds_beaten(
    *,
    reps: int | None,
    load_kg: Decimal | None,
    heaviest: Decimal | None,
    best_e1rm: Decimal | None,
) -> list[str]:
    """Which records a new set beats ("heaviest", "e1rm"), given the best before it. The first
    set of an exercise sets records but is no badge-worthy surprise: it needs a record to beat."""
    beaten = []
    if load_kg is not None and load_kg > 0 and heaviest is not None and load_kg > heaviest:
        beaten.append("heaviest")
    estimate = epley_1rm(load_kg, reps)
    if estimate is not None and best_e1rm is not None and estimate > best_e1rm:
        beaten.append("e1rm")
    return beaten
