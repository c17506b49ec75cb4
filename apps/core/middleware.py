"""Request pipeline pieces of our own: the request id, and query strings refused at the door."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from apps.core.logging import request_id_var

_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,128}$")


class RequestIdMiddleware:
    """Request id: taken from the proxy's X-Request-ID when it is sane, else generated, echoed
    back on the response and attached to every log line of the request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        token = request_id_var.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response["X-Request-ID"] = request_id
        return response


class NulCharacterMiddleware:
    """A query parameter with a NUL character is a 400 naming it, before any view sees it.

    PostgreSQL text cannot hold NUL, so such a value (a search, a filter) would fail inside the
    query as a server error. Form and JSON bodies are checked by their fields and by the API's
    JSON parser (apps/core/api/parsers.py); the query string has no field to do it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        for name, values in request.GET.lists():
            if "\x00" in name or any("\x00" in value for value in values):
                return self._refuse(request, name.replace("\x00", "\\0"))
        return self.get_response(request)

    def _refuse(self, request: HttpRequest, field: str) -> HttpResponse:
        from apps.core.api.errors import field_problem_response

        message = _("Null characters are not allowed.")
        if request.path.startswith("/api/"):
            return field_problem_response(request=request, field=field, message=message)
        return render(request, "400.html", {"field": field, "message": message}, status=400)
