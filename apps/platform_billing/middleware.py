"""A gym whose platform subscription lapsed more than the grace period ago is read-only: its
data stays, every page still opens, but nothing can be changed until it pays. Signing in and
out, the owner's subscription page and paying stay open so the gym can get out of it."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import Resolver404, resolve
from django.utils.translation import gettext as _

from apps.core.api.errors import problem_response
from apps.platform_billing.selectors import GOOD, gym_standing, platform_billing_enabled

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
# Signing in and out (allauth's pages and its headless session endpoints).
EXEMPT_URL_NAMES = frozenset(
    {
        "account_login",
        "account_logout",
        "account_reauthenticate",
        "mfa_authenticate",
        "mfa_reauthenticate",
    }
)
EXEMPT_PATH_PREFIXES = ("/_allauth/browser/v1/auth/", "/_allauth/app/v1/auth/")


def _exempt(request: HttpRequest) -> bool:
    if request.path.startswith(EXEMPT_PATH_PREFIXES):
        return True
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return False
    return match.namespace == "platform_billing" or match.url_name in EXEMPT_URL_NAMES


class PlatformStandingMiddleware:
    """Puts the gym's standing on the request (`request.platform_standing`, for the banner) and
    refuses unsafe methods once the gym is read-only."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        tenant = getattr(request, "tenant", None)
        if tenant is None or tenant.schema_name == "public" or not platform_billing_enabled():
            request.platform_standing = GOOD  # type: ignore[attr-defined]
            return self.get_response(request)
        standing = gym_standing(gym=tenant)
        request.platform_standing = standing  # type: ignore[attr-defined]
        if standing.read_only and request.method not in SAFE_METHODS and not _exempt(request):
            return self._refuse(request)
        return self.get_response(request)

    def _refuse(self, request: HttpRequest) -> HttpResponse:
        title = _("This gym is read-only until its FitnessCRM subscription is paid.")
        if request.path.startswith("/api/"):
            return problem_response(
                request=request, status=402, code="subscription-lapsed", title=title
            )
        response = render(request, "platform_billing/read_only.html", {"title": title}, status=402)
        if request.headers.get("HX-Request"):
            # htmx swaps no error response: reload the page, whose banner says why.
            response["HX-Refresh"] = "true"
        return response
