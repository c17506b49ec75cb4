"""Owners and managers reach the back office only with two-factor authentication."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from apps.accounts.decorators import mfa_setup_redirect
from apps.accounts.roles import is_management, mfa_enabled


class MfaRequiredMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        tenant = getattr(request, "tenant", None)
        if (
            tenant is not None
            and request.path.startswith(tuple(settings.MFA_REQUIRED_PATH_PREFIXES))
            and request.user.is_authenticated
            and is_management(request.user)
            and not mfa_enabled(request.user)
        ):
            return mfa_setup_redirect(request)
        return self.get_response(request)
