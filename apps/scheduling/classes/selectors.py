"""Reads of group classes: the timetable with spots left, and a client's active booking."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Count, F, Q, QuerySet

from apps.crm.models import Client
from apps.scheduling.models import (
    ACTIVE_CLASS_STATUSES,
    SPOT_STATUSES,
    ClassBooking,
    ClassOccurrence,
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
