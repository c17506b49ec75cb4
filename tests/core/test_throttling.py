"""The sliding window counter behind every throttle (apps.core.api.throttling), on the local
memory cache the tests use and on Redis as in production."""

from __future__ import annotations

import pytest
from django.core.cache import caches

from apps.core.api.throttling import UserRateThrottle


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Tenth(UserRateThrottle):
    rate = "10/min"

    def get_cache_key(self, request, view):  # type: ignore[no-untyped-def]
        return "throttle_test_user"


def hits(throttle: Tenth, clock: Clock, at: float, count: int = 1) -> list[bool]:
    clock.now = at
    return [throttle.allow_request(None, None) for _ in range(count)]


def check_sliding_window() -> None:
    clock = Clock()
    throttle = Tenth()
    throttle.timer = clock
    # The 11th request in a minute is refused, with the time to wait.
    assert hits(throttle, clock, 1_000 * 60 + 5, 10) == [True] * 10
    assert hits(throttle, clock, 1_000 * 60 + 59) == [False]
    assert 0 < throttle.wait() <= 60
    # Just into the next window the last one still counts in full: refused.
    assert hits(throttle, clock, 1_001 * 60 + 1) == [False]
    # Half-way through it, half of the previous window's 11 counts (5.5); with the one refused
    # just now, three more fit and the fourth does not.
    assert hits(throttle, clock, 1_001 * 60 + 30, 4) == [True, True, True, False]
    # Two windows on, nothing is left of the first.
    assert hits(throttle, clock, 1_003 * 60, 10) == [True] * 10


def test_sliding_window_on_the_local_memory_cache():
    check_sliding_window()


@pytest.fixture
def redis_cache(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:6379/14",
            "KEY_FUNCTION": "django_tenants.cache.make_key",
            "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
        }
    }
    cache = caches["default"]
    cache.clear()
    yield cache
    cache.clear()


def test_sliding_window_on_redis(redis_cache):
    check_sliding_window()
    # Counters expire by themselves, within two periods.
    client = redis_cache._cache.get_client(write=False)
    keys = client.keys("*throttle_test_user*")
    assert keys
    assert all(0 < client.ttl(key) <= 120 for key in keys)
    # The keys carry the schema, as every cache key does: each gym counts on its own.
    assert all(key.decode().startswith("public:") for key in keys)


class Thousand(UserRateThrottle):
    rate = "1000/min"

    def get_cache_key(self, request, view):  # type: ignore[no-untyped-def]
        return "throttle_test_busy"


def busy_window(cache) -> list[bool]:
    """1,200 hits in one minute at 1000/min: what each hit got."""
    clock = Clock()
    clock.now = 5_000 * 60 + 1
    allowed = []
    for _ in range(1_200):
        throttle = Thousand()
        throttle.timer = clock
        allowed.append(throttle.allow_request(None, None))
    return allowed


def test_exactly_the_rate_gets_through_then_the_client_stays_refused(redis_cache):
    allowed = busy_window(redis_cache)
    assert sum(allowed) == 1_000
    assert allowed.index(False) == 1_000


def test_each_gym_counts_on_its_own(redis_cache, gym_a, gym_b):
    from django_tenants.utils import tenant_context

    clock = Clock()
    clock.now = 6_000 * 60 + 1
    for gym in (gym_a, gym_b):
        with tenant_context(gym):
            for _ in range(100):
                throttle = Thousand()
                throttle.timer = clock
                assert throttle.allow_request(None, None)
    client = redis_cache._cache.get_client(write=False)
    counts = {key.decode().split(":")[0]: int(client.get(key)) for key in client.keys("*busy*")}
    assert counts == {gym_a.schema_name: 100, gym_b.schema_name: 100}
