"""Celery tasks for Garmin: thin, take ids, run in the gym they were sent from."""

from __future__ import annotations

import random
from typing import Any

from celery import shared_task

from apps.wearables.integrations.errors import AccessRevokedError, ProviderError, RateLimitedError
from apps.wearables.services import sync_failed

# As apps.wearables.tasks.TASK_OPTIONS (not imported: that module imports this one first).
TASK_OPTIONS: dict[str, Any] = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "ignore_result": True,
    "max_retries": 8,
}


def _retry_in(task: Any, error: Exception) -> int:
    if isinstance(error, RateLimitedError):
        # Garmin's Retry-After: everyone waits for it, plus jitter so gyms do not stampede.
        return error.retry_after + random.randint(1, 60)  # noqa: S311
    return min(3600, 30 * 2**task.request.retries) + random.randint(0, 30)  # noqa: S311


def _retry(task: Any, connection_id: int, error: Exception) -> Any:
    countdown = _retry_in(task, error)
    sync_failed(connection_id=connection_id, error=str(error), retry_in=countdown)
    return task.retry(exc=error, countdown=countdown)


@shared_task(bind=True, name="wearables.garmin_backfill", **TASK_OPTIONS)
def garmin_backfill_task(self: Any, connection_id: int, start_epoch: int, end_epoch: int) -> int:
    from apps.wearables.providers.garmin import services

    try:
        return services.garmin_backfill(
            connection_id=connection_id, start_epoch=start_epoch, end_epoch=end_epoch
        )
    except AccessRevokedError:
        return 0
    except (ProviderError, RateLimitedError) as error:
        raise _retry(self, connection_id, error) from error


@shared_task(bind=True, name="wearables.garmin_delivery", **TASK_OPTIONS)
def garmin_delivery_task(
    self: Any,
    connection_id: int,
    garmin_user: str,
    summary_type: str,
    items: list[dict[str, Any]],
) -> str:
    from apps.wearables.providers.garmin import services

    try:
        return services.garmin_delivery_process(
            connection_id=connection_id,
            garmin_user=garmin_user,
            summary_type=summary_type,
            items=items,
        )
    except AccessRevokedError:
        return "revoked"
    except (ProviderError, RateLimitedError) as error:
        raise _retry(self, connection_id, error) from error
