"""Rate limits: DRF throttles for the API, and the same counters for web forms.

Counters live in the cache (keys go through django_tenants.cache.make_key, so each gym counts
on its own) and the rates in REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]. The strict `auth` scope
is for what attackers repeat: sign-up, login, password reset, invitations.

Every throttle here counts with a sliding window counter: hits are counted in fixed windows of
the rate's period, and the previous window's count is weighed by how much of it the sliding
period still covers. That is one cache round trip a request (Redis: INCR, EXPIRE and GET in
one pipeline) whatever the rate, where DRF's own throttles keep the time of every request in
the period and read and write that whole list on each request (600 entries at 600/min).
"""

from __future__ import annotations

import math
from typing import Any

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from rest_framework import throttling
from rest_framework.throttling import SimpleRateThrottle

from apps.core.client_address import client_address

AUTH_SCOPE = "auth"


# The one client address rule (apps/core/client_address.py), under the name views here use.
client_ip = client_address


def count_hit(key: str, previous_key: str, *, ttl: int, by: int = 1) -> tuple[int, int]:
    """Add `by` to the counter `key` (kept `ttl` seconds) and read `previous_key`: the new
    count and the previous one."""
    cache = caches["default"]
    if isinstance(cache, RedisCache):
        current, previous = cache.make_key(key), cache.make_key(previous_key)
        # Django's cache API would take three round trips (add, incr, get); its client's
        # pipeline takes one.
        client = cache._cache.get_client(current, write=True)
        pipe = client.pipeline(transaction=False)
        pipe.incrby(current, by)
        pipe.expire(current, ttl, nx=True)
        pipe.get(previous)
        count, _, before = pipe.execute()
        return int(count), int(before or 0)
    # Other caches (local memory in development and tests): their own atomic increment.
    cache.add(key, 0, ttl)
    try:
        count = cache.incr(key, by)
    except ValueError:  # expired between add and incr
        cache.add(key, by, ttl)
        count = by
    return count, int(cache.get(previous_key) or 0)


class SlidingWindowMixin:
    """allow_request and wait for a SimpleRateThrottle, by the sliding window counter. A
    refused request counts too: a client that keeps hammering stays refused."""

    rate: str | None
    num_requests: int
    duration: int
    key: str | None
    timer: Any
    get_cache_key: Any
    _wait: float = 0.0

    def allow_request(self, request: Any, view: Any) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        position = self.timer() / self.duration
        window = int(position)
        covered = 1 - (position - window)  # of the previous window, by the sliding period
        count, previous = count_hit(
            f"{self.key}:{window}", f"{self.key}:{window - 1}", ttl=2 * self.duration
        )
        if previous * covered + count <= self.num_requests:
            return True
        self._wait = covered * self.duration
        return False

    def wait(self) -> float | None:
        return self._wait

    def get_ident(self, request: Any) -> str:
        # DRF's own reading of X-Forwarded-For differs from ours; one rule for every counter.
        return client_address(request) or "unknown"


class AnonRateThrottle(SlidingWindowMixin, throttling.AnonRateThrottle):
    pass


class UserRateThrottle(SlidingWindowMixin, throttling.UserRateThrottle):
    pass


class AuthRateThrottle(SlidingWindowMixin, throttling.ScopedRateThrottle):
    """The strict scope, counted per client IP even for a logged-in user: the endpoints that
    use it are the ones an attacker hammers, and a session is cheap to get.

    Use with `throttle_scope = AUTH_SCOPE` on the view.
    """

    def allow_request(self, request: Any, view: Any) -> bool:
        # What ScopedRateThrottle.allow_request does first: the rate comes from the view.
        self.scope = getattr(view, self.scope_attr, None)
        if not self.scope:
            return True
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request: Any, view: Any) -> str:
        ident = client_ip(request) or "unknown"
        return self.cache_format % {"scope": self.scope, "ident": ident}


class _KeyedRateThrottle(SlidingWindowMixin, SimpleRateThrottle):
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
