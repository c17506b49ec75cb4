from __future__ import annotations

from celery import shared_task

from apps.messaging.services import unread_reminders_send


@shared_task(name="messaging.send_unread_reminders", acks_late=True)
def send_unread_reminders() -> int:
    """Per gym (sent by core.fan_out_to_gyms in the gym's schema)."""
    return unread_reminders_send()
