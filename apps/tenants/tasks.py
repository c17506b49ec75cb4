from __future__ import annotations

from celery import shared_task

from apps.tenants.services import spare_schemas_refill


@shared_task(name="tenants.refill_spare_schemas", acks_late=True, ignore_result=True)
def refill_spare_schemas() -> int:
    """Keep TENANT_SPARE_SCHEMAS schemas cloned ahead for sign-ups (runs in public)."""
    return spare_schemas_refill()
