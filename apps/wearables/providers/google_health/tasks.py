"""Celery tasks for google_health: thin, take ids, run in the gym they were sent from."""

from __future__ import annotations

import random
from typing import Any

from celery import shared_task

from apps.wearables.integrations.errors import AccessRevokedError, ProviderError, RateLimitedError
from apps.wearables.providers.google_health import services
from apps.wearables.services import sync_failed

TASK_OPTIONS: dict[str, Any] = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "ignore_result": True,
    "max_retries": 8,
}


def _retry(task: Any, connection_id: int, error: Exception) -> Exception:
    if isinstance(error, RateLimitedError):
        # Google's Retry-After for this user, plus jitter so the user's backlog does not stampede.
        countdown = error.retry_after + random.randint(1, 30)  # noqa: S311
    else:
        countdown = min(3600, 30 * 2**task.request.retries) + random.randint(0, 30)  # noqa: S311
    sync_failed(connection_id=connection_id, error=str(error), retry_in=countdown)
    return task.retry(exc=error, countdown=countdown)


@shared_task(bind=True, name="wearables.google_health_backfill", **TASK_OPTIONS)
def google_health_backfill_task(self: Any, connection_id: int) -> int:
    try:
        return services.google_health_backfill(connection_id=connection_id)
    except AccessRevokedError:
        return 0
    except (RateLimitedError, ProviderError) as error:
        raise _retry(self, connection_id, error) from error


@shared_task(bind=True, name="wearables.google_health_notification", **TASK_OPTIONS)
def google_health_notification_task(
    self: Any, connection_id: int, notification: dict[str, Any]
) -> str:
    try:
        return services.notification_process(connection_id=connection_id, notification=notification)
    except AccessRevokedError:
        return "revoked"
    except (RateLimitedError, ProviderError) as error:
        raise _retry(self, connection_id, error) from error
