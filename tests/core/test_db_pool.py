"""Pooled connections are checked when taken only if they were not checked lately
(apps/core/db/base.py), and a connection the server dropped is replaced, not handed out."""

from __future__ import annotations

import psycopg
import pytest
from django.db import connection, connections

from apps.core.db.base import DatabaseWrapper

pytestmark = pytest.mark.django_db


@pytest.fixture
def pooled(settings):
    """A second connection to the test database, through a pool of one."""
    settings_dict = {
        **connections["default"].settings_dict,
        "CONN_MAX_AGE": 0,
        "CONN_HEALTH_CHECKS": False,
        "OPTIONS": {"pool": {"min_size": 1, "max_size": 1}},
    }
    wrapper = DatabaseWrapper(settings_dict, alias="pool_check_test")
    # Registered, as Django's own code (django.contrib.postgres) looks connections up by alias.
    connections["pool_check_test"] = wrapper
    yield wrapper
    wrapper.close()
    wrapper.close_pool()
    del connections["pool_check_test"]


def backend_pid(wrapper: DatabaseWrapper) -> int:
    """Take a connection (as a request's first query does) and tell which server process
    serves it."""
    wrapper.ensure_connection()
    return wrapper.connection.info.backend_pid


@pytest.fixture
def checks(monkeypatch):
    """The empty queries (checks) run on pooled connections."""
    seen: list[int] = []
    real_execute = psycopg.Connection.execute

    def execute(self, query, *args, **kwargs):  # type: ignore[no-untyped-def]
        if query == "":
            seen.append(self.info.backend_pid)
        return real_execute(self, query, *args, **kwargs)

    monkeypatch.setattr(psycopg.Connection, "execute", execute)
    return seen


def test_a_connection_checked_lately_is_not_checked_again(settings, pooled, checks):
    settings.DB_POOL_CHECK_SECONDS = 60
    first = backend_pid(pooled)
    pooled.close()  # back to the pool, as at the end of a request
    assert backend_pid(pooled) == first
    pooled.close()
    assert backend_pid(pooled) == first
    assert checks == [first]


def test_without_a_recent_check_every_take_is_checked(settings, pooled, checks):
    settings.DB_POOL_CHECK_SECONDS = 0
    first = backend_pid(pooled)
    pooled.close()
    backend_pid(pooled)
    assert checks == [first, first]


def test_a_connection_the_server_dropped_is_replaced(settings, pooled):
    settings.DB_POOL_CHECK_SECONDS = 0
    first = backend_pid(pooled)
    pooled.close()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [first])
    # The check finds it dead: the request gets a working connection all the same.
    second = backend_pid(pooled)
    assert second != first


def test_without_a_pool_nothing_changes(checks):
    assert connections["default"].pool is None
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    assert checks == []


def in_pool(wrapper: DatabaseWrapper) -> int:
    return wrapper.pool.get_stats()["pool_available"]


def test_a_thread_holds_its_connection_across_requests_for_a_while(settings, pooled):
    settings.DB_POOL_HOLD_SECONDS = 60
    first = backend_pid(pooled)
    for _ in range(3):
        # Django's own step at each request's start and end (close_old_connections).
        pooled.close_if_unusable_or_obsolete()
        assert pooled.connection is not None
        assert in_pool(pooled) == 0
        assert backend_pid(pooled) == first


def test_once_the_hold_is_over_it_goes_back_to_the_pool(settings, pooled):
    settings.DB_POOL_HOLD_SECONDS = 0
    backend_pid(pooled)
    pooled.close_if_unusable_or_obsolete()
    assert pooled.connection is None
    assert in_pool(pooled) == 1


def test_a_connection_left_in_a_transaction_goes_back_at_once(settings, pooled):
    settings.DB_POOL_HOLD_SECONDS = 60
    backend_pid(pooled)
    pooled.set_autocommit(False)
    pooled.close_if_unusable_or_obsolete()
    assert pooled.connection is None
    assert in_pool(pooled) == 1


def test_a_held_connection_gets_each_requests_gym(settings, pooled):
    settings.DB_POOL_HOLD_SECONDS = 60

    def search_path() -> str:
        with pooled.cursor() as cursor:
            cursor.execute("SHOW search_path")
            return cursor.fetchone()[0]

    pooled.set_schema("gym_a_schema_that_is_not_there")
    assert "gym_a_schema_that_is_not_there" in search_path()
    pooled.close_if_unusable_or_obsolete()
    pooled.set_schema_to_public()
    assert "gym_a_schema_that_is_not_there" not in search_path()
