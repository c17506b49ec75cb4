"""The OpenAPI schema says what the API answers, all of it.

AutoSchema describes a read-only field of a ModelSerializer as its model field allows: DRF drops
`allow_blank` from read-only fields, so an optional email or URL that is stored as "" was
documented as always an email or a URL, and a choice that may be blank as one of the choices.

document_error_responses (a postprocessing hook) adds, once for every operation, the errors
any request can get from the stack around the views: a 400 for input the API refuses, 401
without credentials (with WWW-Authenticate), 403, 404 where the path names an object (or an
id that is not one) or the query a page, 406 for an Accept header the API cannot satisfy,
415 for a body in a media type it does not read, 429 when throttled (with Retry-After). Each
is a problem document (apps/core/api/errors.py); what a view documents itself is kept.
"""

from __future__ import annotations

import copy
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils.translation import gettext_lazy as _
from drf_spectacular import openapi
from rest_framework import serializers

from apps.core.api.errors import PROBLEM_CONTENT_TYPE

PROBLEM_COMPONENT = "Problem"
PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details, as apps.core.api.errors renders every error.",
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
            "description": "Messages by field name; `non_field_errors` for the request as a whole.",
        },
    },
    "required": ["detail", "errors", "status", "title", "type"],
}

ERROR_DESCRIPTIONS = {
    "400": _(
        "The request is not valid: `errors` names each field (or query parameter) and what "
        "is wrong with it."
    ),
    "401": _(
        "No valid credentials: sign in (session cookie) or send an app session token "
        "(X-Session-Token)."
    ),
    "403": _("The signed-in user may not do this."),
    "404": _(
        "No such object (or not one the signed-in user may see), or a page past the last one."
    ),
    "406": _("None of the media types in Accept can be served."),
    "415": _("The body is in a media type the API does not read."),
    "429": _("Too many requests: try again after Retry-After seconds."),
}
RESPONSE_HEADERS = {
    "401": {
        "WWW-Authenticate": {
            "description": _("The authentication scheme to use."),
            "schema": {"type": "string"},
        }
    },
    "429": {
        "Retry-After": {
            "description": _("Seconds to wait before the next request."),
            "schema": {"type": "string"},
        }
    },
}
BODY_METHODS = {"post", "put", "patch"}


def _model_field(field: serializers.Field) -> models.Field | None:
    parent = getattr(field, "parent", None)
    model = getattr(getattr(parent, "Meta", None), "model", None)
    source = getattr(field, "source", None)
    if model is None or not source or source == "*" or "." in source:
        return None
    try:
        found = model._meta.get_field(source)
    except FieldDoesNotExist:
        return None
    return found if isinstance(found, models.Field) else None


def _as_model_allows(field: serializers.Field) -> serializers.Field:
    """A read-only field as its model field allows: a copy that may be blank or null when the
    model field may (the serializer's own field stays as the view uses it)."""
    model_field = _model_field(field) if field.read_only else None
    if model_field is None:
        return field
    blank = (
        model_field.blank
        and isinstance(field, serializers.CharField | serializers.ChoiceField)
        and not field.allow_blank
    )
    null = model_field.null and not field.allow_null
    if not blank and not null:
        return field
    field = copy.copy(field)
    if blank:
        field.allow_blank = True
    if null:
        field.allow_null = True
    return field


class AutoSchema(openapi.AutoSchema):
    def _map_serializer_field(
        self, field: serializers.Field, direction: str, bypass_extensions: bool = False
    ) -> dict[str, Any]:
        return super()._map_serializer_field(_as_model_allows(field), direction, bypass_extensions)

    def _insert_field_validators(self, field: serializers.Field, schema: dict[str, Any]) -> None:
        # Where drf-spectacular lets a blank value past a format (email, URL).
        super()._insert_field_validators(_as_model_allows(field), schema)


def _problem(status: str) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": str(ERROR_DESCRIPTIONS[status]),
        "content": {
            PROBLEM_CONTENT_TYPE: {"schema": {"$ref": f"#/components/schemas/{PROBLEM_COMPONENT}"}}
        },
    }
    if status in RESPONSE_HEADERS:
        response["headers"] = _headers(status)
    return response


def _headers(status: str) -> dict[str, Any]:
    return {
        name: {**header, "description": str(header["description"])}
        for name, header in RESPONSE_HEADERS[status].items()
    }


def _error_statuses(path: str, method: str, operation: dict[str, Any]) -> list[str]:
    statuses = ["400", "403", "406", "429"]
    security = operation.get("security")
    if security is None or {} not in security:
        statuses.append("401")
    paginated = any(
        parameter.get("in") == "query" and parameter.get("name") == "page"
        for parameter in operation.get("parameters", [])
    )
    if "{" in path or paginated:
        statuses.append("404")
    if method in BODY_METHODS:
        statuses.append("415")
    return statuses


def document_error_responses(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault(PROBLEM_COMPONENT, PROBLEM_SCHEMA)
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in {"get", "post", "put", "patch", "delete", "head", "options"}:
                continue
            responses = operation.setdefault("responses", {})
            for status in _error_statuses(path, method, operation):
                if status not in responses:
                    responses[status] = _problem(status)
                elif status in RESPONSE_HEADERS:
                    responses[status].setdefault("headers", _headers(status))
    return result
