"""A task for tests/core/test_celery_recovery.py, loaded by its worker processes (--include)."""

from __future__ import annotations

import time

import redis
from celery import shared_task
from django.conf import settings


@shared_task(name="tests.record_deliveries", acks_late=True)
def record_deliveries(key: str) -> int:
    """Counts its deliveries in Redis; the first one stays busy until its worker is killed."""
    deliveries = redis.Redis.from_url(settings.REDIS_URL).incr(key)
    if deliveries == 1:
        time.sleep(120)
    return deliveries
