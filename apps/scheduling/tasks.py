"""Scheduling's periodic work, run per gym (sent by core.fan_out_to_gyms in the gym's schema):
thin tasks over apps.scheduling.classes.services."""

from __future__ import annotations

from celery import shared_task

from apps.scheduling.classes.services import waitlists_expire


@shared_task(name="scheduling.expire_waitlists", acks_late=True, reject_on_worker_lost=True)
def expire_waitlists() -> int:
    """Close the waitlists of classes that have started: no spot, what each place used comes
    back, the client is told. Idempotent."""
    return waitlists_expire()
