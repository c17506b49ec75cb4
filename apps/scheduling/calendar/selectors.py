"""Reads of the staff calendar: its day and week grids, with filters by trainer, room and
location. Every instant shown is converted to the gym's time zone here, so the
templates only print local times.

Query counts stay flat whatever the number of events: each list is one query with its related
rows joined (or counted) in it, and the grid is built in Python.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import QuerySet

from apps.accounts.models import Role, User
from apps.accounts.roles import has_role
from apps.crm.models import Trainer
from apps.scheduling.appointments.selectors import appointment_list
from apps.scheduling.classes.selectors import occurrence_list
from apps.scheduling.models import (
    Appointment,
    AppointmentStatus,
    ClassOccurrence,
    Location,
    Room,
)
from apps.tenants.selectors import gym_zone

DAY = "day"
WEEK = "week"
VIEWS = (DAY, WEEK)
SLOT_MINUTES = 30
# The grid always shows these hours; earlier or later events stretch it.
FIRST_HOUR = 6
LAST_HOUR = 22
# Cancelled sessions free their time: the calendar leaves them out.
SHOWN_APPOINTMENT_STATUSES = (
    AppointmentStatus.BOOKED,
    AppointmentStatus.COMPLETED,
    AppointmentStatus.NO_SHOW,
)
STAFF_ROLES = (Role.OWNER, Role.MANAGER, Role.TRAINER, Role.FRONT_DESK)


@dataclass(frozen=True)
class CalendarFilters:
    """What the calendar shows: a day or a week around `anchor` (a local date of the gym), for
    one trainer, one room or one location (None: all)."""

    view: str
    anchor: date
    trainer: Trainer | None = None
    room: Room | None = None
    location: Location | None = None

    @property
    def days(self) -> list[date]:
        if self.view == DAY:
            return [self.anchor]
        monday = self.anchor - timedelta(days=self.anchor.weekday())
        return [monday + timedelta(days=offset) for offset in range(7)]

    @property
    def step(self) -> timedelta:
        return timedelta(days=1 if self.view == DAY else 7)


@dataclass
class CalendarEvent:
    kind: str  # "appointment" or "class"
    pk: int
    starts_at: datetime  # local
    ends_at: datetime  # local
    title: str
    trainer: str
    room: str
    status: str = ""
    status_label: str = ""
    booked: int = 0
    capacity: int = 0
    waitlisted: int = 0
    cancelled: bool = False
    can_move: bool = False
    colour_class: str = ""


@dataclass
class CalendarCell:
    """One half hour of one day: the events starting in it, and whether an event (starting
    here or earlier) runs through it, which the grid tints to show lengths."""

    day: date
    events: list[CalendarEvent]
    busy: bool


@dataclass
class CalendarSlot:
    starts_at: time
    cells: list[CalendarCell] = field(default_factory=list)  # one per shown day


@dataclass
class CalendarGrid:
    days: list[date]
    slots: list[CalendarSlot]
    events: list[CalendarEvent]
    zone: ZoneInfo


def calendar_trainers(*, viewer: User) -> QuerySet[Trainer]:
    """The trainers a staff member may pick in the calendar's filter."""
    if not has_role(viewer, *STAFF_ROLES):
        return Trainer.objects.none()
    return Trainer.objects.select_related("user").filter(is_active=True)


def calendar_rooms() -> QuerySet[Room]:
    return Room.objects.select_related("location").order_by("location__name", "name", "pk")


def calendar_locations() -> QuerySet[Location]:
    return Location.objects.order_by("name", "pk")


def day_bounds(days: list[date], zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC instants where the first day starts and the day after the last starts, in the
    gym's zone (a DST day is 23 or 25 hours long)."""
    start = datetime.combine(days[0], time.min, tzinfo=zone).astimezone(UTC)
    end = datetime.combine(days[-1] + timedelta(days=1), time.min, tzinfo=zone).astimezone(UTC)
    return start, end


def calendar_appointments(*, viewer: User, filters: CalendarFilters) -> QuerySet[Appointment]:
    """The appointments of the shown days that `viewer` may see (a trainer: only their own,
    whatever the filter)."""
    start, end = day_bounds(filters.days, gym_zone())
    appointments = appointment_list(viewer=viewer).filter(
        starts_at__lt=end, ends_at__gt=start, status__in=SHOWN_APPOINTMENT_STATUSES
    )
    if filters.trainer is not None:
        appointments = appointments.filter(trainer=filters.trainer)
    if filters.room is not None:
        appointments = appointments.filter(room=filters.room)
    elif filters.location is not None:
        appointments = appointments.filter(room__location=filters.location)
    return appointments.order_by("starts_at", "pk")


def calendar_occurrences(*, viewer: User, filters: CalendarFilters) -> QuerySet[ClassOccurrence]:
    """The classes of the shown days, with booked and waitlisted counts (the timetable is
    open to all staff)."""
    if not has_role(viewer, *STAFF_ROLES):
        return ClassOccurrence.objects.none()
    occurrences = occurrence_list(date_from=filters.days[0], date_to=filters.days[-1])
    if filters.trainer is not None:
        occurrences = occurrences.filter(trainer=filters.trainer)
    if filters.room is not None:
        occurrences = occurrences.filter(room=filters.room)
    elif filters.location is not None:
        occurrences = occurrences.filter(room__location=filters.location)
    return occurrences


def _may_move(viewer: User, appointment: Appointment) -> bool:
    if appointment.status != AppointmentStatus.BOOKED:
        return False
    if has_role(viewer, Role.OWNER, Role.MANAGER, Role.FRONT_DESK):
        return True
    return has_role(viewer, Role.TRAINER) and appointment.trainer.user_id == viewer.pk


def _room_name(room: Room | None) -> str:
    return str(room) if room is not None else ""


def calendar_events(*, viewer: User, filters: CalendarFilters) -> list[CalendarEvent]:
    """Appointments and classes of the shown days as one list in local time, by start."""
    zone = gym_zone()
    events = [
        CalendarEvent(
            kind="appointment",
            pk=appointment.pk,
            starts_at=appointment.starts_at.astimezone(zone),
            ends_at=appointment.ends_at.astimezone(zone),
            title=appointment.client.full_name,
            trainer=appointment.trainer.name,
            room=_room_name(appointment.room),
            status=appointment.status,
            status_label=str(appointment.get_status_display()),
            can_move=_may_move(viewer, appointment),
            colour_class=f"cal-status-{appointment.status}",
        )
        for appointment in calendar_appointments(viewer=viewer, filters=filters)
    ]
    events += [
        CalendarEvent(
            kind="class",
            pk=occurrence.pk,
            starts_at=occurrence.starts_at.astimezone(zone),
            ends_at=occurrence.ends_at.astimezone(zone),
            title=occurrence.class_type.name,
            trainer=occurrence.trainer.name if occurrence.trainer else "",
            room=_room_name(occurrence.room),
            booked=occurrence.booked_count,  # type: ignore[attr-defined]
            capacity=occurrence.capacity,
            waitlisted=occurrence.waitlisted,  # type: ignore[attr-defined]
            cancelled=occurrence.is_cancelled,
            colour_class="cal-class-cancelled" if occurrence.is_cancelled else "cal-class",
        )
        for occurrence in calendar_occurrences(viewer=viewer, filters=filters)
    ]
    events.sort(key=lambda event: (event.starts_at, event.kind, event.pk))
    return events


def _slot_index(moment: datetime) -> int:
    return (moment.hour * 60 + moment.minute) // SLOT_MINUTES


def calendar_grid(*, viewer: User, filters: CalendarFilters) -> CalendarGrid:
    """The shown days as rows of half-hour slots, each cell holding the events that start in
    it. The hours stretch to fit events outside FIRST_HOUR to LAST_HOUR."""
    zone = gym_zone()
    days = filters.days
    events = calendar_events(viewer=viewer, filters=filters)
    first = FIRST_HOUR * 60 // SLOT_MINUTES
    last = LAST_HOUR * 60 // SLOT_MINUTES  # exclusive
    column = {day: index for index, day in enumerate(days)}
    slots_per_day = 24 * 60 // SLOT_MINUTES
    placed: dict[tuple[int, int], list[CalendarEvent]] = {}
    busy: set[tuple[int, int]] = set()
    for event in events:
        # An event that started the day before the first shown day shows at midnight.
        day = max(event.starts_at.date(), days[0])
        if day not in column:
            continue
        index = _slot_index(event.starts_at) if day == event.starts_at.date() else 0
        # The slots it runs through on that day (to midnight when it runs past it).
        end = (
            -(-(event.ends_at.hour * 60 + event.ends_at.minute) // SLOT_MINUTES)
            if event.ends_at.date() == day
            else slots_per_day
        )
        busy.update((slot, column[day]) for slot in range(index, max(end, index + 1)))
        first = min(first, index)
        last = max(last, index + 1)
        placed.setdefault((index, column[day]), []).append(event)
    slots = []
    for index in range(first, last):
        minutes = index * SLOT_MINUTES
        slots.append(
            CalendarSlot(
                starts_at=time(minutes // 60, minutes % 60),
                cells=[
                    CalendarCell(
                        day=day,
                        events=placed.get((index, col), []),
                        busy=(index, col) in busy,
                    )
                    for col, day in enumerate(days)
                ],
            )
        )
    return CalendarGrid(days=days, slots=slots, events=events, zone=zone)
