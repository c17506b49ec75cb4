"""Reads for Apple Health: only the viewer's own exports."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from apps.wearables.models import HealthExport


def health_exports_for_client(*, client: Any) -> QuerySet[HealthExport]:
    return HealthExport.objects.filter(client=client).order_by("-pk")


def health_export_for_client(*, client: Any, export_id: int) -> HealthExport | None:
    return HealthExport.objects.filter(client=client, pk=export_id).first()
