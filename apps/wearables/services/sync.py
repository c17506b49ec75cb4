"""Pulling a connection's data on a schedule and on request ("Sync now"), the same for every
provider: Strava through its backfill, the others through their package's
`apps.wearables.providers.<provider>.services.sync(connection_id=...)`. Apple Health and
MyFitnessPal are uploads and have nothing to pull.

Retries go through the database, not Celery countdowns: a failed sync records its error and a
`next_attempt_at` (backing off the longer it has failed, or as the provider's rate limit says),
and the beat task `connections_sync_due` queues every connection whose attempt is due or whose
last sync is older than its provider's interval, in every gym."""

from __future__ import annotations

import importlib
import logging
import math
import random
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.core.cache import cache
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.wearables import services
from apps.wearables.integrations.errors import (
    AccessRevokedError,
    ProviderError,
    RateLimitedError,
)
from apps.wearables.models import Connection, ConnectionStatus, Provider

logger = logging.getLogger(__name__)

# How stale a connection may get before the beat pulls it. Strava and Garmin push what is new
# (webhooks), so their pull only catches what a lost delivery missed; the Google Health API's
# notifications only say that something changed, so it is pulled more often.
SYNC_INTERVALS: dict[str, timedelta] = {
    Provider.STRAVA: timedelta(hours=24),
    Provider.GARMIN: timedelta(hours=12),
    Provider.GOOGLE_HEALTH: timedelta(hours=2),
}
# "Sync now" once per connection in this time: each sync spends the provider's shared budget.
SYNC_NOW_COOLDOWN_SECONDS = 5 * 60
# A queued connection is not queued again by the next beat run for this long (the task may sit
# in the queue behind others); a sync that ends clears it, a failed one sets its own.
QUEUED_LEASE = timedelta(minutes=25)
# The beat's syncs of one gym start spread over this time, not all at once. Shorter than the
# broker's visibility timeout (a longer countdown would be delivered twice).
SPREAD_SECONDS = 5 * 60
# At most this many syncs per gym and beat run (every 30 minutes): the most overdue first.
MAX_PER_RUN = 500
# A failing connection waits a quarter of the time it has been failing, within these bounds.
MIN_BACKOFF = timedelta(minutes=15)
MAX_BACKOFF = timedelta(hours=6)


class SyncRefusedError(Exception):
    """A sync cannot be started now; the message says why, for the person who asked.
    `too_soon`: asked again within the cooldown (try later); otherwise it cannot sync at all."""

    def __init__(self, message: str, *, too_soon: bool = False) -> None:
        super().__init__(message)
        self.too_soon = too_soon


def _provider_sync(provider: str) -> Callable[..., int] | None:
    """The provider package's `sync(*, connection_id) -> int`, if it has one."""
    try:
        module = importlib.import_module(f"apps.wearables.providers.{provider}.services")
    except ImportError:
        return None
    function = getattr(module, "sync", None)
    return function if callable(function) else None


def can_sync(provider: str) -> bool:
    """Whether there is anything to pull from `provider` (uploads have nothing)."""
    return provider == Provider.STRAVA or (
        provider in SYNC_INTERVALS and _provider_sync(provider) is not None
    )


def _strava_days(connection: Connection, now: datetime) -> int:
    """Strava's pull goes back to the day before the last sync (30 days at most)."""
    if connection.last_sync_at is None:
        return services.BACKFILL_DAYS
    days = math.ceil((now - connection.last_sync_at).total_seconds() / 86400) + 1
    return max(1, min(services.BACKFILL_DAYS, days))


def _backoff(connection: Connection, now: datetime) -> int:
    since = connection.last_sync_at or connection.created_at
    wait = max(MIN_BACKOFF, min(MAX_BACKOFF, (now - since) / 4))
    return int(wait.total_seconds()) + random.randint(0, 60)  # noqa: S311


def connection_sync(*, connection_id: int) -> int:
    """Pull what is new from the connection's provider; returns how many items were stored (or,
    for Garmin, requested). Success and failure are recorded on the connection; a provider
    error is re-raised after its failure (and next attempt) is recorded."""
    connection = Connection.objects.filter(pk=connection_id).first()
    if connection is None or connection.status == ConnectionStatus.DISCONNECTED:
        return 0
    now = timezone.now()
    try:
        if connection.provider == Provider.STRAVA:
            # The backfill records its own success.
            return services.strava_backfill(
                connection_id=connection_id, days=_strava_days(connection, now)
            )
        function = _provider_sync(connection.provider)
        if function is None:
            return 0
        stored = int(function(connection_id=connection_id) or 0)
    except AccessRevokedError:
        # connection_access_token has marked it disconnected and told the client.
        return 0
    except RateLimitedError as error:
        services.sync_failed(
            connection_id=connection_id,
            error=str(error),
            retry_in=error.retry_after + random.randint(1, 60),  # noqa: S311
        )
        raise
    except ProviderError as error:
        services.sync_failed(
            connection_id=connection_id,
            error=str(error) or error.__class__.__name__,
            retry_in=_backoff(connection, now),
        )
        raise
    services.sync_succeeded(connection_id=connection_id)
    return stored


def _queue(connection_id: int, countdown: int = 0) -> None:
    from apps.wearables.tasks import connection_sync_task

    connection_sync_task.apply_async(args=[connection_id], countdown=countdown)


def connection_sync_request(*, connection: Connection) -> None:
    """ "Sync now": queue a sync of the connection, at most once per SYNC_NOW_COOLDOWN_SECONDS.
    Raises SyncRefusedError (with a message for the person) when it cannot be started."""
    name = connection.get_provider_display()
    if connection.status == ConnectionStatus.DISCONNECTED:
        raise SyncRefusedError(
            _("%(provider)s is disconnected: connect it again to sync.") % {"provider": name}
        )
    if not can_sync(connection.provider):
        raise SyncRefusedError(
            _("%(provider)s does not sync by itself: upload a new file instead.")
            % {"provider": name}
        )
    # add() is atomic: of two clicks at once, only one starts a sync.
    if not cache.add(f"wearables:sync-now:{connection.pk}", 1, SYNC_NOW_COOLDOWN_SECONDS):
        raise SyncRefusedError(
            _("%(provider)s was synced a moment ago. Try again in a few minutes.")
            % {"provider": name},
            too_soon=True,
        )
    connection_id = connection.pk
    services._on_commit_in_this_gym(lambda: _queue(connection_id))


def connections_due(*, now: datetime | None = None) -> Any:
    """The current gym's connections a scheduled sync should pull now: connected (or failing),
    of a provider with something to pull, whose next attempt is due, or with no attempt planned
    and a last sync older than their provider's interval. The most overdue first."""
    now = now or timezone.now()
    providers = [provider for provider in SYNC_INTERVALS if can_sync(provider)]
    stale = Q(last_sync_at__isnull=True)
    for provider in providers:
        stale |= Q(provider=provider, last_sync_at__lt=now - SYNC_INTERVALS[provider])
    return (
        Connection.objects.filter(
            provider__in=providers,
            status__in=[ConnectionStatus.ACTIVE, ConnectionStatus.ERROR],
        )
        .filter(Q(next_attempt_at__lte=now) | (Q(next_attempt_at__isnull=True) & stale))
        .order_by("next_attempt_at", "last_sync_at", "pk")
    )


def connections_sync_due(*, now: datetime | None = None) -> int:
    """The beat's run in one gym: queue a sync of each connection due (at most MAX_PER_RUN),
    their starts spread over SPREAD_SECONDS; returns how many were queued."""
    now = now or timezone.now()
    ids = list(connections_due(now=now).values_list("pk", flat=True)[:MAX_PER_RUN])
    if not ids:
        return 0
    Connection.objects.filter(pk__in=ids).update(next_attempt_at=now + QUEUED_LEASE)
    for index, connection_id in enumerate(ids):
        _queue(connection_id, countdown=index * SPREAD_SECONDS // len(ids))
    return len(ids)
