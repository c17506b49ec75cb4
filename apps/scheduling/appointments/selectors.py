"""Reads of 1:1 sessions: when a trainer works, which slots are free, and which appointments a
viewer may see. Weekly windows are local times of the gym; every instant returned is UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from django.db.models import Q, QuerySet

from apps.accounts.models import Role, User
from apps.accounts.roles import has_role
from apps.crm.models import Trainer
from apps.scheduling.models import (
    BLOCKING_STATUSES,
    Appointment,
    Availability,
    AvailabilityException,
    ExceptionKind,
)
from apps.tenants.selectors import gym_zone

Interval = tuple[datetime, datetime]


def _merge(intervals: list[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _subtract(intervals: list[Interval], holes: list[Interval]) -> list[Interval]:
    result = intervals
    for hole_start, hole_end in holes:
        remaining: list[Interval] = []
        for start, end in result:
            if hole_end <= start or hole_start >= end:
                remaining.append((start, end))
                continue
            if start < hole_start:
                remaining.append((start, hole_start))
            if hole_end < end:
                remaining.append((hole_end, end))
        result = remaining
    return result


def available_intervals(*, trainer: Trainer, start: datetime, end: datetime) -> list[Interval]:
    """The UTC intervals within [start, end) the trainer works: weekly windows, plus extra
    hours, minus time off. Each window is built as a local wall-clock time on its own date and
    only then converted, so an 18:00 window stays at 18:00 local across daylight-saving
    changes."""
    zone = gym_zone()
    first_day = start.astimezone(zone).date() - timedelta(days=1)
    last_day = end.astimezone(zone).date() + timedelta(days=1)
    windows: dict[int, list[Availability]] = {}
    for window in Availability.objects.filter(trainer=trainer):
        windows.setdefault(window.weekday, []).append(window)

    intervals: list[Interval] = []
    day = first_day
    while day <= last_day:
        for window in windows.get(day.weekday(), []):
            local_start = datetime.combine(day, window.start_time, tzinfo=zone)
            local_end = datetime.combine(day, window.end_time, tzinfo=zone)
            intervals.append((local_start.astimezone(UTC), local_end.astimezone(UTC)))
        day += timedelta(days=1)

    exceptions = AvailabilityException.objects.filter(
        trainer=trainer, starts_at__lt=end, ends_at__gt=start
    )
    time_off: list[Interval] = []
    for exception in exceptions:
        interval = (exception.starts_at.astimezone(UTC), exception.ends_at.astimezone(UTC))
        if exception.kind == ExceptionKind.EXTRA:
            intervals.append(interval)
        else:
            time_off.append(interval)

    clipped = [(max(s, start), min(e, end)) for s, e in _merge(intervals)]
    return _subtract([(s, e) for s, e in clipped if s < e], sorted(time_off))


def is_available(*, trainer: Trainer, starts_at: datetime, ends_at: datetime) -> bool:
    """Whether [starts_at, ends_at) lies wholly inside the trainer's working hours."""
    return any(
        s <= starts_at and ends_at <= e
        for s, e in available_intervals(trainer=trainer, start=starts_at, end=ends_at)
    )


def overlapping_appointments(
    *, starts_at: datetime, ends_at: datetime, trainer: Trainer | None = None, room: object = None
) -> QuerySet[Appointment]:
    """Appointments that hold the trainer's or the room's time within [starts_at, ends_at)."""
    who = Q()
    if trainer is not None:
        who |= Q(trainer=trainer)
    if room is not None:
        who |= Q(room=room)
    if not who:
        return Appointment.objects.none()
    return Appointment.objects.filter(
        who, status__in=BLOCKING_STATUSES, starts_at__lt=ends_at, ends_at__gt=starts_at
    ).order_by("starts_at", "pk")


def free_slots(
    *, trainer: Trainer, date_from: date, date_to: date, slot_minutes: int = 60
) -> list[datetime]:
    """Starts (aware, UTC) of the free `slot_minutes` slots of the trainer between two local
    dates of the gym, both included. Slots start at each working window's start."""
    zone = gym_zone()
    start = datetime.combine(date_from, datetime.min.time(), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(
        date_to + timedelta(days=1), datetime.min.time(), tzinfo=zone
    ).astimezone(UTC)
    busy = [
        (a.starts_at, a.ends_at)
        for a in overlapping_appointments(starts_at=start, ends_at=end, trainer=trainer)
    ]
    length = timedelta(minutes=slot_minutes)
    slots: list[datetime] = []
    for window_start, window_end in available_intervals(trainer=trainer, start=start, end=end):
        slot = window_start
        while slot + length <= window_end:
            if not any(b_start < slot + length and slot < b_end for b_start, b_end in busy):
                slots.append(slot)
            slot += length
    return slots


def appointment_list(*, viewer: User) -> QuerySet[Appointment]:
    """The appointments `viewer` may see: staff at the desk and management see all, a trainer
    their own, a client theirs."""
    appointments = Appointment.objects.select_related("trainer__user", "client", "room__location")
    if has_role(viewer, Role.OWNER, Role.MANAGER, Role.FRONT_DESK):
        return appointments
    if has_role(viewer, Role.TRAINER):
        return appointments.filter(trainer__user=viewer)
    if has_role(viewer, Role.CLIENT):
        return appointments.filter(client__user=viewer)
    return appointments.none()
