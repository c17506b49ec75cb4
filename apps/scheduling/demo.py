"""The demo gym's timetable: one location with three rooms, the trainers' weekly hours, group
classes from three weeks back to two weeks ahead with their bookings (full classes with
waitlists, attendance, no-shows, late cancels and the strikes they earn), and 1:1 sessions of
the trainers with their assigned clients.

Deterministic (seeded). The set-up (location, rooms, working hours, generating the classes, the
demo client's own bookings) goes through the services, so it has an audit trail. The history
(about a thousand class bookings and a few hundred sessions with their outcomes) is written in
bulk: the services rightly refuse to book the past, and booking one by one would be slow. The
bulk rows keep every rule the services keep: capacity, waitlist positions 1..n, no double
booking of a trainer or a room, and no client blocked by the strike policy.

Running it again only generates the classes still missing up to two weeks ahead.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Count
from django.utils import timezone

from apps.accounts.models import User
from apps.crm.models import Assignment, Client, ClientStatus, Trainer
from apps.scheduling.appointments import services
from apps.scheduling.appointments.selectors import is_available, overlapping_appointments
from apps.scheduling.classes import services as class_services
from apps.scheduling.gym_settings import services as setup_services
from apps.scheduling.models import (
    ACTIVE_CLASS_STATUSES,
    SPOT_STATUSES,
    Appointment,
    AppointmentStatus,
    ClassBooking,
    ClassBookingStatus,
    ClassOccurrence,
    ClassSeries,
    ClassType,
    Location,
    PolicySettings,
    Room,
    Strike,
    StrikeKind,
)
from apps.tenants.selectors import current_gym

WEEKS_BACK = 3
DAYS_AHEAD = 14
LOCATION_NAME = "Demo Gym Shoreditch"
LOCATION_ADDRESS = "12 Example Street, London E2 7AB"
STUDIO, SPIN, PT_SUITE = "Studio", "Spin studio", "PT suite"
ROOMS = ((STUDIO, 20), (SPIN, 14), (PT_SUITE, 1))
WEEKDAYS = (0, 1, 2, 3, 4)
# Working hours of the trainers seeded by apps.crm.demo, in their order (the first is the demo
# trainer's login): (weekdays, from, to), local time of the gym. Their classes fall inside.
HOURS: tuple[tuple[tuple[tuple[int, ...], str, str], ...], ...] = (
    ((WEEKDAYS, "07:00", "12:00"), (WEEKDAYS, "13:00", "19:00"), ((5,), "09:00", "13:00")),
    ((WEEKDAYS, "07:00", "15:00"),),
    ((WEEKDAYS, "07:00", "14:00"), ((5,), "08:30", "12:30")),
    ((WEEKDAYS, "07:00", "11:00"), (WEEKDAYS, "15:00", "19:00")),
    ((WEEKDAYS, "10:00", "19:00"),),
)
# name, description, capacity, minutes, colour
CLASS_TYPES = (
    ("Spin", "Indoor cycling to music, intervals on the bike.", 14, 45, "#c2410c"),
    ("Yoga", "Vinyasa flow for mobility and breathing; all levels.", 16, 60, "#0e7490"),
    ("HIIT", "High-intensity intervals: short, hard, done.", 18, 45, "#be123c"),
    ("Pilates", "Mat Pilates for core strength and posture.", 12, 50, "#7c3aed"),
    ("Strength", "Coached barbell technique in small groups.", 10, 60, "#1a7f5a"),
)
# class type, trainer index, room, RFC 5545 days, local start
SERIES = (
    ("Spin", 3, SPIN, "MO,WE,FR", "07:00"),
    ("Spin", 4, SPIN, "TU,TH", "18:00"),
    ("Yoga", 2, STUDIO, "TU,TH", "07:30"),
    ("Yoga", 2, STUDIO, "SA", "09:00"),
    ("HIIT", 4, STUDIO, "MO,WE", "18:00"),
    ("HIIT", 1, STUDIO, "FR", "12:15"),
    ("Pilates", 2, STUDIO, "MO,WE", "12:15"),
    ("Strength", 0, STUDIO, "TU,TH", "18:00"),
    ("Strength", 0, STUDIO, "SA", "10:30"),
)
# Strikes a seeded client may collect: one fewer than the default limit, so nobody starts out
# blocked from booking.
MAX_STRIKES = PolicySettings._meta.get_field("strike_limit").default - 1
VIDEO_LINK = "https://meet.example.com/demo-{pk}"
DEMO_CLIENT_EMAIL = "client@demo.example"


def _clock(text: str) -> time:
    return time.fromisoformat(text)


def _local(day: date, at: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, at, tzinfo=zone)


class _Ledger:
    """What the generator has handed out so far: strikes per client, and the busy time of
    each trainer, room and client (so no one is booked in two places at once)."""

    def __init__(self) -> None:
        self.strikes: dict[int, int] = defaultdict(int)
        self.busy: dict[tuple[str, int], list[tuple[datetime, datetime]]] = defaultdict(list)

    def may_strike(self, client_id: int) -> bool:
        return self.strikes[client_id] < MAX_STRIKES

    def is_free(self, key: tuple[str, int], start: datetime, end: datetime) -> bool:
        return all(end <= s or start >= e for s, e in self.busy[key])

    def hold(self, key: tuple[str, int], start: datetime, end: datetime) -> None:
        self.busy[key].append((start, end))


def _counts() -> dict[str, int]:
    return {
        "rooms": Room.objects.count(),
        "classes": ClassOccurrence.objects.count(),
        "class bookings": ClassBooking.objects.count(),
        "appointments": Appointment.objects.count(),
        "strikes": Strike.objects.count(),
    }


def _horizon(today: date) -> date:
    return today + timedelta(days=DAYS_AHEAD)


def seed_schedule(*, owner: User, seed: int = 2026) -> dict[str, int]:
    """Fill the current gym's timetable (see the module docstring). Safe to run again: once the
    demo location exists it only tops the classes up to two weeks ahead."""
    zone = ZoneInfo(current_gym().time_zone)
    now = timezone.now()
    today = now.astimezone(zone).date()
    if Location.objects.filter(name=LOCATION_NAME).exists():
        for series in ClassSeries.objects.order_by("pk"):
            class_services.series_generate_occurrences(
                series=series, until=_horizon(today), actor=owner
            )
        return _counts()

    rng = random.Random(seed)  # noqa: S311 - demo data, not security
    coaches = list(Trainer.objects.select_related("user").order_by("pk")[: len(HOURS)])
    location = setup_services.location_create(
        actor=owner, name=LOCATION_NAME, address=LOCATION_ADDRESS
    )
    rooms = {
        name: setup_services.room_create(
            actor=owner, location=location, name=name, capacity=capacity
        )
        for name, capacity in ROOMS
    }
    for trainer, windows in zip(coaches, HOURS, strict=False):
        for weekdays, start, end in windows:
            for weekday in weekdays:
                setup_services.availability_add(
                    actor=owner,
                    trainer=trainer,
                    weekday=weekday,
                    start_time=_clock(start),
                    end_time=_clock(end),
                )

    # Class types and series have no service of their own (the admin saves them as entered);
    # generating their classes does.
    types = {
        name: ClassType.objects.create(
            name=name,
            description=description,
            default_capacity=capacity,
            duration_minutes=minutes,
            colour=colour,
        )
        for name, description, capacity, minutes, colour in CLASS_TYPES
    }
    first_monday = today - timedelta(days=today.weekday(), weeks=WEEKS_BACK)
    for type_name, coach, room_name, days, start in SERIES:
        class_type, room = types[type_name], rooms[room_name]
        series = ClassSeries.objects.create(
            class_type=class_type,
            trainer=coaches[coach] if coach < len(coaches) else None,
            room=room,
            capacity=min(class_type.default_capacity, room.capacity),
            local_start_time=_clock(start),
            duration_minutes=class_type.duration_minutes,
            rrule=f"FREQ=WEEKLY;BYDAY={days}",
            starts_on=first_monday,
        )
        class_services.series_generate_occurrences(
            series=series, until=_horizon(today), actor=owner
        )

    occurrences = list(
        ClassOccurrence.objects.select_related("class_type").order_by("starts_at", "pk")
    )
    # One upcoming class called off (the trainer is on a course), as happens.
    upcoming = [o for o in occurrences if o.starts_at > now + timedelta(days=3)]
    if upcoming:
        cancelled = rng.choice(upcoming)
        class_services.occurrence_update(actor=owner, occurrence=cancelled, is_cancelled=True)
        cancelled.is_cancelled = True

    demo_client = Client.objects.filter(email=DEMO_CLIENT_EMAIL).first()
    ledger = _Ledger()
    _seed_class_bookings(rng, occurrences, demo_client, ledger, now)
    _seed_appointments(rng, coaches, rooms[PT_SUITE], occurrences, demo_client, ledger, now, zone)
    if demo_client is not None:
        _book_for_demo_client(demo_client, owner, occurrences, now)
    return _counts()


# --- Classes ----------------------------------------------------------------------------------


def _booking_times(
    rng: random.Random, occurrence: ClassOccurrence, count: int, now: datetime
) -> list[datetime]:
    """When `count` bookings arrived, in order: within the booking window, before now."""
    opens = occurrence.starts_at - timedelta(days=occurrence.class_type.booking_opens_days)
    latest = min(now, occurrence.starts_at) - timedelta(minutes=5)
    span = max(60, int((latest - opens).total_seconds()))
    return sorted(latest - timedelta(seconds=rng.randint(60, span)) for _ in range(count))


def _seed_class_bookings(
    rng: random.Random,
    occurrences: list[ClassOccurrence],
    demo_client: Client | None,
    ledger: _Ledger,
    now: datetime,
) -> None:
    pool = list(
        Client.objects.filter(status__in=(ClientStatus.ACTIVE, ClientStatus.TRIAL))
        .exclude(pk=getattr(demo_client, "pk", None))
        .order_by("pk")
    )
    # Each class type has its regulars, who make up most of a class.
    regulars = {
        type_id: rng.sample(pool, min(len(pool), 30))
        for type_id in sorted({o.class_type_id for o in occurrences})
    }
    bookings: list[ClassBooking] = []
    strikes: list[tuple[ClassBooking, str, datetime]] = []
    # The demo client went to a few classes lately.
    past = [o for o in occurrences if o.ends_at <= now and not o.is_cancelled]
    demo_classes = (
        set(rng.sample([o.pk for o in past], min(5, len(past)))) if demo_client else set()
    )

    for occurrence in occurrences:
        if occurrence.is_cancelled:
            continue
        capacity = occurrence.capacity
        is_past = occurrence.starts_at <= now
        full = rng.random() < (0.25 if is_past else 0.35)
        if full:
            spots = capacity
        else:
            spots = rng.randint(capacity * 45 // 100, max(capacity * 45 // 100, capacity - 1))
        waiting = 0
        if not is_past:
            # Bookings build up as the day comes closer; the popular ones fill and queue.
            days_ahead = (occurrence.starts_at - now).days
            if full and days_ahead <= 7:
                waiting = rng.randint(1, 4)
            else:
                spots = max(1, round(spots * max(0.3, 1 - days_ahead / 16)))
        mine = occurrence.pk in demo_classes and spots < capacity
        wanted = spots + waiting + 1  # and one who books, then cancels in good time
        regular = regulars[occurrence.class_type_id]
        ends = occurrence.ends_at
        picked: list[Client] = []
        seen: set[int] = set()
        for candidate in rng.sample(regular, len(regular)) + rng.sample(pool, len(pool)):
            if len(picked) == wanted:
                break
            key = ("client", candidate.pk)
            if candidate.pk not in seen and ledger.is_free(key, occurrence.starts_at, ends):
                seen.add(candidate.pk)
                picked.append(candidate)
        holders, queue = picked[:spots], picked[spots : spots + waiting]
        extra = picked[spots + waiting :]
        if mine and demo_client is not None:
            holders.append(demo_client)
        for client in holders + queue:  # nobody is in two places at once
            ledger.hold(("client", client.pk), occurrence.starts_at, ends)
        times = iter(_booking_times(rng, occurrence, len(holders) + len(queue) + len(extra), now))
        for client in holders:
            booking = ClassBooking(
                occurrence=occurrence,
                client=client,
                status=ClassBookingStatus.BOOKED,
                created_at=next(times),
            )
            if is_past:
                _settle_past_booking(rng, booking, occurrence, client, ledger, strikes)
            bookings.append(booking)
        for position, client in enumerate(queue, start=1):
            bookings.append(
                ClassBooking(
                    occurrence=occurrence,
                    client=client,
                    status=ClassBookingStatus.WAITLISTED,
                    waitlist_position=position,
                    created_at=next(times),
                )
            )
        # Now and then someone books and cancels in good time.
        if extra and rng.random() < 0.3:
            bookings.append(
                ClassBooking(
                    occurrence=occurrence,
                    client=extra[0],
                    status=ClassBookingStatus.CANCELLED,
                    created_at=next(times),
                )
            )

    arrivals = [booking.created_at for booking in bookings]
    ClassBooking.objects.bulk_create(bookings, batch_size=500)
    # created_at is set on insert (auto_now_add); the arrival order is what it records.
    for booking, arrived in zip(bookings, arrivals, strict=True):
        booking.created_at = arrived
    ClassBooking.objects.bulk_update(bookings, ["created_at"], batch_size=500)
    Strike.objects.bulk_create(
        [
            Strike(client_id=b.client_id, kind=kind, class_booking=b, occurred_at=at)
            for b, kind, at in strikes
        ]
    )


def _settle_past_booking(
    rng: random.Random,
    booking: ClassBooking,
    occurrence: ClassOccurrence,
    client: Client,
    ledger: _Ledger,
    strikes: list[tuple[ClassBooking, str, datetime]],
) -> None:
    """How a booking of a class that has started turned out: mostly attended, now and then a
    no-show or a late cancel (each a strike, up to MAX_STRIKES a client)."""
    roll = rng.random()
    may_strike = ledger.may_strike(client.pk) and client.email != DEMO_CLIENT_EMAIL
    if roll < 0.06 and may_strike:
        booking.status = ClassBookingStatus.NO_SHOW
        strikes.append((booking, StrikeKind.NO_SHOW, occurrence.starts_at))
        ledger.strikes[client.pk] += 1
    elif roll < 0.10 and may_strike:
        booking.status = ClassBookingStatus.LATE_CANCELLED
        window = occurrence.class_type.late_cancel_minutes
        at = occurrence.starts_at - timedelta(minutes=rng.randint(20, max(21, window - 10)))
        booking.created_at = min(booking.created_at, at - timedelta(hours=1))
        strikes.append((booking, StrikeKind.LATE_CANCEL, at))
        ledger.strikes[client.pk] += 1
    else:
        booking.status = ClassBookingStatus.ATTENDED
        booking.checked_in_at = occurrence.starts_at - timedelta(minutes=rng.randint(2, 25))


# --- 1:1 sessions -----------------------------------------------------------------------------


def _trainer_clients() -> dict[int, list[Client]]:
    found: dict[int, list[Client]] = defaultdict(list)
    for assignment in (
        Assignment.objects.filter(
            ends_on__isnull=True, client__status__in=(ClientStatus.ACTIVE, ClientStatus.TRIAL)
        )
        .select_related("client")
        .order_by("trainer_id", "client_id")
    ):
        found[assignment.trainer_id].append(assignment.client)
    return found


def _session_slots(
    trainer_index: int, day: date, zone: ZoneInfo
) -> list[tuple[datetime, datetime]]:
    """Whole hours inside the trainer's windows of that day."""
    slots = []
    for weekdays, start, end in HOURS[trainer_index]:
        if day.weekday() not in weekdays:
            continue
        moment = _local(day, _clock(start), zone)
        last = _local(day, _clock(end), zone)
        while moment + timedelta(hours=1) <= last:
            slots.append((moment, moment + timedelta(hours=1)))
            moment += timedelta(hours=1)
    return slots


def _seed_appointments(
    rng: random.Random,
    coaches: list[Trainer],
    pt_suite: Room,
    occurrences: list[ClassOccurrence],
    demo_client: Client | None,
    ledger: _Ledger,
    now: datetime,
    zone: ZoneInfo,
) -> None:
    for occurrence in occurrences:
        if occurrence.trainer_id is not None and not occurrence.is_cancelled:
            ledger.hold(
                ("trainer", occurrence.trainer_id), occurrence.starts_at, occurrence.ends_at
            )
    today = now.astimezone(zone).date()
    first_monday = today - timedelta(days=today.weekday(), weeks=WEEKS_BACK)
    clients = _trainer_clients()
    appointments: list[Appointment] = []
    strikes: list[tuple[Appointment, str, datetime]] = []
    for index, trainer in enumerate(coaches):
        mine = clients.get(trainer.pk, [])
        if not mine:
            continue
        day = first_monday
        while day <= _horizon(today):
            slots = _session_slots(index, day, zone)
            booked_today: set[int] = set()
            for start, _end in rng.sample(slots, min(len(slots), rng.randint(1, 3))):
                minutes = rng.choice((45, 60, 60))
                end = start + timedelta(minutes=minutes)
                client = rng.choice(mine)
                if (
                    client.pk in booked_today
                    or not ledger.is_free(("trainer", trainer.pk), start, end)
                    or not ledger.is_free(("client", client.pk), start, end)
                ):
                    continue
                booked_today.add(client.pk)
                ledger.hold(("client", client.pk), start, end)
                appointment = Appointment(
                    trainer=trainer,
                    client=client,
                    starts_at=start,
                    ends_at=end,
                    created_by=trainer.user,
                )
                roll = rng.random()
                if roll < 0.15:
                    appointment.video_link = VIDEO_LINK.format(pk=trainer.pk)
                elif roll < 0.75 and ledger.is_free(("room", pt_suite.pk), start, end):
                    appointment.room = pt_suite
                    ledger.hold(("room", pt_suite.pk), start, end)
                ledger.hold(("trainer", trainer.pk), start, end)
                _settle_appointment(rng, appointment, client, demo_client, ledger, strikes, now)
                appointments.append(appointment)
            day += timedelta(days=1)
    Appointment.objects.bulk_create(appointments, batch_size=500)
    Strike.objects.bulk_create(
        [
            Strike(client_id=a.client_id, kind=kind, appointment=a, occurred_at=at)
            for a, kind, at in strikes
        ]
    )


def _settle_appointment(
    rng: random.Random,
    appointment: Appointment,
    client: Client,
    demo_client: Client | None,
    ledger: _Ledger,
    strikes: list[tuple[Appointment, str, datetime]],
    now: datetime,
) -> None:
    roll = rng.random()
    if appointment.starts_at > now:
        if roll < 0.05:
            appointment.status = AppointmentStatus.CANCELLED
        return
    may_strike = ledger.may_strike(client.pk) and client != demo_client
    if roll < 0.07 and may_strike:
        appointment.status = AppointmentStatus.NO_SHOW
        strikes.append((appointment, StrikeKind.NO_SHOW, appointment.starts_at))
        ledger.strikes[client.pk] += 1
    elif roll < 0.15:
        appointment.status = AppointmentStatus.CANCELLED
    elif roll < 0.19 and may_strike:
        appointment.status = AppointmentStatus.LATE_CANCELLED
        at = appointment.starts_at - timedelta(hours=rng.randint(1, 20))
        strikes.append((appointment, StrikeKind.LATE_CANCEL, at))
        ledger.strikes[client.pk] += 1
    elif appointment.ends_at <= now:
        appointment.status = AppointmentStatus.COMPLETED
        if rng.random() < 0.7:
            appointment.checked_in_at = appointment.starts_at - timedelta(
                minutes=rng.randint(1, 10)
            )


# --- The demo client's own bookings, through the services ---------------------------------


def _client_is_free(client: Client, start: datetime, end: datetime) -> bool:
    """No session or class of the client's overlaps [start, end)."""
    return not (
        Appointment.objects.filter(
            client=client, status=AppointmentStatus.BOOKED, starts_at__lt=end, ends_at__gt=start
        ).exists()
        or ClassBooking.objects.filter(
            client=client,
            status__in=ACTIVE_CLASS_STATUSES,
            occurrence__starts_at__lt=end,
            occurrence__ends_at__gt=start,
        ).exists()
    )


def _book_for_demo_client(
    client: Client, owner: User, occurrences: list[ClassOccurrence], now: datetime
) -> None:
    """Two upcoming classes and a place on a waitlist, booked as the client would in the
    portal, and a 1:1 session with their trainer: the portal's schedule is not empty."""
    actor = client.user if client.user_id else owner
    soon = [
        o
        for o in occurrences
        if not o.is_cancelled and now + timedelta(hours=2) < o.starts_at < now + timedelta(days=7)
    ]
    taken = {
        row["occurrence_id"]: row["n"]
        for row in ClassBooking.objects.filter(occurrence__in=soon, status__in=SPOT_STATUSES)
        .values("occurrence_id")
        .annotate(n=Count("pk"))
    }
    free = [o for o in soon if taken.get(o.pk, 0) < o.capacity]
    full = [o for o in soon if taken.get(o.pk, 0) >= o.capacity]
    chosen: list[ClassOccurrence] = []
    for occurrence in free:
        if not _client_is_free(client, occurrence.starts_at, occurrence.ends_at):
            continue
        if all(
            abs(occurrence.starts_at - other.starts_at) > timedelta(hours=3) for other in chosen
        ):
            chosen.append(occurrence)
        if len(chosen) == 2:
            break
    if full:
        chosen.append(full[0])
    for occurrence in chosen:
        class_services.class_book(actor=actor, occurrence=occurrence, client=client)

    assignment = (
        Assignment.objects.filter(client=client, ends_on__isnull=True)
        .select_related("trainer")
        .order_by("-is_primary", "pk")
        .first()
    )
    if assignment is None:
        return
    trainer = assignment.trainer
    zone = ZoneInfo(current_gym().time_zone)
    day = now.astimezone(zone).date() + timedelta(days=2)
    for _attempt in range(14):
        for hour in (10, 11, 9, 15, 16):
            start = _local(day, time(hour), zone)
            end = start + timedelta(hours=1)
            if not is_available(trainer=trainer, starts_at=start, ends_at=end):
                continue
            if overlapping_appointments(starts_at=start, ends_at=end, trainer=trainer).exists():
                continue
            if ClassOccurrence.objects.filter(
                trainer=trainer, starts_at__lt=end, ends_at__gt=start, is_cancelled=False
            ).exists():
                continue
            if not _client_is_free(client, start, end):
                continue
            room = Room.objects.filter(name=PT_SUITE).first()
            if (
                room is not None
                and overlapping_appointments(starts_at=start, ends_at=end, room=room).exists()
            ):
                room = None
            services.appointment_book(
                actor=actor,
                trainer=trainer,
                client=client,
                starts_at=start,
                ends_at=end,
                room=room,
                notes="Technique check and plan review.",
            )
            return
        day += timedelta(days=1)
