"""Django's error handlers on every host: a problem document under /api/, the page elsewhere.

DRF's exception handler answers what its views raise. What never reaches a view, or escapes
it, comes to Django's handlers instead: a path no pattern matches (an unknown endpoint, or an
id that is not a number: /api/v1/workout-sessions/0.5/), a body over
DATA_UPLOAD_MAX_MEMORY_SIZE, a failure. Django's own would answer an API client with HTML.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views import defaults

from apps.core.api.errors import problem_response

API_PREFIX = "/api/"


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if not _is_api(request):
        return defaults.bad_request(request, exception)  # type: ignore[arg-type]
    return problem_response(
        request=request, status=400, code="bad_request", title=_("Bad request.")
    )


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if not _is_api(request):
        return defaults.page_not_found(request, exception)  # type: ignore[arg-type]
    return problem_response(request=request, status=404, code="not_found", title=_("Not found."))


def server_error(request: HttpRequest) -> HttpResponse:
    if not _is_api(request):
        return defaults.server_error(request)
    return problem_response(
        request=request,
        status=500,
        code="server_error",
        title=_("Something went wrong. We have been notified; please try again in a moment."),
    )
