from __future__ import annotations

from celery import shared_task

from apps.billing.services import catalogue_item_stripe_sync, dunning_run


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
