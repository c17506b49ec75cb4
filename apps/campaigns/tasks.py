from __future__ import annotations

from celery import shared_task

from apps.campaigns.services import (
    BATCH_SIZE,
    BATCHES_PER_TASK,
    campaign_deliver,
    campaigns_start_due,
)


@shared_task(name="campaigns.start_due", acks_late=True, reject_on_worker_lost=True)
def start_due() -> int:
    """Per gym, every minute (core.fan_out_to_gyms): start due campaigns and resume any whose
    sender stopped. Idempotent."""
    return campaigns_start_due()


@shared_task(name="campaigns.send", acks_late=True, reject_on_worker_lost=True)
def send_campaign(campaign_id: int) -> dict[str, int]:
    """In the gym's schema: send up to BATCHES_PER_TASK batches, then hand the rest to a fresh
    task. Idempotent: a copy delivered twice finds the campaign's lock taken, or nothing queued."""
    result = campaign_deliver(campaign_id=campaign_id, max_messages=BATCH_SIZE * BATCHES_PER_TASK)
    if result.remaining and not result.busy:
        send_campaign.delay(campaign_id)
    return {"sent": result.sent, "failed": result.failed, "remaining": result.remaining}
