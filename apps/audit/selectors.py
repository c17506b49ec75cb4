"""Reading the audit log: owners and managers only."""

from __future__ import annotations

import datetime
import zoneinfo
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from apps.accounts.roles import is_management
from apps.audit.models import AuditEvent
from apps.core.sorting import sort_queryset


def current_time_zone_name() -> str:
    """The current gym's time zone (UTC on the public schema)."""
    return getattr(getattr(connection, "tenant", None), "time_zone", "") or "UTC"


def _start_of(day: datetime.date, zone: zoneinfo.ZoneInfo) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=zone)


# The columns the audit log may be sorted by (`?sort=`); anything else keeps newest first.
AUDIT_SORTS = {
    "time": ("created_at",),
    "actor": ("actor_email",),
    "action": ("action",),
    "object": ("object_type", "object_id"),
}


def audit_event_list(
    *,
    viewer: Any,
    filters: Mapping[str, Any] | None = None,
    time_zone: str | None = None,
    sort: str = "",
) -> QuerySet[AuditEvent]:
    """Events of the current schema, newest first (or by an AUDIT_SORTS key), narrowed by
    `filters`.

    Filters (all optional): action (exact), actor (part of the actor's email), object_type,
    object_id, date_from and date_to (whole days in `time_zone`, by default the gym's).
    """
    if not is_management(viewer):
        raise PermissionDenied(_("Only owners and managers can read the audit log."))
    filters = filters or {}
    events = AuditEvent.objects.select_related("actor").order_by("-created_at", "-id")
    if filters.get("action"):
        events = events.filter(action=filters["action"])
    if filters.get("actor"):
        events = events.filter(actor_email__icontains=filters["actor"])
    if filters.get("object_type"):
        events = events.filter(object_type=filters["object_type"])
    if filters.get("object_id"):
        events = events.filter(object_id=str(filters["object_id"]))
    zone = zoneinfo.ZoneInfo(time_zone or current_time_zone_name())
    if filters.get("date_from"):
        events = events.filter(created_at__gte=_start_of(filters["date_from"], zone))
    if filters.get("date_to"):
        next_day = filters["date_to"] + datetime.timedelta(days=1)
        events = events.filter(created_at__lt=_start_of(next_day, zone))
    return sort_queryset(events, sort, AUDIT_SORTS)


def audit_action_list(*, viewer: Any) -> list[str]:
    """The actions that occur in the log, for the filter form's suggestions."""
    if not is_management(viewer):
        raise PermissionDenied(_("Only owners and managers can read the audit log."))
    return list(AuditEvent.objects.order_by("action").values_list("action", flat=True).distinct())
