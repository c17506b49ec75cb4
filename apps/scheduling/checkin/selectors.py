"""Reads of the front desk: today's class bookings and 1:1 sessions to check in, with a search
on the client, and what a client at the kiosk may check in to."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from apps.accounts.models import Role, User
from apps.accounts.roles import has_role
from apps.crm.models import Client
from apps.crm.phones import normalise_phone
from apps.scheduling.appointments.selectors import Interval, appointment_list
from apps.scheduling.models import (
    Appointment,
    AppointmentStatus,
    ClassBooking,
    ClassBookingStatus,
)
from apps.tenants.selectors import gym_zone


def _client_search(search: str, prefix: str) -> Q:
    """Every word of `search` in the client's first or last name, email or phone."""
    condition = Q()
    for word in search.split()[:5]:
        condition &= (
            Q(**{f"{prefix}first_name__icontains": word})
            | Q(**{f"{prefix}last_name__icontains": word})
            | Q(**{f"{prefix}email__icontains": word})
            | Q(**{f"{prefix}phone__icontains": word})
        )
    return condition


def _day_bounds(day: date) -> Interval:
    zone = gym_zone()
    start = datetime.combine(day, datetime.min.time(), tzinfo=zone)
    return start.astimezone(UTC), (start + timedelta(days=1)).astimezone(UTC)


CHECKIN_CLASS_STATUSES = (
    ClassBookingStatus.BOOKED,
    ClassBookingStatus.ATTENDED,
    ClassBookingStatus.NO_SHOW,
)
CHECKIN_APPOINTMENT_STATUSES = (
    AppointmentStatus.BOOKED,
    AppointmentStatus.COMPLETED,
    AppointmentStatus.NO_SHOW,
)


def checkin_class_bookings(
    *, viewer: User, day: date | None = None, search: str = ""
) -> QuerySet[ClassBooking]:
    """Class bookings the viewer may check in (booked, attended, or marked no-show): all for
    the front desk and management, a trainer's own classes for a trainer; of one local day
    when `day` is given."""
    bookings = ClassBooking.objects.select_related(
        "client", "occurrence__class_type", "occurrence__trainer__user", "occurrence__room"
    ).filter(occurrence__is_cancelled=False, status__in=CHECKIN_CLASS_STATUSES)
    if has_role(viewer, Role.OWNER, Role.MANAGER, Role.FRONT_DESK):
        pass
    elif has_role(viewer, Role.TRAINER):
        bookings = bookings.filter(occurrence__trainer__user=viewer)
    else:
        return ClassBooking.objects.none()
    if day is not None:
        start, end = _day_bounds(day)
        bookings = bookings.filter(occurrence__starts_at__gte=start, occurrence__starts_at__lt=end)
    if search:
        bookings = bookings.filter(_client_search(search, "client__"))
    return bookings.order_by("occurrence__starts_at", "client__last_name", "pk")


def checkin_appointments(
    *, viewer: User, day: date | None = None, search: str = ""
) -> QuerySet[Appointment]:
    """1:1 sessions the viewer may check in, by the same rules (a trainer: their own)."""
    if not has_role(viewer, Role.OWNER, Role.MANAGER, Role.FRONT_DESK, Role.TRAINER):
        return Appointment.objects.none()
    appointments = appointment_list(viewer=viewer).filter(status__in=CHECKIN_APPOINTMENT_STATUSES)
    if day is not None:
        start, end = _day_bounds(day)
        appointments = appointments.filter(starts_at__gte=start, starts_at__lt=end)
    if search:
        appointments = appointments.filter(_client_search(search, "client__"))
    return appointments.order_by("starts_at", "pk")


def kiosk_client_find(*, identifier: str) -> Client | None:
    """The client a kiosk visitor names by their email or phone number; None unless exactly
    one client matches. A phone number is read as the CRM stores numbers (E.164, the gym's
    default region for national numbers) and must match a whole number, never a part."""
    identifier = identifier.strip()
    if "@" in identifier:
        matches = Client.objects.filter(email__iexact=identifier)
    else:
        try:
            number = normalise_phone(identifier)
        except ValidationError:
            return None
        if not number:
            return None
        matches = Client.objects.filter(phone=number)
    found = list(matches.order_by("pk")[:2])
    return found[0] if len(found) == 1 else None


def kiosk_bookings(
    *, client: Client, now: datetime, before: timedelta, after: timedelta
) -> tuple[list[ClassBooking], list[Appointment]]:
    """The client's booked classes and sessions starting between `after` ago and `before`
    from `now`: what a kiosk check-in may check in."""
    classes = list(
        ClassBooking.objects.select_related("occurrence__class_type", "occurrence__trainer")
        .filter(
            client=client,
            status=ClassBookingStatus.BOOKED,
            occurrence__is_cancelled=False,
            occurrence__starts_at__gte=now - after,
            occurrence__starts_at__lte=now + before,
        )
        .order_by("occurrence__starts_at", "pk")
    )
    sessions = list(
        Appointment.objects.select_related("trainer__user")
        .filter(
            client=client,
            status=AppointmentStatus.BOOKED,
            starts_at__gte=now - after,
            starts_at__lte=now + before,
        )
        .order_by("starts_at", "pk")
    )
    return classes, sessions


def kiosk_already_checked_in(
    *, client: Client, now: datetime, before: timedelta, after: timedelta
) -> list[str]:
    """What the client has already checked in to in the kiosk's window: a second visit to the
    kiosk is told so rather than "not found"."""
    classes = (
        ClassBooking.objects.filter(
            client=client,
            checked_in_at__isnull=False,
            occurrence__starts_at__gte=now - after,
            occurrence__starts_at__lte=now + before,
        )
        .order_by("occurrence__starts_at", "pk")
        .values_list("occurrence__class_type__name", flat=True)
    )
    sessions = Appointment.objects.filter(
        client=client,
        checked_in_at__isnull=False,
        starts_at__gte=now - after,
        starts_at__lte=now + before,
    ).select_related("trainer__user")
    names = list(classes)
    names += [_("Session with %(trainer)s") % {"trainer": a.trainer} for a in sessions]
    return names
