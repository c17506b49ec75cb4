from __future__ import annotations

from celery import shared_task

from apps.ics_feeds.services import appointment_reminders_send, class_reminders_send


@shared_task(name="calendars.send_appointment_reminders", acks_late=True)
def send_appointment_reminders() -> int:
    """Per gym (sent by core.fan_out_to_gyms in the gym's schema)."""
    return appointment_reminders_send()


@shared_task(name="calendars.send_class_reminders", acks_late=True)
def send_class_reminders() -> int:
    """Per gym (sent by core.fan_out_to_gyms in the gym's schema)."""
    return class_reminders_send()
