"""Reads of the calendar feeds: which feed a token opens and what it shows."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta

from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.ics_feeds.ics import Event
from apps.ics_feeds.models import CalendarFeed
from apps.scheduling.appointments.selectors import appointment_list
from apps.scheduling.models import AppointmentStatus
from apps.tenants.selectors import current_gym

FEED_PAST = timedelta(days=30)
FEED_FUTURE = timedelta(days=180)
CANCELLED_STATUSES = (AppointmentStatus.CANCELLED, AppointmentStatus.LATE_CANCELLED)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def calendar_feed_get(*, user: User) -> CalendarFeed | None:
    """The user's live feed, if any."""
    return CalendarFeed.objects.filter(user=user, revoked_at__isnull=True).first()


def calendar_feed_by_token(*, token: str) -> CalendarFeed | None:
    """The live feed a raw token opens, in the current gym's schema only (so gym A's token is
    unknown on gym B's host). The database finds the row by the token's hash, an index lookup
    whose timing tells nothing about the secret; the final comparison is constant-time too."""
    digest = token_hash(token)
    feed = (
        CalendarFeed.objects.select_related("user")
        .filter(token_hash=digest, revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if feed is None or not hmac.compare_digest(feed.token_hash, digest):
        return None
    return feed


def calendar_feed_events(*, user: User, now: datetime) -> list[Event]:
    """The user's appointments from 30 days ago to 180 days ahead, as calendar events."""
    host = current_gym().host
    appointments = appointment_list(viewer=user).filter(
        starts_at__gte=now - FEED_PAST, starts_at__lt=now + FEED_FUTURE
    )
    events = []
    for appointment in appointments:
        events.append(
            Event(
                uid=f"appointment-{appointment.pk}@{host}",
                starts_at=appointment.starts_at,
                ends_at=appointment.ends_at,
                summary=_("Training session: %(trainer)s with %(client)s")
                % {"trainer": appointment.trainer, "client": appointment.client},
                location=appointment.room.name if appointment.room else appointment.video_link,
                cancelled=appointment.status in CANCELLED_STATUSES,
            )
        )
    return events
