from __future__ import annotations

import random

from celery import shared_task

from apps.billing.services import (
    catalogue_item_stripe_sync,
    dunning_run,
    fee_refund_waived,
    strike_fee_charge,
    strike_fee_give_up,
)


@shared_task(name="billing.run_dunning", acks_late=True, reject_on_worker_lost=True)
def run_dunning() -> dict[str, int]:
    """Per gym (sent by core.fan_out_to_gyms in the gym's schema): suspend long past-due
    memberships, end those cancelled at period end, start and end pauses. Idempotent."""
    return dunning_run()


@shared_task(
    name="billing.push_catalogue_item",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(Exception,),
    retry_backoff=True,
    max_retries=5,
)
def push_catalogue_item(label: str, pk: int) -> None:
    """In the gym's schema (sent from its request): a plan or pack's Stripe Product and Price
    follow its name, price and archive state."""
    catalogue_item_stripe_sync(label=label, pk=pk)


FEE_MAX_RETRIES = 6


@shared_task(
    bind=True,
    name="billing.charge_strike_fee",
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=FEE_MAX_RETRIES,
)
def charge_strike_fee(self, strike_pk: int) -> int | None:  # type: ignore[no-untyped-def]
    """In the gym's schema (sent when the strike committed): charge its late-cancel or
    no-show fee to the card on file. Once per strike however often it runs; retried with
    backoff while Stripe cannot be reached, then left failed for the desk. The fee's
    payment id, or None."""
    try:
        payment = strike_fee_charge(strike_pk=strike_pk)
    except Exception as exc:
        if self.request.retries >= FEE_MAX_RETRIES:
            strike_fee_give_up(strike_pk=strike_pk, failure=str(exc))
            raise
        # Exponential backoff with jitter, capped below the broker's visibility timeout:
        # 10 s, 20 s, 40 s ... 5 min.
        countdown = min(2**self.request.retries * 10, 300) + random.uniform(0, 5)  # noqa: S311
        raise self.retry(exc=exc, countdown=countdown) from exc
    return payment.pk if payment is not None else None


@shared_task(
    name="billing.refund_waived_fee",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(Exception,),
    retry_backoff=True,
    retry_jitter=True,
    max_retries=6,
)
def refund_waived_fee(payment_pk: int) -> int | None:
    """In the gym's schema: refund a fee whose strike was waived (once: a refunded fee is
    left alone). The refund line's id, or None."""
    refund = fee_refund_waived(payment_pk=payment_pk)
    return refund.pk if refund is not None else None
