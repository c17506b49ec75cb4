"""Stripe events are processed here, not in the webhook request: the endpoint only stores
them and answers, so Stripe never waits on our database or on Stripe itself."""

from __future__ import annotations

import random
from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from apps.connect.services import stripe_event_process, stripe_events_process_pending

MAX_RETRIES = 8


@shared_task(
    bind=True,
    name="connect.process_stripe_event",
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=MAX_RETRIES,
    ignore_result=True,
)
def stripe_event_process_task(self, event_pk: int) -> str:  # type: ignore[no-untyped-def]
    """Process one stored event (sent from the public schema: the service enters the gym)."""
    try:
        return stripe_event_process(event_pk=event_pk)
    except Exception as exc:
        if self.request.retries >= MAX_RETRIES:
            raise
        # Exponential backoff with jitter, capped below the broker's visibility timeout:
        # 10 s, 20 s, 40 s ... 5 min. Stripe itself redelivers for three days besides.
        countdown = min(2**self.request.retries * 10, 300) + random.uniform(0, 5)  # noqa: S311
        raise self.retry(exc=exc, countdown=countdown) from exc


# Events stored but never processed this long after arriving lost their task (a broker
# restart between commit and queueing): the sweep takes them, in Stripe's order.
STUCK_AFTER = timedelta(minutes=10)


@shared_task(name="connect.process_pending_stripe_events", ignore_result=True)
def stripe_events_sweep() -> dict[str, int]:
    """Process events still waiting STUCK_AFTER after they arrived (beat, every few minutes)."""
    return stripe_events_process_pending(received_before=timezone.now() - STUCK_AFTER)
