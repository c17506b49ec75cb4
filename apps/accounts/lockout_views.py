"""Web side of login lockouts: the answer to a locked-out login, and the page where owners and
managers see and clear lockouts. The rules live in apps.accounts.lockouts."""

from __future__ import annotations

import math
from typing import Any

from axes.helpers import get_cool_off
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from apps.accounts.decorators import role_required
from apps.accounts.lockouts import lockout_clear, lockout_list
from apps.accounts.roles import MANAGEMENT_ROLES
from apps.core.api.errors import PROBLEM_CONTENT_TYPE


def _lockout_message(retry_after: int | None) -> str:
    if retry_after is None:
        return _(
            "Too many failed login attempts. This account is locked on this device; ask the "
            "gym's staff to unlock it."
        )
    minutes = max(1, math.ceil(retry_after / 60))
    return ngettext(
        "Too many failed login attempts. Try again in %(minutes)d minute, or ask the gym's "
        "staff to unlock your account.",
        "Too many failed login attempts. Try again in %(minutes)d minutes, or ask the gym's "
        "staff to unlock your account.",
        minutes,
    ) % {"minutes": minutes}


def lockout_response(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: 429 with Retry-After. JSON in allauth's shape for the headless
    API, problem+json for the REST API, the lockout page for the web."""
    cool_off = get_cool_off(request)
    # Each failed attempt during a lockout restarts the cool-off (axes' default), and this
    # answers such an attempt, so the whole cool-off is what is left.
    retry_after = math.ceil(cool_off.total_seconds()) if cool_off else None
    message = _lockout_message(retry_after)
    response: HttpResponse
    if request.path.startswith("/_allauth/"):
        response = JsonResponse(
            {"status": 429, "errors": [{"message": message, "code": "too_many_login_attempts"}]},
            status=429,
        )
    elif request.path.startswith("/api/"):
        response = JsonResponse(
            {
                "type": "https://fitnesscrm.dev/problems/too_many_login_attempts",
                "title": message,
                "status": 429,
                "detail": message,
                "errors": {},
                "instance": request.get_full_path(),
            },
            status=429,
            content_type=PROBLEM_CONTENT_TYPE,
        )
    else:
        response = render(request, "accounts/locked_out.html", {"message": message}, status=429)
    add_never_cache_headers(response)
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response


@role_required(*MANAGEMENT_ROLES)
@require_http_methods(["GET", "POST"])
def lockouts(request: HttpRequest) -> HttpResponse:
    """Current lockouts of this gym, each with an unlock button."""
    if request.method == "POST":
        username = request.POST.get("username", "")
        if username:
            lockout_clear(actor=request.user, username=username, request=request)
            messages.success(
                request, _("%(email)s can log in again.") % {"email": username.strip().lower()}
            )
        return HttpResponseRedirect(reverse("account_lockouts"))
    return render(
        request, "accounts/lockouts.html", {"lockouts": lockout_list(viewer=request.user)}
    )
