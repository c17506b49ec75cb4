"""Periodic work is scheduled once, in the public schema, and fans out one task per gym."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.db import connection

from apps.core.fanout import fan_out


@shared_task(name="core.fan_out_to_gyms", acks_late=True)
def fan_out_to_gyms(task_name: str, *args: Any, **kwargs: Any) -> int:
    """Beat schedules this with the name of a per-gym task; it sends that task to every gym."""
    return fan_out(task_name, *args, **kwargs)


@shared_task(name="core.current_schema")
def current_schema() -> str:
    """Which schema the worker ran this task in: used by tests and operators to check routing."""
    return connection.schema_name
