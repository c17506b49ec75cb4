"""Writes of the calendar feeds (tokens) and of the reminders of sessions and class bookings."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.audit.services import audit_record
from apps.crm.models import Client, Consent, ConsentKind
from apps.ics_feeds.models import CalendarFeed, ReminderSent
from apps.ics_feeds.selectors import token_hash
from apps.notifications.selectors import client_channels
from apps.notifications.services import notify
from apps.scheduling.models import (
    Appointment,
    AppointmentStatus,
    ClassBooking,
    ClassBookingStatus,
)
from apps.tenants.branding import email_language
from apps.tenants.selectors import current_gym

logger = logging.getLogger(__name__)


@transaction.atomic
def calendar_feed_rotate(*, user: User) -> str:
    """Create the user's feed or replace its token; returns the raw token, which is never
    stored and so can be shown only this once. The old URL stops working at once."""
    token = secrets.token_urlsafe(32)
    feed, created = CalendarFeed.objects.update_or_create(
        user=user, defaults={"token_hash": token_hash(token), "revoked_at": None}
    )
    audit_record(
        action="calendar_feed.created" if created else "calendar_feed.rotated",
        actor=user,
        obj=feed,
    )
    return token


@transaction.atomic
def calendar_feed_revoke(*, user: User) -> None:
    updated = CalendarFeed.objects.filter(user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    if updated:
        audit_record(
            action="calendar_feed.revoked", actor=user, obj=CalendarFeed.objects.get(user=user)
        )


def _reminder_kind(hours: int) -> str:
    return f"{hours}h"


def _when(starts_at: datetime, zone: ZoneInfo) -> str:
    local_start = timezone.localtime(starts_at, zone)
    return f"{date_format(local_start, 'DATE_FORMAT')} {local_start:%H:%M} ({zone.key})"


def _reminded_clients() -> Q:
    """Clients a reminder can reach: by email (they take it and have an address) or by SMS
    (they asked for texts and their latest word on SMS consent is yes). Which channels it
    then takes is notify()'s choice, restricted by client_channels()."""
    return Q(client__notify_by_email=True, client__email__gt="") | Q(
        client__notify_by_sms=True, sms_consent=True
    )


def _with_sms_consent(queryset: QuerySet) -> QuerySet:
    return queryset.annotate(
        sms_consent=Subquery(
            Consent.objects.filter(client=OuterRef("client"), kind=ConsentKind.SMS)
            .order_by("-recorded_at", "-pk")
            .values("granted")[:1]
        )
    )


def _remind_once(
    *,
    kind: str,
    about: dict[str, Any],
    client: Client,
    sms_consent: bool | None,
    notification: str,
    event_key: str,
    context: Callable[[], dict[str, Any]],
) -> bool:
    """Record the reminder `kind` about one appointment or class booking and hand it to the
    notification service in the same transaction: only the run whose ReminderSent row the
    database accepted goes on, and notify()'s (channel, event) uniqueness makes each channel
    send once even if that row were lost. Nothing leaves before the commit. True when this run
    sent it."""
    try:
        with transaction.atomic():
            _, created = ReminderSent.objects.get_or_create(**about, kind=kind)
            if not created:
                return False
            # The context is written in the client's language (dates, "with", "Room").
            with translation.override(email_language(client.user)):
                values = context()
            notify(
                kind=notification,
                recipient=client,
                context=values,
                event_key=event_key,
                url="/portal/",
                channels=client_channels(client, sms_consent=bool(sms_consent)),
            )
    except IntegrityError:
        # Another run recorded this reminder between our check and our insert.
        logger.info("Reminder %s about %s already sent", kind, about)
        return False
    return True


def _appointment_context(appointment: Appointment, zone: ZoneInfo) -> dict[str, Any]:
    details = ""
    if appointment.room is not None:
        details = f"{_('Room')}: {appointment.room.name}"
    return {
        "what": _("with %(trainer)s") % {"trainer": appointment.trainer},
        "when": _when(appointment.starts_at, zone),
        "details": details,
    }


def appointment_reminders_send(*, now: datetime | None = None) -> int:
    """Remind clients of booked appointments starting within APPOINTMENT_REMINDER_HOURS, by
    email, SMS, in the app and by push (notification kind "session_reminder").

    The ReminderSent row is written first, in the transaction that records the deliveries:
    a second or concurrent run finds the row (or hits the unique constraint) and skips, so
    each appointment gets each kind of reminder exactly once. Returns how many were queued.
    """
    now = now or timezone.now()
    hours = settings.APPOINTMENT_REMINDER_HOURS
    kind = _reminder_kind(hours)
    zone = ZoneInfo(current_gym().time_zone)
    due = (
        _with_sms_consent(
            Appointment.objects.select_related("client__user", "trainer__user", "room")
        )
        .filter(
            status=AppointmentStatus.BOOKED,
            starts_at__gt=now,
            starts_at__lte=now + timedelta(hours=hours),
        )
        .filter(_reminded_clients())
        .exclude(reminders_sent__kind=kind)
    )
    return sum(
        _remind_once(
            kind=kind,
            about={"appointment": appointment},
            client=appointment.client,
            sms_consent=appointment.sms_consent,
            notification="session_reminder",
            event_key=f"session_reminder:{appointment.pk}:{kind}",
            context=lambda a=appointment: _appointment_context(a, zone),
        )
        for appointment in due
    )


def class_reminder_hours() -> int:
    """How long before a class its booked clients are reminded (CLASS_REMINDER_HOURS, else
    the appointments' setting)."""
    return settings.CLASS_REMINDER_HOURS


def _class_context(booking: ClassBooking, zone: ZoneInfo) -> dict[str, Any]:
    occurrence = booking.occurrence
    lines = []
    if occurrence.trainer is not None:
        lines.append(f"{_('Trainer')}: {occurrence.trainer}")
    if occurrence.room is not None:
        lines.append(f"{_('Room')}: {occurrence.room.name}")
    lines.append(_("Cannot come? Cancel your spot so someone on the waiting list can have it."))
    return {
        "what": occurrence.class_type.name,
        "when": _when(occurrence.starts_at, zone),
        "details": "\n".join(lines),
    }


def class_reminders_send(*, now: datetime | None = None) -> int:
    """Remind clients holding a spot (booked, not waitlisted or cancelled) in a class that is
    not cancelled and starts within class_reminder_hours() (notification kind
    "class_reminder").

    Same guarantee as appointment_reminders_send: the ReminderSent row is written with the
    deliveries, so each booking gets each kind of reminder exactly once. Returns how many were
    queued.
    """
    now = now or timezone.now()
    hours = class_reminder_hours()
    kind = _reminder_kind(hours)
    zone = ZoneInfo(current_gym().time_zone)
    due = (
        _with_sms_consent(
            ClassBooking.objects.select_related(
                "client__user",
                "occurrence__class_type",
                "occurrence__trainer__user",
                "occurrence__room",
            )
        )
        .filter(
            status=ClassBookingStatus.BOOKED,
            occurrence__is_cancelled=False,
            occurrence__starts_at__gt=now,
            occurrence__starts_at__lte=now + timedelta(hours=hours),
        )
        .filter(_reminded_clients())
        .exclude(reminders_sent__kind=kind)
    )
    return sum(
        _remind_once(
            kind=kind,
            about={"class_booking": booking},
            client=booking.client,
            sms_consent=booking.sms_consent,
            notification="class_reminder",
            event_key=f"class_reminder:{booking.pk}:{kind}",
            context=lambda b=booking: _class_context(b, zone),
        )
        for booking in due
    )
