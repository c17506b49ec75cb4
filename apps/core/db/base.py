"""django-tenants' PostgreSQL backend, with a cheaper health check for pooled connections.

Django's pool (psycopg_pool) with CONN_HEALTH_CHECKS checks every connection it hands out: an
empty query, one more round trip to PostgreSQL for every request. Here a pooled connection is
checked when it is taken only if it was not checked in the last DB_POOL_CHECK_SECONDS; one
that fails the check goes back to the pool, which drops it, and another is taken. A
connection the server dropped within those seconds fails its request, once: the pool drops it
when it comes back. bench/api_latency.py: about a tenth more requests a second for the client
list API, which otherwise makes only one query when its page is in memory.

A thread also keeps the pooled connection it took across requests for DB_POOL_HOLD_SECONDS
(Django would give it back at the end of every request, CONN_MAX_AGE being 0 with a pool):
taking it and giving it back cost about 50 microseconds of a request that makes one query.
A connection is held only by a thread that serves requests (WEB_THREADS of them) or runs a
consumer's or task's database work, so the pool's max_size leaves room. Django's own checks
at each request's start and end still apply: a connection left in a transaction, or one
that had an error and no longer works, is closed (given back) at once, and django-tenants
sets the search path again for each request's gym.

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
    def connect(self) -> None:
        super().connect()
        if self.pool is not None:
            # Given back by close_if_unusable_or_obsolete (at a request's start or end) once
            # this has passed, as a persistent connection is at CONN_MAX_AGE.
            self.close_at = time.monotonic() + settings.DB_POOL_HOLD_SECONDS

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
