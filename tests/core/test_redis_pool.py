"""Every request's cache backend shares the process's Redis connection pool."""

from __future__ import annotations

import contextvars

from django.core.cache import caches

from apps.core.redis import ProcessConnectionPool

URL = "redis://127.0.0.1:6379/14"


def test_one_pool_per_url():
    pool = ProcessConnectionPool.from_url(URL)
    assert ProcessConnectionPool.from_url(URL) is pool
    assert ProcessConnectionPool.from_url("redis://127.0.0.1:6379/13") is not pool


def test_requests_in_their_own_contexts_share_the_pool(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": URL,
            "OPTIONS": {"pool_class": "apps.core.redis.ProcessConnectionPool"},
        }
    }

    def pool_of_this_request():  # type: ignore[no-untyped-def]
        cache = caches["default"]
        cache.set("pool-probe", 1)
        return cache, cache._cache._get_connection_pool(True)

    # Each request runs in a copy of the server's context, as WsgiBridge runs it: Django makes it
    # a cache backend of its own, which must not mean a connection of its own.
    first_cache, first_pool = contextvars.copy_context().run(pool_of_this_request)
    second_cache, second_pool = contextvars.copy_context().run(pool_of_this_request)
    assert first_cache is not second_cache
    assert first_pool is second_pool
    assert len(first_pool._available_connections) + len(first_pool._in_use_connections) == 1
