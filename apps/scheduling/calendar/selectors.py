"""Reads of the staff calendar: a time grid of a day, a week, or one day by trainer or by room,
with filters by trainer, room and location. Every instant shown is converted to the gym's time
zone here, so the templates only print local times.

The grid is rows of SLOT_MINUTES; an event is placed by the row it starts in and the number of
rows it lasts, both given to the template as class names (`cal-r-<row> cal-span-<rows>`) that
static/scheduling/calendar.css maps to grid lines: the CSP allows no style attributes.

Query counts stay flat whatever the number of events: each list is one query with its related
rows joined (or counted) in it, and the grid is built in Python.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

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
from apps.tenants.selectors import current_gym, gym_zone, opening_hours_list

DAY = "day"
WEEK = "week"
TRAINERS = "trainers"
ROOMS = "rooms"
VIEWS = (DAY, WEEK, TRAINERS, ROOMS)
# Views of one day with a column per trainer or per room.
RESOURCE_VIEWS = (TRAINERS, ROOMS)
SLOT_MINUTES = 15
SLOTS_PER_DAY = 24 * 60 // SLOT_MINUTES
# Side-by-side lanes for overlapping events; the stylesheet has classes up to this many.
MAX_LANES = 6
# Without opening hours the grid shows these hours; events outside them stretch it.
FIRST_HOUR = 6
LAST_HOUR = 22
# Cancelled sessions free their time: the calendar leaves them out.
SHOWN_APPOINTMENT_STATUSES = (
    AppointmentStatus.BOOKED,
    AppointmentStatus.COMPLETED,
    AppointmentStatus.NO_SHOW,
)
STAFF_ROLES = (Role.OWNER, Role.MANAGER, Role.TRAINER, Role.FRONT_DESK)
# Appointments take one of a few tints by trainer, so a week reads at a glance.
TONES = 6


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
        if self.view != WEEK:
            return [self.anchor]
        monday = self.anchor - timedelta(days=self.anchor.weekday())
        return [monday + timedelta(days=offset) for offset in range(7)]

    @property
    def step(self) -> timedelta:
        return timedelta(days=7 if self.view == WEEK else 1)


@dataclass
class CalendarEvent:
    kind: str  # "appointment" or "class"
    pk: int
    starts_at: datetime  # local
    ends_at: datetime  # local
    title: str
    trainer: str
    room: str
    trainer_id: int | None = None
    room_id: int | None = None
    status: str = ""
    status_label: str = ""
    booked: int = 0
    capacity: int = 0
    waitlisted: int = 0
    cancelled: bool = False
    can_move: bool = False
    colour_class: str = ""

    @property
    def minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)


@dataclass
class PlacedEvent:
    """An event in a column of the grid: its first row (1-based), how many rows it spans, and
    its lane when it overlaps others (`lanes` in its group; the last lane stretches to the
    column's right edge)."""

    event: CalendarEvent
    row: int
    span: int
    lane: int = 1
    lanes: int = 1

    @property
    def placement(self) -> str:
        classes = [f"cal-r-{self.row}", f"cal-span-{self.span}", f"cal-lane-{self.lane}"]
        if self.lane == self.lanes:
            classes.append("cal-lane-end")
        if self.span <= 2:
            classes.append("cal-short")
        return " ".join(classes)


@dataclass
class CalendarRow:
    """One SLOT_MINUTES row of the grid."""

    index: int  # 1-based grid line
    starts_at: time

    @property
    def is_hour(self) -> bool:
        return self.starts_at.minute == 0


@dataclass
class CalendarColumn:
    """A day (day and week views) or a trainer or room (on one day)."""

    key: str  # what a drop must keep: "" in day and week views
    label: str
    day: date
    is_today: bool
    placed: list[PlacedEvent] = field(default_factory=list)
    lanes: int = 1
    sublabel: str = ""


@dataclass
class AgendaDay:
    day: date
    is_today: bool
    events: list[CalendarEvent]


@dataclass
class NowMark:
    """Where today's "now" line sits (in every column of today): its row and the minutes into
    that row."""

    row: int
    offset: int
    minute_of_day: int


@dataclass
class CalendarGrid:
    days: list[date]
    columns: list[CalendarColumn]
    rows: list[CalendarRow]
    events: list[CalendarEvent]
    agenda: list[AgendaDay]
    zone: ZoneInfo
    first_minute: int  # of the day, at row 1
    now: NowMark | None = None

    @property
    def hours(self) -> list[CalendarRow]:
        return [row for row in self.rows if row.is_hour]

    @property
    def body_class(self) -> str:
        return f"cal-rows-{len(self.rows)}"


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
            trainer_id=appointment.trainer_id,
            room_id=appointment.room_id,
            status=appointment.status,
            status_label=str(appointment.get_status_display()),
            can_move=_may_move(viewer, appointment),
            colour_class=(
                f"cal-status-{appointment.status} cal-tone-{appointment.trainer_id % TONES}"
            ),
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
            trainer_id=occurrence.trainer_id,
            room_id=occurrence.room_id,
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


def _minute_of_day(moment: datetime) -> int:
    return moment.hour * 60 + moment.minute


def visible_minutes(days: list[date], events: list[CalendarEvent]) -> tuple[int, int]:
    """The part of the day the grid shows, in minutes from midnight, on whole hours: the gym's
    opening hours on the shown weekdays (FIRST_HOUR to LAST_HOUR when it has none), stretched
    to hold every event."""
    weekdays = {day.weekday() for day in days}
    hours = [h for h in opening_hours_list(gym=current_gym()) if h.weekday in weekdays]
    if hours:
        first = min(h.opens_at.hour * 60 + h.opens_at.minute for h in hours)
        last = max(h.closes_at.hour * 60 + h.closes_at.minute for h in hours)
    else:
        first, last = FIRST_HOUR * 60, LAST_HOUR * 60
    for event in events:
        if event.starts_at.date() < days[0]:
            first = 0  # began the day before: shown from midnight
        else:
            first = min(first, _minute_of_day(event.starts_at))
        if event.ends_at.date() > event.starts_at.date():
            last = 24 * 60  # runs to midnight or past it
        else:
            last = max(last, _minute_of_day(event.ends_at))
    first = first // 60 * 60
    last = min(-(-last // 60) * 60, 24 * 60)
    return first, max(last, first + 60)


def _place(event: CalendarEvent, day: date, first: int, last: int) -> PlacedEvent:
    """The rows of `day` the event covers (clipped to the visible part of the day)."""
    start = _minute_of_day(event.starts_at) if event.starts_at.date() == day else 0
    end = _minute_of_day(event.ends_at) if event.ends_at.date() == day else 24 * 60
    start, end = max(start, first), min(max(end, start + SLOT_MINUTES), last)
    row = (start - first) // SLOT_MINUTES + 1
    span = max(1, -(-(end - first) // SLOT_MINUTES) - row + 1)
    return PlacedEvent(event=event, row=row, span=span)


def _assign_lanes(placed: list[PlacedEvent]) -> int:
    """Put overlapping events side by side: each group of events that overlap one another gets
    as many lanes as it needs at most at once. Returns the column's widest group."""
    widest = 1
    group: list[PlacedEvent] = []
    group_end = 0
    lane_ends: list[int] = []

    def close_group() -> None:
        for member in group:
            member.lanes = len(lane_ends)

    for item in sorted(placed, key=lambda p: (p.row, -p.span, p.event.pk)):
        if group and item.row >= group_end:
            close_group()
            group, lane_ends = [], []
        for lane, ends in enumerate(lane_ends):
            if ends <= item.row:
                lane_ends[lane] = item.row + item.span
                item.lane = lane + 1
                break
        else:
            lane_ends.append(item.row + item.span)
            item.lane = len(lane_ends)
        item.lane = min(item.lane, MAX_LANES)
        group.append(item)
        group_end = max(group_end, item.row + item.span)
        widest = max(widest, len(lane_ends))
    close_group()
    for item in placed:
        item.lanes = min(item.lanes, MAX_LANES)
    return min(widest, MAX_LANES)


def _resource_columns(
    *, viewer: User, filters: CalendarFilters, events: list[CalendarEvent], today: date
) -> tuple[list[CalendarColumn], dict[int | None, CalendarColumn]]:
    """One column per trainer or per room (the filtered ones), and one for events without."""
    day = filters.anchor
    columns: list[CalendarColumn] = []
    by_id: dict[int | None, CalendarColumn] = {}
    if filters.view == TRAINERS:
        trainers = [filters.trainer] if filters.trainer else calendar_trainers(viewer=viewer)
        for trainer in trainers:
            column = CalendarColumn(
                key=f"trainer-{trainer.pk}", label=trainer.name, day=day, is_today=day == today
            )
            columns.append(column)
            by_id[trainer.pk] = column
        ids = {event.trainer_id for event in events}
        none_label = _("No trainer")
    else:
        rooms: Any = calendar_rooms()
        if filters.room is not None:
            rooms = [filters.room]
        elif filters.location is not None:
            rooms = rooms.filter(location=filters.location)
        for room in rooms:
            column = CalendarColumn(
                key=f"room-{room.pk}",
                label=room.name,
                sublabel=room.location.name,
                day=day,
                is_today=day == today,
            )
            columns.append(column)
            by_id[room.pk] = column
        ids = {event.room_id for event in events}
        none_label = _("No room")
    if None in ids:
        column = CalendarColumn(key="none", label=none_label, day=day, is_today=day == today)
        columns.append(column)
        by_id[None] = column
    return columns, by_id


def calendar_grid(
    *, viewer: User, filters: CalendarFilters, now: datetime | None = None
) -> CalendarGrid:
    """The shown days as a time grid: columns (days, or trainers or rooms of one day), rows of
    SLOT_MINUTES over the gym's opening hours, each event placed by its start and length; the
    same events as a day-by-day agenda for phones; and today's "now" line."""
    zone = gym_zone()
    local_now = (now or timezone.now()).astimezone(zone)
    today = local_now.date()
    days = filters.days
    events = calendar_events(viewer=viewer, filters=filters)
    first, last = visible_minutes(days, events)
    rows = [
        CalendarRow(index=index + 1, starts_at=time(minute // 60, minute % 60))
        for index, minute in enumerate(range(first, last, SLOT_MINUTES))
    ]
    if filters.view in RESOURCE_VIEWS:
        columns, by_id = _resource_columns(
            viewer=viewer, filters=filters, events=events, today=today
        )
        for event in events:
            key = event.trainer_id if filters.view == TRAINERS else event.room_id
            if key in by_id:
                by_id[key].placed.append(_place(event, filters.anchor, first, last))
    else:
        columns = [CalendarColumn(key="", label="", day=day, is_today=day == today) for day in days]
        by_day = {column.day: column for column in columns}
        for event in events:
            # An event that began the day before the first shown day shows from midnight.
            day = max(event.starts_at.date(), days[0])
            if day in by_day:
                by_day[day].placed.append(_place(event, day, first, last))
    for column in columns:
        column.lanes = _assign_lanes(column.placed)
    agenda = [
        AgendaDay(
            day=day,
            is_today=day == today,
            events=[e for e in events if e.starts_at.date() <= day <= e.ends_at.date()],
        )
        for day in days
    ]
    mark = None
    minute = _minute_of_day(local_now)
    if today in days and first <= minute < last:
        mark = NowMark(
            row=(minute - first) // SLOT_MINUTES + 1,
            offset=(minute - first) % SLOT_MINUTES,
            minute_of_day=minute,
        )
    return CalendarGrid(
        days=days,
        columns=columns,
        rows=rows,
        events=events,
        agenda=agenda,
        zone=zone,
        first_minute=first,
        now=mark,
    )
