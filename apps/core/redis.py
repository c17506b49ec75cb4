"""One Redis connection pool per process for Django's cache.

Django makes a cache backend per context (its cache handler keeps them in context-local
storage), and every request runs in a context of its own: with the stock pool each request
opened its own connection to Redis, and redis-py's handshake on connect (HELLO, CLIENT SETINFO
with the library's version read from package metadata) cost more than the request's cache
reads. Redis connection pools are thread-safe, and redis-py resets them in a forked child.
"""

from __future__ import annotations

import threading
from typing import Any

import redis

_pools: dict[tuple[str, tuple[tuple[str, Any], ...]], redis.ConnectionPool] = {}
_lock = threading.Lock()


class ProcessConnectionPool(redis.ConnectionPool):
    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> redis.ConnectionPool:  # type: ignore[override]
        key = (url, tuple(sorted(kwargs.items())))
        with _lock:
            pool = _pools.get(key)
            if pool is None:
                pool = _pools[key] = super().from_url(url, **kwargs)
        return pool
