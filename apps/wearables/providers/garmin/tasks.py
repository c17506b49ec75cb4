"""Celery tasks for Garmin: thin, take ids, run in the gym they were sent from."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from apps.wearables.integrations.errors import AccessRevokedError, ProviderError, RateLimitedError
from apps.wearables.services.retry import TASK_OPTIONS, task_retry


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
        raise task_retry(self, connection_id, error) from error


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
        raise task_retry(self, connection_id, error) from error
