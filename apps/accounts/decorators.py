"""Web view guards by role, and the two-factor requirement for owners and managers."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from apps.accounts.roles import has_role, is_management, mfa_enabled

View = Callable[..., HttpResponse]


def role_required(*roles: str) -> Callable[[View], View]:
    """Logged in with one of `roles`, else 403 (anonymous users go to the login page)."""

    def decorator(view: View) -> View:
        @login_required
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not has_role(request.user, *roles):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def mfa_setup_redirect(request: HttpRequest) -> HttpResponseRedirect:
    query = urlencode({"next": request.get_full_path()})
    return HttpResponseRedirect(f"{reverse('mfa_activate_totp')}?{query}")


def mfa_required(view: View) -> View:
    """Owners and managers must have two-factor authentication before they use this view
    (billing, admin, exports); they are sent to set it up and brought back."""

    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if is_management(request.user) and not mfa_enabled(request.user):
            return mfa_setup_redirect(request)
        return view(request, *args, **kwargs)

    return wrapped
