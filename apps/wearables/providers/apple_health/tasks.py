"""Celery tasks for apple_health: thin, take ids, run in the gym they were sent from."""

from __future__ import annotations
