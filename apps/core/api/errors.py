"""One error shape for the whole API: RFC 9457 problem details plus an `errors` map of
field -> messages, so a client can always show the message next to the field that caused it."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler

PROBLEM_CONTENT_TYPE = "application/problem+json"


def _field_errors(detail: Any) -> dict[str, list[str]]:
    if isinstance(detail, dict):
        flat: dict[str, list[str]] = {}
        for field, messages in detail.items():
            if isinstance(messages, dict):
                for sub, sub_messages in _field_errors(messages).items():
                    flat[f"{field}.{sub}"] = sub_messages
            elif isinstance(messages, list):
                flat[field] = [str(m) for m in messages]
            else:
                flat[field] = [str(messages)]
        return flat
    if isinstance(detail, list):
        return {api_settings.NON_FIELD_ERRORS_KEY: [str(m) for m in detail]}
    return {}


def django_validation_error_to_drf(exc: DjangoValidationError) -> exceptions.ValidationError:
    if hasattr(exc, "error_dict"):
        return exceptions.ValidationError(exc.message_dict)
    return exceptions.ValidationError({api_settings.NON_FIELD_ERRORS_KEY: exc.messages})


class ConflictError(exceptions.APIException):
    """409: the request clashes with what exists (a double booking); `errors` names the field."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"

    def __init__(self, detail: str, errors: dict[str, list[str]]) -> None:
        super().__init__(detail)
        self.errors = errors


def problem_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    # Imported here: core must not import the apps built on it when it loads.
    from apps.scheduling.appointments.services import SchedulingConflict

    if isinstance(exc, SchedulingConflict):
        exc = ConflictError(exc.message, {exc.field: [exc.message]})
    elif isinstance(exc, DjangoValidationError):
        exc = django_validation_error_to_drf(exc)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    response = exception_handler(exc, context)
    if response is None:
        return None

    if isinstance(exc, exceptions.ValidationError):
        errors = _field_errors(exc.detail)
        title = _("Some fields are not valid.")
        detail = " ".join(f"{field}: {' '.join(msgs)}" for field, msgs in errors.items())
    else:
        errors = exc.errors if isinstance(exc, ConflictError) else {}
        detail_value = getattr(exc, "detail", "")
        title = str(detail_value) if detail_value else response.status_text
        detail = title

    request = context.get("request")
    body = problem_body(
        request=request,
        status=response.status_code,
        code=getattr(exc, "default_code", "error"),
        title=title,
        detail=detail,
        errors=errors,
    )
    response.data = body
    response.content_type = PROBLEM_CONTENT_TYPE
    if response.status_code == status.HTTP_400_BAD_REQUEST:
        response["Content-Language"] = getattr(request, "LANGUAGE_CODE", "en")
    return response


def problem_body(
    *,
    request: Any,
    status: int,
    code: str,
    title: str,
    detail: str | None = None,
    errors: dict[str, list[str]] | None = None,
) -> dict[str, Any]:
    """The problem document every API error answers with (RFC 9457, plus `errors`)."""
    body: dict[str, Any] = {
        "type": f"https://fitnesscrm.dev/problems/{code}",
        "title": title,
        "status": status,
        "detail": title if detail is None else detail,
        "errors": errors or {},
    }
    if request is not None:
        body["instance"] = request.get_full_path()
    return body


def problem_response(*, request: Any, status: int, code: str, title: str, **extra: Any) -> Any:
    """A problem document for an answer made outside DRF (middleware, Django's handlers)."""
    from django.http import JsonResponse

    body = problem_body(request=request, status=status, code=code, title=title, **extra)
    return JsonResponse(body, status=status, content_type=PROBLEM_CONTENT_TYPE)


def field_problem_response(*, request: Any, field: str, message: str) -> Any:
    """A 400 problem document naming one field, for input refused before a view runs."""
    return problem_response(
        request=request,
        status=status.HTTP_400_BAD_REQUEST,
        code="invalid",
        title=_("Some fields are not valid."),
        detail=f"{field}: {message}",
        errors={field: [message]},
    )
