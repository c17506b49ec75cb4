"""Celery tasks for apple_health: thin, take ids, run in the gym they were sent from."""

from __future__ import annotations

import random
from typing import Any

from celery import shared_task

from apps.wearables.providers.apple_health import services


@shared_task(
    bind=True,
    name="wearables.apple_health_export_import",
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    max_retries=5,
)
def health_export_import_task(self: Any, export_id: int) -> None:
    """A bad export fails inside the service (with its message on the page); only storage
    trouble (S3 unreachable) comes here, and is retried with backoff."""
    try:
        services.health_export_import(export_id=export_id)
    except OSError as error:
        countdown = min(3600, 60 * 2**self.request.retries) + random.randint(0, 30)  # noqa: S311
        raise self.retry(exc=error, countdown=countdown) from error


@shared_task(name="wearables.apple_health_exports_sweep", ignore_result=True)
def health_exports_sweep_task() -> dict[str, int]:
    """Per gym (beat sends it through core.fan_out_to_gyms)."""
    return services.health_exports_sweep()
