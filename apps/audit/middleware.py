"""Makes where a request comes from (IP, user agent, request id, user) available to
`audit_record` anywhere below the view, so services need no `request` argument."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from apps.audit.services import request_context


class AuditContextMiddleware:
    """Sits right after AuthenticationMiddleware: request.user exists (still lazy)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with request_context(request):
            return self.get_response(request)
