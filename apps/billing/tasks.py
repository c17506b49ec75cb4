from __future__ import annotations

from celery import shared_task

from apps.billing.services import dunning_run


@shared_task(name="billing.run_dunning", acks_late=True, reject_on_worker_lost=True)
def run_dunning() -> dict[str, int]:
    """Per gym (sent by core.fan_out_to_gyms in the gym's schema): suspend long past-due
    memberships, end those cancelled at period end, start and end pauses. Idempotent."""
    return dunning_run()
