from __future__ import annotations

from celery import shared_task

from apps.notifications import services


@shared_task(
    bind=True,
    name="notifications.deliver",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(services.RetryableSendError,),
    # 30 s, 60 s, 120 s... with jitter, capped under the broker's visibility timeout.
    retry_backoff=30,
    retry_backoff_max=8 * 60,
    retry_jitter=True,
    max_retries=6,
)
def deliver(self, delivery_id: int) -> str:  # type: ignore[no-untyped-def]
    """Send one delivery (in the gym's schema it was queued from)."""
    return services.delivery_send(
        delivery_id=delivery_id, final_attempt=self.request.retries >= self.max_retries
    )


@shared_task(name="notifications.send_held_back", acks_late=True)
def send_held_back() -> int:
    """Per gym (core.fan_out_to_gyms): what quiet hours held back and is now due."""
    return services.held_deliveries_send()
