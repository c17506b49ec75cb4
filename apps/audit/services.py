"""Writing audit events. Services call `audit_record` inside their own transaction, so an event
exists exactly when the change it describes was committed."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cached_property
from typing import Any

from django.db import connection, models
from django.http import HttpRequest
from django.utils import timezone

from apps.audit.models import USER_AGENT_MAX_LENGTH, AuditEvent
from apps.core.client_address import client_address

MASK = "***"
# Field names whose values never enter the log: credentials, and health data (the audit log is
# read by managers who may not be allowed to see it).
_MASKED_FIELD = re.compile(
    r"password|passwd|token|secret|key|otp|recovery|seed|signature|health|parq|par_q|medical",
    re.IGNORECASE,
)


class RequestContext:
    """Where the current request comes from; set by AuditContextMiddleware. Each part is
    worked out from the request when an event first needs it: most requests write none."""

    def __init__(self, request: HttpRequest) -> None:
        self.request = request

    @cached_property
    def ip(self) -> str | None:
        return client_address(self.request)

    @cached_property
    def user_agent(self) -> str:
        return self.request.META.get("HTTP_USER_AGENT", "")[:USER_AGENT_MAX_LENGTH]

    @cached_property
    def request_id(self) -> str:
        return getattr(self.request, "request_id", "") or ""

    @property
    def user(self) -> Any:
        # Read when an event is written, not when the request arrived: a login in the middle
        # of the request replaces request.user.
        return getattr(self.request, "user", None)


current_request_context: ContextVar[RequestContext | None] = ContextVar(
    "audit_request_context", default=None
)


def request_context_from(request: HttpRequest) -> RequestContext:
    return RequestContext(request)


@contextmanager
def request_context(request: HttpRequest) -> Iterator[RequestContext]:
    """Audit events written inside the block come from `request`; the previous context (none,
    outside a request) is back afterwards."""
    context = request_context_from(request)
    token = current_request_context.set(context)
    try:
        yield context
    finally:
        current_request_context.reset(token)


def is_masked_field(name: str) -> bool:
    return bool(_MASKED_FIELD.search(name))


def _plain(value: Any) -> Any:
    """A JSON-friendly value: model instances become their primary key."""
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, set | frozenset | tuple):
        return [_plain(item) for item in value]
    return value


def mask_changes(changes: Mapping[str, Any]) -> dict[str, Any]:
    """`changes` with secret and health fields replaced by MASK, before and after alike."""
    masked: dict[str, Any] = {}
    for field, change in changes.items():
        if is_masked_field(field):
            masked[field] = {"before": MASK, "after": MASK}
        elif isinstance(change, Mapping):
            masked[field] = {key: _plain(value) for key, value in change.items()}
        else:
            masked[field] = _plain(change)
    return masked


def changes_between(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    """{"field": {"before": x, "after": y}} for every field whose value differs, masked."""
    changed: dict[str, Any] = {}
    for field in [*before, *(name for name in after if name not in before)]:
        old, new = _plain(before.get(field)), _plain(after.get(field))
        if old != new:
            changed[field] = {"before": old, "after": new}
    return mask_changes(changed)


def _object_type(obj: models.Model) -> str:
    return obj._meta.label_lower


def audit_event(
    *,
    action: str,
    actor: Any = None,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str = "",
    changes: Mapping[str, Any] | None = None,
    actor_email: str = "",
) -> AuditEvent:
    """The event `audit_record` writes, built but not saved.

    Where the request came from (IP, user agent, request id) is read from the context
    AuditContextMiddleware sets; outside a request there is none. Without `actor`, the
    logged-in user of the current request (if any) is the actor. `actor_email` names an actor
    that is not a user here (a failed login's attempted email).
    """
    context = current_request_context.get()
    if actor is None and context is not None:
        actor = context.user
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    if obj is not None:
        object_type = object_type or _object_type(obj)
        object_id = object_id or str(obj.pk)
    return AuditEvent(
        actor=actor,
        actor_email=(getattr(actor, "email", "") if actor is not None else actor_email)[:254],
        actor_role=getattr(actor, "role", "") if actor is not None else "",
        action=action,
        object_type=object_type,
        object_id=str(object_id)[:64],
        changes=mask_changes(changes or {}),
        ip=context.ip if context else None,
        user_agent=context.user_agent if context else "",
        request_id=context.request_id if context else "",
        created_at=timezone.now(),
    )


def audit_record(**event: Any) -> AuditEvent:
    """Write one event in the current schema and the caller's transaction (the arguments of
    `audit_event`)."""
    built = audit_event(**event)
    built.save(force_insert=True)
    return built


def audit_insert_sql(
    event: AuditEvent, *, source: str, object_id_sql: str, changes_sql: str
) -> tuple[str, dict[str, Any]]:
    """SQL writing `event` for each row of `source` (a table or CTE name) in the same statement
    as the write it describes, for the few hot paths that cannot spare a round trip (a class
    booking holds its class's lock meanwhile). `object_id_sql` gives the object's id from that
    row; `changes_sql` a jsonb object merged into the event's own changes. The parameters'
    names start with "audit_"."""
    columns, values, params = [], [], {}
    for field in AuditEvent._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(connection.ops.quote_name(field.column))
        if field.name == "object_id":
            values.append(f"({object_id_sql})::text")
            continue
        name = f"audit_{field.attname}"
        params[name] = field.get_db_prep_save(getattr(event, field.attname), connection)
        if field.name == "changes":
            values.append(f"%({name})s::jsonb || ({changes_sql})")
        else:
            values.append(f"%({name})s")
    table = connection.ops.quote_name(AuditEvent._meta.db_table)
    names, selected = ", ".join(columns), ", ".join(values)
    sql = f"INSERT INTO {table} ({names}) SELECT {selected} FROM {source}"  # noqa: S608
    return sql, params
