"""Rate limits: DRF throttles for the API, and the same counters for web forms.

Counters live in the cache (keys go through django_tenants.cache.make_key, so each gym counts
on its own) and the rates in REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]. The strict `auth` scope
is for what attackers repeat: sign-up, login, password reset, invitations.
"""

from __future__ import annotations

import math
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from rest_framework.throttling import ScopedRateThrottle, SimpleRateThrottle

AUTH_SCOPE = "auth"


def client_ip(request: Any) -> str | None:
    """The client's address: from X-Forwarded-For only as far as ALLAUTH_TRUSTED_PROXY_COUNT
    proxies are trusted, else REMOTE_ADDR; None when there is none (a request built in code).

    One rule for the throttles here, allauth's rate limits and axes lockouts
    (AXES_CLIENT_IP_CALLABLE); DRF's own anon/user throttles follow it through NUM_PROXIES.
    """
    from allauth.account.adapter import get_adapter

    try:
        return get_adapter().get_client_ip(request)
    except PermissionDenied:
        return None


class AuthRateThrottle(ScopedRateThrottle):
    """The strict scope, counted per client IP even for a logged-in user: the endpoints that
    use it are the ones an attacker hammers, and a session is cheap to get.

    Use with `throttle_scope = AUTH_SCOPE` on the view.
    """

    def get_cache_key(self, request: Any, view: Any) -> str:
        ident = client_ip(request) or "unknown"
        return self.cache_format % {"scope": self.scope, "ident": ident}


class _KeyedRateThrottle(SimpleRateThrottle):
    def __init__(self, *, scope: str, ident: str) -> None:
        self.scope = scope
        self.ident = ident
        super().__init__()

    def get_cache_key(self, request: Any, view: Any) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.ident}


def too_many_requests(request: HttpRequest, *, retry_after: int) -> HttpResponse:
    """The 429 page, with Retry-After in seconds."""
    response = render(request, "429.html", {"retry_after": retry_after}, status=429)
    response["Retry-After"] = str(retry_after)
    return response


def rate_limit(
    request: HttpRequest, *, scope: str = AUTH_SCOPE, key: str | None = None
) -> HttpResponse | None:
    """Count one hit of `scope` for `key` (default: the client IP) in a web view.

    Returns None while under the rate, else the 429 response to send. Shares counters and rates
    with the API throttles of the same scope, so the sign-up page and the sign-up API draw on
    one budget per IP.
    """
    throttle = _KeyedRateThrottle(scope=scope, ident=key or client_ip(request) or "unknown")
    if throttle.allow_request(request, None):
        return None
    wait = throttle.wait()
    retry_after = max(1, math.ceil(wait if wait is not None else throttle.duration))
    return too_many_requests(request, retry_after=retry_after)
