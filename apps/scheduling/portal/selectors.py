"""Reads of the client portal's schedule: the client's own bookings and sessions, the classes
they may book, and when booking opens and free cancelling ends. Instants are UTC; the views
convert them to the gym's time zone."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from apps.accounts.models import Role, User
from apps.accounts.roles import has_role
from apps.crm.models import Client
from apps.scheduling.appointments.selectors import appointment_list
from apps.scheduling.classes.selectors import occurrence_list
from apps.scheduling.models import (
    Appointment,
    AppointmentStatus,
    ClassBooking,
    ClassBookingStatus,
    ClassOccurrence,
)

PORTAL_DAYS_AHEAD = 14


def client_upcoming_class_bookings(*, client: Client) -> list[ClassBooking]:
    """The client's booked and waitlisted classes that have not ended, soonest first (with a
    waitlist place that ended without a spot, so the client sees why until the class ends)."""
    return list(
        ClassBooking.objects.select_related(
            "occurrence__class_type", "occurrence__trainer__user", "occurrence__room__location"
        )
        .filter(
            client=client,
            status__in=(
                ClassBookingStatus.BOOKED,
                ClassBookingStatus.WAITLISTED,
                ClassBookingStatus.WAITLIST_EXPIRED,
            ),
            occurrence__ends_at__gt=timezone.now(),
        )
        .order_by("occurrence__starts_at", "pk")
    )


def client_upcoming_appointments(*, viewer: User) -> QuerySet[Appointment]:
    """The signed-in client's booked 1:1 sessions that have not ended."""
    if not has_role(viewer, Role.CLIENT):
        return Appointment.objects.none()
    return (
        appointment_list(viewer=viewer)
        .filter(status=AppointmentStatus.BOOKED, ends_at__gt=timezone.now())
        .order_by("starts_at", "pk")
    )


def client_bookable_occurrences(*, days_ahead: int = PORTAL_DAYS_AHEAD) -> list[ClassOccurrence]:
    """Classes starting in the next `days_ahead` days that are not cancelled, with spots left
    counted; whether booking is open yet or still is, the template reads from the class
    type."""
    now = timezone.now()
    return list(
        occurrence_list().filter(
            is_cancelled=False, starts_at__gt=now, starts_at__lt=now + timedelta(days=days_ahead)
        )
    )


def booking_window_state(occurrence: ClassOccurrence, now: datetime) -> str:
    """ "not_open", "closed", "full" (booking joins the waitlist) or "open"; the occurrence
    comes from occurrence_list (it carries `spots_left`)."""
    class_type = occurrence.class_type
    if now < occurrence.starts_at - timedelta(days=class_type.booking_opens_days):
        return "not_open"
    if now > occurrence.starts_at - timedelta(minutes=class_type.booking_closes_minutes):
        return "closed"
    if occurrence.spots_left <= 0:  # type: ignore[attr-defined]
        return "full"
    return "open"


def booking_opens_at(occurrence: ClassOccurrence) -> datetime:
    return occurrence.starts_at - timedelta(days=occurrence.class_type.booking_opens_days)


def free_cancel_until(booking: ClassBooking) -> datetime:
    """Until when cancelling this booking is not a late cancel."""
    occurrence = booking.occurrence
    return occurrence.starts_at - timedelta(minutes=occurrence.class_type.late_cancel_minutes)


def is_late_cancel(booking: ClassBooking, now: datetime) -> bool:
    """Whether cancelling this booked spot now would count as a late cancel."""
    return booking.status == ClassBookingStatus.BOOKED and now > free_cancel_until(booking)


def client_booking_get(*, client: Client, pk: int) -> ClassBooking | None:
    """One of the client's own bookings (None for anyone else's, so ids cannot be guessed)."""
    return (
        ClassBooking.objects.select_related("occurrence__class_type", "client")
        .filter(client=client, pk=pk)
        .first()
    )


def bookable_occurrence_get(*, pk: int) -> ClassOccurrence | None:
    return ClassOccurrence.objects.select_related("class_type").filter(pk=pk).first()
