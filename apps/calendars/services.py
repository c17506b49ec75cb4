"""Writes of calendars: feed tokens and appointment reminders."""

from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.audit.services import audit_record
from apps.calendars.models import CalendarFeed, ReminderSent
from apps.calendars.selectors import token_hash
from apps.scheduling.models import Appointment, AppointmentStatus
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
        Appointment.objects.select_related("client", "trainer__user", "room")
        .filter(
            status=AppointmentStatus.BOOKED,
            starts_at__gt=now,
            starts_at__lte=now + timedelta(hours=hours),
            client__notify_by_email=True,
        )
        .exclude(client__email="")
        .exclude(reminders_sent__kind=kind)
    )
    queued = 0
    for appointment in due:
        try:
            with transaction.atomic():
                _, created = ReminderSent.objects.get_or_create(appointment=appointment, kind=kind)
                if not created:
                    continue
                subject, body = _reminder_message(appointment=appointment, zone=zone, link=link)
                recipient = appointment.client.email
                transaction.on_commit(
                    lambda s=subject, b=body, r=recipient: send_mail(
                        s, b, settings.DEFAULT_FROM_EMAIL, [r]
                    )
                )
        except IntegrityError:
            # Another run recorded this reminder between our check and our insert.
            logger.info("Reminder %s for appointment %s already sent", kind, appointment.pk)
            continue
        queued += 1
    return queued
