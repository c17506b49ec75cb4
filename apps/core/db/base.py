"""django-tenants' PostgreSQL backend, with a cheaper health check for pooled connections.

Django's pool (psycopg_pool) with CONN_HEALTH_CHECKS checks every connection it hands out: an
empty query, one more round trip to PostgreSQL for every request. Here a pooled connection is
checked when it is taken only if it was not checked in the last DB_POOL_CHECK_SECONDS; one
that fails the check goes back to the pool, which drops it, and another is taken. A
connection the server dropped within those seconds fails its request, once: the pool drops it
when it comes back. bench/api_latency.py: about a tenth more requests a second for the client
list API, which otherwise makes only one query when its page is in memory.

Without a pool (development, tests) it is django-tenants' backend unchanged.
"""

from __future__ import annotations

import threading
import time
import weakref
from typing import Any

import psycopg
from django.conf import settings
from django_tenants.postgresql_backend.base import DatabaseWrapper as TenantDatabaseWrapper

_checked_at: weakref.WeakKeyDictionary[Any, float] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


class DatabaseWrapper(TenantDatabaseWrapper):
    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        connection = super().get_new_connection(conn_params)
        pool = self.pool
        if pool is None:
            return connection
        # As psycopg_pool's own check loop: at most every connection the pool holds, and one.
        for _attempt in range(pool.max_size + 1):
            now = time.monotonic()
            with _lock:
                checked = _checked_at.get(connection)
            if checked is not None and now - checked < settings.DB_POOL_CHECK_SECONDS:
                return connection
            try:
                connection.execute("")
            except psycopg.Error:
                pool.putconn(connection)
                connection = super().get_new_connection(conn_params)
                continue
            with _lock:
                _checked_at[connection] = now
            return connection
        return connection
