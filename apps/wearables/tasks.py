"""Celery tasks of apps.wearables: thin, take ids, run in the gym they were sent from."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from apps.wearables import services
from apps.wearables.integrations import strava

# Each provider package's tasks, so Celery's autodiscovery (which imports this module) finds them.
from apps.wearables.providers.apple_health import tasks as apple_health_tasks  # noqa: F401
from apps.wearables.providers.garmin import tasks as garmin_tasks  # noqa: F401
from apps.wearables.providers.google_health import tasks as google_health_tasks  # noqa: F401
from apps.wearables.providers.myfitnesspal import tasks as myfitnesspal_tasks  # noqa: F401
from apps.wearables.services.retry import TASK_OPTIONS, task_retry


@shared_task(bind=True, name="wearables.strava_backfill", **TASK_OPTIONS)
def strava_backfill_task(self: Any, connection_id: int) -> int:
    try:
        return services.strava_backfill(connection_id=connection_id)
    except strava.AccessRevokedError:
        return 0
    except (strava.RateLimitedError, strava.StravaError) as error:
        raise task_retry(self, connection_id, error) from error


@shared_task(bind=True, name="wearables.strava_event", **TASK_OPTIONS)
def strava_event_task(self: Any, connection_id: int, event: dict[str, Any]) -> str:
    try:
        return services.strava_event_process(connection_id=connection_id, event=event)
    except strava.AccessRevokedError:
        return "revoked"
    except (strava.RateLimitedError, strava.StravaError) as error:
        raise task_retry(self, connection_id, error) from error


@shared_task(name="wearables.connection_sync", acks_late=True, ignore_result=True)
def connection_sync_task(connection_id: int) -> int:
    # No Celery retry: a failure sets the connection's next attempt, which the beat picks up.
    from apps.wearables.services.sync import connection_sync

    try:
        return connection_sync(connection_id=connection_id)
    except (strava.RateLimitedError, strava.StravaError):
        return 0


@shared_task(name="wearables.sync_due", acks_late=True, ignore_result=True)
def sync_due_task() -> int:
    from apps.wearables.services.sync import connections_sync_due

    return connections_sync_due()
