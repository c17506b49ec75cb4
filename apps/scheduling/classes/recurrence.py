"""Weekly timetables as RFC 5545 recurrence rules: built from the days a person ticks, and read
back as those days. Staff never type a rule; the builder form writes it with dateutil."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from dateutil.rrule import WEEKLY, rrule, weekday
from dateutil.rrule import weekdays as RRULE_WEEKDAYS  # noqa: N812 - dateutil's MO..SU
from django.core.exceptions import ValidationError
from django.utils.dates import WEEKDAYS_ABBR

from apps.scheduling.models import parse_recurrence

# Monday is 0, as in Python's date.weekday() and dateutil.
WEEKDAY_NUMBERS = range(7)


def weekly_rule(*, weekdays: Iterable[int]) -> str:
    """The RRULE value (without "RRULE:") of a class every week on `weekdays`, e.g.
    "FREQ=WEEKLY;BYDAY=MO,WE" for Monday and Wednesday."""
    days = sorted(set(weekdays))
    if not days or any(day not in WEEKDAY_NUMBERS for day in days):
        raise ValueError(f"weekdays must be 0-6, at least one: {days!r}")
    # dtstart only fixes the rule's anchor for str(); the series keeps its own start date.
    anchor = datetime(2000, 1, 3)  # noqa: DTZ001 - a wall time, as the series keeps it
    built = rrule(WEEKLY, byweekday=[RRULE_WEEKDAYS[day] for day in days], dtstart=anchor)
    line = next(part for part in str(built).splitlines() if part.startswith("RRULE:"))
    return line.removeprefix("RRULE:")


def rule_weekdays(rule: str) -> list[int]:
    """The weekdays (0-6) of a weekly rule, empty when the rule is not a simple weekly one (a
    rule written in the admin may be anything dateutil reads)."""
    try:
        parsed = parse_recurrence(rule, dtstart=datetime(2000, 1, 3))  # noqa: DTZ001 - wall time
    except ValidationError:  # stored before rules were checked: shown without days
        return []
    if not isinstance(parsed, rrule) or parsed._freq != WEEKLY:
        return []
    days: Iterable[int | weekday] = parsed._byweekday or ()
    return sorted({int(day) if isinstance(day, int) else day.weekday for day in days})


def weekdays_label(days: Iterable[int]) -> str:
    """ "Mon, Wed" in the active language."""
    return ", ".join(str(WEEKDAYS_ABBR[day]) for day in days)
