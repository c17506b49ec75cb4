"""Celery tasks for google_health: thin, take ids, run in the gym they were sent from."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from apps.wearables.integrations.errors import AccessRevokedError, ProviderError, RateLimitedError
from apps.wearables.providers.google_health import services
from apps.wearables.services.retry import TASK_OPTIONS, task_retry


@shared_task(bind=True, name="wearables.google_health_backfill", **TASK_OPTIONS)
def google_health_backfill_task(self: Any, connection_id: int) -> int:
    try:
        return services.google_health_backfill(connection_id=connection_id)
    except AccessRevokedError:
        return 0
    except (RateLimitedError, ProviderError) as error:
        raise task_retry(self, connection_id, error) from error


@shared_task(bind=True, name="wearables.google_health_notification", **TASK_OPTIONS)
def google_health_notification_task(
    self: Any, connection_id: int, notification: dict[str, Any]
) -> str:
    try:
        return services.notification_process(connection_id=connection_id, notification=notification)
    except AccessRevokedError:
        return "revoked"
    except (RateLimitedError, ProviderError) as error:
        raise task_retry(self, connection_id, error) from error
