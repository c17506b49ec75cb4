"""Provider-wide request budgets in the shared cache (Redis): Strava limits an application, not a
gym, so every gym's syncs draw on one budget. Counters follow the provider's fixed windows
(Strava's 15-minute windows start at :00, :15, :30 and :45; its day at midnight UTC) and are
raised to whatever the provider's X-RateLimit-Usage header says, so requests other processes
made are counted too. After a 429 nobody calls until the window turns."""

from __future__ import annotations

import math
import time
from collections.abc import Mapping

from django.core.cache import cache
from django_tenants.utils import get_public_schema_name, schema_context

WINDOW_SECONDS = 15 * 60
DAY_SECONDS = 24 * 3600


class RateLimitedError(Exception):
    """The provider's budget is spent: try again in `retry_after` seconds."""

    def __init__(self, provider: str, retry_after: int) -> None:
        super().__init__(f"{provider} rate limit: retry in {retry_after} s")
        self.provider = provider
        self.retry_after = max(1, retry_after)


def _keys(provider: str, now: float) -> tuple[str, str, str]:
    prefix = f"wearables:budget:{provider}"
    return (
        f"{prefix}:15m:{int(now // WINDOW_SECONDS)}",
        f"{prefix}:day:{int(now // DAY_SECONDS)}",
        f"{prefix}:blocked",
    )


def _until_window_end(now: float) -> int:
    return math.ceil(WINDOW_SECONDS - now % WINDOW_SECONDS)


def _until_day_end(now: float) -> int:
    return math.ceil(DAY_SECONDS - now % DAY_SECONDS)


def _count(key: str, timeout: int) -> int:
    cache.add(key, 0, timeout=timeout)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=timeout)
        return 1


def budget_acquire(*, provider: str, limit_15min: int, limit_daily: int) -> None:
    """Count one request against the provider's budget; RateLimitedError if it is spent."""
    now = time.time()
    short_key, day_key, blocked_key = _keys(provider, now)
    # Keys are the platform's, not a gym's: computed in the public schema whichever gym calls.
    with schema_context(get_public_schema_name()):
        blocked_until = cache.get(blocked_key)
        if blocked_until and blocked_until > now:
            raise RateLimitedError(provider, math.ceil(blocked_until - now))
        if _count(short_key, WINDOW_SECONDS + 60) > limit_15min:
            raise RateLimitedError(provider, _until_window_end(now))
        if _count(day_key, DAY_SECONDS + 60) > limit_daily:
            raise RateLimitedError(provider, _until_day_end(now))


def budget_observe(*, provider: str, status: int, headers: Mapping[str, str]) -> None:
    """Take the provider's own count (X-RateLimit-Usage: "15min,daily") and its 429s."""
    now = time.time()
    short_key, day_key, blocked_key = _keys(provider, now)
    usage = _pair(headers.get("X-RateLimit-Usage", ""))
    limits = _pair(headers.get("X-RateLimit-Limit", ""))
    with schema_context(get_public_schema_name()):
        if usage:
            for key, used, timeout in (
                (short_key, usage[0], WINDOW_SECONDS + 60),
                (day_key, usage[1], DAY_SECONDS + 60),
            ):
                if (cache.get(key) or 0) < used:
                    cache.set(key, used, timeout=timeout)
        if status == 429:
            wait = _retry_after(headers)
            if wait is None:
                daily_spent = usage and limits and usage[1] >= limits[1]
                wait = _until_day_end(now) if daily_spent else _until_window_end(now)
            cache.set(blocked_key, now + wait, timeout=wait + 60)


def budget_blocked_for(*, provider: str) -> int:
    """Seconds until the provider may be called again (0: now)."""
    now = time.time()
    with schema_context(get_public_schema_name()):
        blocked_until = cache.get(_keys(provider, now)[2]) or 0
    return max(0, math.ceil(blocked_until - now))


def _pair(value: str) -> tuple[int, int] | None:
    try:
        first, second = (int(part.strip()) for part in value.split(","))
    except ValueError:
        return None
    return first, second


def _retry_after(headers: Mapping[str, str]) -> int | None:
    try:
        return max(1, int(headers.get("Retry-After", "")))
    except ValueError:
        return None
