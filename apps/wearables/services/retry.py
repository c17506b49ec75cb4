"""How every provider's Celery tasks retry a failed call: the options they share, and the wait
before the next try, recorded on the connection (the sync overview shows it)."""

from __future__ import annotations

import random
from typing import Any

from apps.wearables.integrations.errors import RateLimitedError
from apps.wearables.services import sync_failed

TASK_OPTIONS: dict[str, Any] = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "ignore_result": True,
    "max_retries": 8,
}


def retry_in(*, retries: int, error: Exception) -> int:
    """Seconds to wait: the provider's Retry-After when it throttled us, plus jitter so gyms and
    users do not stampede when it ends; otherwise an exponential backoff up to an hour."""
    if isinstance(error, RateLimitedError):
        return error.retry_after + random.randint(1, 60)  # noqa: S311
    return min(3600, 30 * 2**retries) + random.randint(0, 30)  # noqa: S311


def task_retry(task: Any, connection_id: int, error: Exception) -> Exception:
    """Record the failure on the connection and ask Celery to run `task` again after the wait;
    raise what this returns."""
    countdown = retry_in(retries=task.request.retries, error=error)
    sync_failed(connection_id=connection_id, error=str(error), retry_in=countdown)
    return task.retry(exc=error, countdown=countdown)
