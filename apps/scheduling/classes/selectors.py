"""Reads of group classes: the timetable with spots left, a client's active booking, and what
the staff pages show (the week's classes, the weekly timetable, a class's roster) by role."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet

from apps.accounts.models import Role, User
from apps.accounts.roles import has_role
from apps.crm.models import Client
from apps.crm.selectors import client_list, client_search_q
from apps.scheduling.models import (
    ACTIVE_CLASS_STATUSES,
    SPOT_STATUSES,
    ClassBooking,
    ClassBookingStatus,
    ClassOccurrence,
    ClassSeries,
    ClassType,
)
from apps.tenants.selectors import current_gym


def class_type_list() -> QuerySet[ClassType]:
    return ClassType.objects.order_by("name", "pk")


def occurrence_list(
    *, date_from: date | None = None, date_to: date | None = None
) -> QuerySet[ClassOccurrence]:
    """The timetable (every signed-in user of the gym may see it), with `spots_left` and
    `waitlisted` counted in the same query. Dates are days in the gym's time zone, both
    included."""
    occurrences = ClassOccurrence.objects.select_related(
        "class_type", "trainer__user", "room__location"
    ).annotate(
        booked_count=Count("bookings", filter=Q(bookings__status__in=SPOT_STATUSES)),
        waitlisted=Count("bookings", filter=Q(bookings__status="waitlisted")),
        spots_left=F("capacity") - Count("bookings", filter=Q(bookings__status__in=SPOT_STATUSES)),
    )
    zone = ZoneInfo(current_gym().time_zone)
    if date_from is not None:
        occurrences = occurrences.filter(
            starts_at__gte=datetime.combine(date_from, time.min, tzinfo=zone)
        )
    if date_to is not None:
        occurrences = occurrences.filter(
            starts_at__lt=datetime.combine(date_to + timedelta(days=1), time.min, tzinfo=zone)
        )
    return occurrences.order_by("starts_at", "pk")


def active_booking(*, occurrence: ClassOccurrence, client: Client) -> ClassBooking | None:
    return (
        ClassBooking.objects.select_related("occurrence__class_type", "client")
        .filter(occurrence=occurrence, client=client, status__in=ACTIVE_CLASS_STATUSES)
        .first()
    )


# --- The staff pages: the week's classes, the timetable, a class's roster ----------------------

STAFF_CLASS_ROLES = (Role.OWNER, Role.MANAGER, Role.FRONT_DESK, Role.TRAINER)
# What a roster lists: who holds a spot, who waits for one, and who waited in vain (the class
# started first).
ROSTER_STATUSES = (
    *SPOT_STATUSES,
    ClassBookingStatus.WAITLISTED,
    ClassBookingStatus.WAITLIST_EXPIRED,
)


def staff_occurrence_list(
    *, viewer: User, date_from: date, date_to: date
) -> QuerySet[ClassOccurrence]:
    """The classes of the days `date_from` to `date_to` a staff member works with: every class
    for management and the front desk, a trainer's own classes for a trainer; counts as in
    occurrence_list."""
    occurrences = occurrence_list(date_from=date_from, date_to=date_to)
    if has_role(viewer, Role.OWNER, Role.MANAGER, Role.FRONT_DESK):
        return occurrences
    if has_role(viewer, Role.TRAINER):
        return occurrences.filter(trainer__user=viewer)
    return occurrences.none()


def staff_occurrence_get(*, viewer: User, pk: int) -> ClassOccurrence:
    """One class the viewer may open (its roster); ClassOccurrence.DoesNotExist otherwise, for
    a class of another trainer as for one that does not exist."""
    occurrences = ClassOccurrence.objects.select_related(
        "class_type", "trainer__user", "room__location", "series"
    )
    if has_role(viewer, Role.OWNER, Role.MANAGER, Role.FRONT_DESK):
        return occurrences.get(pk=pk)
    if has_role(viewer, Role.TRAINER):
        return occurrences.get(pk=pk, trainer__user=viewer)
    raise ClassOccurrence.DoesNotExist


def roster(
    *, occurrence: ClassOccurrence
) -> tuple[list[ClassBooking], list[ClassBooking], list[ClassBooking]]:
    """A class's bookings holding a spot (by client name), its waitlist (in order), and the
    places whose waitlist closed when the class started: one query whatever the class's
    size."""
    bookings = list(
        ClassBooking.objects.select_related("client")
        .filter(occurrence=occurrence, status__in=ROSTER_STATUSES)
        .order_by("waitlist_position", "client__last_name", "client__first_name", "pk")
    )
    waiting = [b for b in bookings if b.status == ClassBookingStatus.WAITLISTED]
    expired = [b for b in bookings if b.status == ClassBookingStatus.WAITLIST_EXPIRED]
    holding = [b for b in bookings if b.status in SPOT_STATUSES]
    return holding, waiting, expired


def series_list(*, viewer: User, today: date) -> QuerySet[ClassSeries]:
    """The weekly timetable: series that have not ended, for the staff who manage classes."""
    if not has_role(viewer, Role.OWNER, Role.MANAGER):
        return ClassSeries.objects.none()
    return (
        ClassSeries.objects.select_related("class_type", "trainer__user", "room__location")
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=today))
        .order_by("local_start_time", "class_type__name", "pk")
    )


def class_type_get(*, pk: int) -> ClassType:
    return ClassType.objects.get(pk=pk)


def staff_booking_get(*, viewer: User, pk: int) -> ClassBooking:
    """One booking of a class the viewer may open (staff_occurrence_get's rule), with its
    client and class; ClassBooking.DoesNotExist otherwise."""
    bookings = ClassBooking.objects.select_related(
        "client", "occurrence__class_type", "occurrence__trainer__user"
    )
    if has_role(viewer, Role.OWNER, Role.MANAGER, Role.FRONT_DESK):
        return bookings.get(pk=pk)
    if has_role(viewer, Role.TRAINER):
        return bookings.get(pk=pk, occurrence__trainer__user=viewer)
    raise ClassBooking.DoesNotExist


# How many clients a search on the roster offers: enough to pick from, few enough to scan.
ROSTER_SEARCH_RESULTS = 8


def roster_bookable_clients(
    *, viewer: User, occurrence: ClassOccurrence, search: str
) -> list[Client]:
    """Clients the viewer may see (crm's client_list: a trainer their own) matching every word
    of `search` (crm's client search per word, so "Ann Able" finds Ann Able) and not already
    booked or waiting for this class, by name; at most ROSTER_SEARCH_RESULTS. Whether each
    may be booked is class_book's to say."""
    words = search.strip()[:100].split()[:3]
    if not words:
        return []
    clients = client_list(viewer=viewer, prefetch_trainers=False)
    for word in words:
        clients = clients.filter(client_search_q(word))
    already = ClassBooking.objects.filter(
        client=OuterRef("pk"), occurrence=occurrence, status__in=ACTIVE_CLASS_STATUSES
    )
    return list(
        clients.filter(~Exists(already)).order_by("last_name", "first_name", "pk")[
            :ROSTER_SEARCH_RESULTS
        ]
    )
