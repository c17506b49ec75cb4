"""Writes of the calendar feeds (tokens) and of the reminders of sessions and class bookings."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.audit.services import audit_record
from apps.ics_feeds.models import CalendarFeed, ReminderSent
from apps.ics_feeds.selectors import token_hash
from apps.scheduling.models import (
    Appointment,
    AppointmentStatus,
    ClassBooking,
    ClassBookingStatus,
)
from apps.tenants.branding import email_language, gym_email_body
from apps.tenants.selectors import current_gym, gym_url

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


def _reminder_message(*, appointment: Appointment, zone: ZoneInfo, link: str) -> tuple[str, str]:
    local_start = timezone.localtime(appointment.starts_at, zone)
    when = f"{date_format(local_start, 'DATE_FORMAT')} {local_start:%H:%M}"
    subject = _("Reminder: your session on %(when)s") % {"when": when}
    body = _(
        "Hello %(name)s,\n\nThis is a reminder of your session with %(trainer)s on %(when)s "
        "(%(zone)s).%(place)s\n\nYour schedule: %(link)s\n"
    ) % {
        "name": appointment.client.first_name,
        "trainer": appointment.trainer,
        "when": when,
        "zone": zone.key,
        "place": f"\n{_('Room')}: {appointment.room.name}" if appointment.room else "",
        "link": link,
    }
    return subject, body


def appointment_reminders_send(*, now: datetime | None = None) -> int:
    """Remind clients of booked appointments starting within APPOINTMENT_REMINDER_HOURS.

    The ReminderSent row is written first and the email goes out only once its transaction
    commits: a second or concurrent run finds the row (or hits the unique constraint) and skips,
    so each appointment gets each kind of reminder exactly once. Returns how many were queued.
    """
    now = now or timezone.now()
    hours = settings.APPOINTMENT_REMINDER_HOURS
    kind = _reminder_kind(hours)
    gym = current_gym()
    zone = ZoneInfo(gym.time_zone)
    link = gym_url(gym=gym, path="/portal/")
    due = (
        Appointment.objects.select_related("client__user", "trainer__user", "room")
        .filter(
            status=AppointmentStatus.BOOKED,
            starts_at__gt=now,
            starts_at__lte=now + timedelta(hours=hours),
            client__notify_by_email=True,
        )
        .exclude(client__email="")
        .exclude(reminders_sent__kind=kind)
    )
    return sum(
        _send_once(
            kind=kind,
            about={"appointment": appointment},
            recipient=appointment.client.email,
            language=email_language(appointment.client.user),
            message=lambda a=appointment: _reminder_message(appointment=a, zone=zone, link=link),
        )
        for appointment in due
    )


def _send_once(
    *,
    kind: str,
    about: dict[str, Any],
    recipient: str,
    language: str,
    message: Callable[[], tuple[str, str]],
) -> bool:
    """Record the reminder `kind` about one appointment or class booking, and email it after
    the commit: only the run whose row the database accepted sends, so a reminder goes out
    once however many runs overlap. True when this run sent it."""
    try:
        with transaction.atomic():
            _, created = ReminderSent.objects.get_or_create(**about, kind=kind)
            if not created:
                return False
            with translation.override(language):
                subject, body = message()
                body = gym_email_body(body)
            transaction.on_commit(
                lambda: send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [recipient])
            )
    except IntegrityError:
        # Another run recorded this reminder between our check and our insert.
        logger.info("Reminder %s about %s already sent", kind, about)
        return False
    return True


def class_reminder_hours() -> int:
    """How long before a class its booked clients are reminded (CLASS_REMINDER_HOURS, else
    the appointments' setting)."""
    return settings.CLASS_REMINDER_HOURS


def _class_reminder_message(*, booking: ClassBooking, zone: ZoneInfo, link: str) -> tuple[str, str]:
    occurrence = booking.occurrence
    local_start = timezone.localtime(occurrence.starts_at, zone)
    when = f"{date_format(local_start, 'DATE_FORMAT')} {local_start:%H:%M}"
    subject = _("Reminder: %(class)s on %(when)s") % {
        "class": occurrence.class_type.name,
        "when": when,
    }
    lines = []
    if occurrence.trainer is not None:
        lines.append(f"{_('Trainer')}: {occurrence.trainer}")
    if occurrence.room is not None:
        lines.append(f"{_('Room')}: {occurrence.room.name}")
    body = _(
        "Hello %(name)s,\n\nThis is a reminder of your %(class)s class on %(when)s "
        "(%(zone)s).%(details)s\n\nCannot come? Cancel your spot so someone on the waiting "
        "list can have it: %(link)s\n"
    ) % {
        "name": booking.client.first_name,
        "class": occurrence.class_type.name,
        "when": when,
        "zone": zone.key,
        "details": "".join(f"\n{line}" for line in lines),
        "link": link,
    }
    return subject, body


def class_reminders_send(*, now: datetime | None = None) -> int:
    """Remind clients holding a spot (booked, not waitlisted or cancelled) in a class that is
    not cancelled and starts within class_reminder_hours().

    Same guarantee as appointment_reminders_send: the ReminderSent row is written first and the
    email leaves once it commits, so each booking gets each kind of reminder exactly once.
    Returns how many were queued.
    """
    now = now or timezone.now()
    hours = class_reminder_hours()
    kind = _reminder_kind(hours)
    gym = current_gym()
    zone = ZoneInfo(gym.time_zone)
    link = gym_url(gym=gym, path="/portal/")
    due = (
        ClassBooking.objects.select_related(
            "client__user",
            "occurrence__class_type",
            "occurrence__trainer__user",
            "occurrence__room",
        )
        .filter(
            status=ClassBookingStatus.BOOKED,
            occurrence__is_cancelled=False,
            occurrence__starts_at__gt=now,
            occurrence__starts_at__lte=now + timedelta(hours=hours),
            client__notify_by_email=True,
        )
        .exclude(client__email="")
        .exclude(reminders_sent__kind=kind)
    )
    return sum(
        _send_once(
            kind=kind,
            about={"class_booking": booking},
            recipient=booking.client.email,
            language=email_language(booking.client.user),
            message=lambda b=booking: _class_reminder_message(booking=b, zone=zone, link=link),
        )
        for booking in due
    )
