"""The audit log in the dashboard: a filtered, paginated list and a CSV export."""

from __future__ import annotations

import csv
import datetime
import json
from collections.abc import Iterator, Mapping
from typing import Any

from django.core.paginator import Paginator
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.accounts.decorators import mfa_required, role_required
from apps.accounts.models import Role
from apps.audit.forms import AuditEventFilterForm
from apps.audit.models import AuditEvent
from apps.audit.selectors import (
    AUDIT_SORTS,
    audit_action_list,
    audit_event_list,
    current_time_zone_name,
)
from apps.audit.services import audit_record
from apps.core.sorting import sort_links, sort_value
from apps.core.spreadsheets import spreadsheet_safe

PAGE_SIZE = 50
EXPORT_BATCH_SIZE = 1000
EXPORT_COLUMNS = [
    "created_at",
    "action",
    "actor_email",
    "actor_role",
    "object_type",
    "object_id",
    "changes",
    "ip",
    "user_agent",
    "request_id",
]


@role_required(Role.OWNER, Role.MANAGER)
def event_list(request: HttpRequest) -> HttpResponse:
    form = AuditEventFilterForm(request.GET)
    sort = sort_value(request.GET.get("sort"), AUDIT_SORTS)
    events = audit_event_list(viewer=request.user, filters=form.filters(), sort=sort)
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "audit/event_list.html",
        {
            "form": form,
            "page": page,
            "actions": audit_action_list(viewer=request.user),
            "time_zone": current_time_zone_name(),
            "sort_links": sort_links(request.GET, sort, AUDIT_SORTS),
            # The filters, for the pagination and export links.
            "query": _without_page(request),
        },
    )


@role_required(Role.OWNER, Role.MANAGER)
@mfa_required
def event_export(request: HttpRequest) -> StreamingHttpResponse:
    form = AuditEventFilterForm(request.GET)
    filters = form.filters()
    events = audit_event_list(viewer=request.user, filters=filters)
    # Who took a copy of the log is itself worth knowing.
    audit_record(
        action="audit.exported",
        actor=request.user,
        changes={"filters": {"before": None, "after": filters}},
    )
    filename = f"audit-{connection.schema_name}-{timezone.now():%Y%m%d-%H%M%S}.csv"
    response = StreamingHttpResponse(
        _csv_rows(events, tenant=connection.tenant), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


class _Line:
    """A file-like object whose write returns the line, so csv.writer can feed a stream."""

    def write(self, value: str) -> str:
        return value


def _csv_line(event: AuditEvent) -> list[str]:
    values: Mapping[str, Any] = {
        "created_at": event.created_at.astimezone(datetime.UTC).isoformat(),
        "changes": json.dumps(event.changes, cls=DjangoJSONEncoder, sort_keys=True),
    }
    return [
        spreadsheet_safe(values.get(column, getattr(event, column))) for column in EXPORT_COLUMNS
    ]


def _batch_after(
    events: QuerySet[AuditEvent], tenant: Any, last: AuditEvent | None
) -> list[AuditEvent]:
    # Keyset pagination on the list's own order (-created_at, -id): each batch is one indexed
    # query, however deep into the log it is.
    with tenant_context(tenant):
        if last is not None:
            events = events.filter(
                Q(created_at__lt=last.created_at) | Q(created_at=last.created_at, id__lt=last.id)
            )
        return list(events[:EXPORT_BATCH_SIZE])


def _csv_rows(events: QuerySet[AuditEvent], *, tenant: Any) -> Iterator[str]:
    """Rows in batches, streamed by the server as they are made: the whole file is never in
    memory."""
    writer = csv.writer(_Line())
    # Column names stay untranslated: they are keys for whoever processes the file.
    yield writer.writerow(EXPORT_COLUMNS)
    last = None
    while True:
        batch = _batch_after(events, tenant, last)
        for event in batch:
            yield writer.writerow(_csv_line(event))
        if len(batch) < EXPORT_BATCH_SIZE:
            return
        last = batch[-1]
