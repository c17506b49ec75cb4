"""Clients as a CSV file: the export on the client list and the admin's "export selected".

The file is streamed in batches by an async iterator: under the ASGI server Django would read
a synchronous iterator to the end (into memory) before sending a byte, and a database cursor
cannot be shared between the threads an async response hops across. Each batch is one keyset
query (plus one for the trainers), so the query count grows with the size of the file divided
by BATCH_SIZE, never with the number of clients on a page.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import Any

from django.db import connection
from django.db.models import Q, QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.core.spreadsheets import spreadsheet_safe
from apps.crm.models import Client

BATCH_SIZE = 500
ORDERING = ("last_name", "first_name", "pk")
# Column names stay untranslated: they are keys for whoever processes the file, and our own
# import recognises them. Health data (health notes, PAR-Q) is never exported from here: the
# people who may see it read it in the app; a client's own copy comes from the privacy export.
EXPORT_COLUMNS = (
    "id",
    "first_name",
    "last_name",
    "email",
    "phone",
    "date_of_birth",
    "status",
    "tags",
    "source",
    "joined_on",
    "churned_on",
    "primary_trainer",
    "trainers",
    "emergency_contact_name",
    "emergency_contact_phone",
    "notify_by_email",
    "notify_by_sms",
)


def _trainers(client: Client) -> tuple[str, str]:
    # `current_assignments` is prefetched by `client_list`; without it, ask the database.
    assignments = getattr(client, "current_assignments", None)
    if assignments is None:
        assignments = list(
            client.assignments.filter(ends_on__isnull=True).select_related("trainer__user")
        )
    primary = next((a.trainer.name for a in assignments if a.is_primary), "")
    return primary, ", ".join(sorted(a.trainer.name for a in assignments))


def client_csv_line(client: Client) -> list[str]:
    primary, trainers = _trainers(client)
    values: dict[str, Any] = {
        "id": client.pk,
        "tags": ", ".join(client.tags),
        "date_of_birth": client.date_of_birth.isoformat() if client.date_of_birth else "",
        "joined_on": client.joined_on.isoformat() if client.joined_on else "",
        "churned_on": client.churned_on.isoformat() if client.churned_on else "",
        "primary_trainer": primary,
        "trainers": trainers,
        "notify_by_email": "yes" if client.notify_by_email else "no",
        "notify_by_sms": "yes" if client.notify_by_sms else "no",
    }
    return [
        spreadsheet_safe(values[column] if column in values else getattr(client, column))
        for column in EXPORT_COLUMNS
    ]


class _Line:
    """A file-like object whose write returns the line, so csv.writer can feed a stream."""

    def write(self, value: str) -> str:
        return value


def _batch_after(clients: QuerySet[Client], tenant: Any, last: Client | None) -> list[Client]:
    # Keyset pagination on the list's own order: each batch is one indexed query however far
    # into the file it is. Inside the gym's schema, whatever the connection did in between.
    with tenant_context(tenant):
        if last is not None:
            clients = clients.filter(
                Q(last_name__gt=last.last_name)
                | Q(last_name=last.last_name, first_name__gt=last.first_name)
                | Q(last_name=last.last_name, first_name=last.first_name, pk__gt=last.pk)
            )
        return list(clients.defer("health_notes", "parq_answers")[:BATCH_SIZE])


def client_csv_stream(clients: QuerySet[Client], *, tenant: Any) -> Iterator[str]:
    """The CSV lines of `clients` (already narrowed to what the viewer may see)."""
    writer = csv.writer(_Line())
    # A byte-order mark: Excel then opens the file as UTF-8 (names with accents intact).
    yield "\ufeff" + writer.writerow(EXPORT_COLUMNS)
    clients = clients.order_by(*ORDERING)
    last = None
    while True:
        batch = _batch_after(clients, tenant, last)
        for client in batch:
            yield writer.writerow(client_csv_line(client))
        if len(batch) < BATCH_SIZE:
            return
        last = batch[-1]


def client_csv_response(
    clients: QuerySet[Client], *, filename_prefix: str = "clients"
) -> StreamingHttpResponse:
    filename = f"{filename_prefix}-{connection.schema_name}-{timezone.now():%Y%m%d-%H%M%S}.csv"
    response = StreamingHttpResponse(
        client_csv_stream(clients, tenant=connection.tenant), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response
