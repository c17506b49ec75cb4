from __future__ import annotations

from celery import shared_task

from apps.automations.services import due_steps_run, time_triggers_scan


@shared_task(name="automations.scan_time_triggers", acks_late=True, reject_on_worker_lost=True)
def scan_time_triggers() -> int:
    """Per gym (sent by core.fan_out_to_gyms in the gym's schema): start runs for birthdays,
    trials ending, absences and adherence drops. Idempotent by occurrence key."""
    return time_triggers_scan()


@shared_task(name="automations.run_due_steps", acks_late=True, reject_on_worker_lost=True)
def run_due_steps() -> int:
    """Per gym: do every automation step that is due. Each step once (row lock, same
    transaction as its effect)."""
    return due_steps_run()
