"""The 404 of a gym's host: a problem document under /api/, the page elsewhere.

DRF's exception handler answers the 404s its views raise; a path no pattern matches (an
unknown endpoint, or an id that is not a number: /api/v1/workout-sessions/0.5/) never reaches
a view, and Django's own handler would answer an API client with an HTML page.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults

from apps.core.api.errors import PROBLEM_CONTENT_TYPE

API_PREFIX = "/api/"


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if not request.path.startswith(API_PREFIX):
        return defaults.page_not_found(request, exception)  # type: ignore[arg-type]
    title = _("Not found.")
    body: dict[str, Any] = {
        "type": "https://fitnesscrm.dev/problems/not_found",
        "title": title,
        "status": 404,
        "detail": title,
        "errors": {},
        "instance": request.get_full_path(),
    }
    return JsonResponse(body, status=404, content_type=PROBLEM_CONTENT_TYPE)
