"""An Apple Health upload's stored parts go with its row, however the row goes: a client's
deletion (CASCADE) or a person's erasure (apps.privacy deletes the rows through the ORM)."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete
from django.dispatch import receiver

from apps.wearables.models import HealthExport


@receiver(post_delete, sender=HealthExport, dispatch_uid="wearables_health_export_parts_delete")
def delete_health_export_parts(
    sender: type[HealthExport], instance: HealthExport, **kwargs: Any
) -> None:
    from apps.wearables.providers.apple_health.services import (
        health_export_parts_delete_on_commit,
    )

    health_export_parts_delete_on_commit(instance)
