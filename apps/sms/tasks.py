"""Twilio's reports that arrived before the delivery they are about was recorded."""

from __future__ import annotations

from celery import shared_task

from apps.sms.services import sms_status_apply


@shared_task(
    name="sms.status_retry", acks_late=True, reject_on_worker_lost=True, ignore_result=True
)
def sms_status_retry(params: dict[str, str], attempt: int) -> int:
    """Apply a delivery report again, in the gym it was received for (sent from its schema)."""
    return sms_status_apply(params=params, attempt=attempt)
