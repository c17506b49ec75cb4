"""The database settings production runs with: django-tenants' own backend, a connection pool
per process, and a connection the server dropped replaced before a request gets it."""

from __future__ import annotations

import pytest
from django.db import connection, connections
from django_tenants.postgresql_backend.base import DatabaseWrapper

pytestmark = pytest.mark.django_db


def production_default() -> dict:
    from fitnesscrm.settings import production

    return production.DATABASES["default"]


def test_production_uses_the_stock_backend_with_a_checked_pool():
    default = production_default()
    assert default["ENGINE"] == "django_tenants.postgresql_backend"
    assert default["CONN_MAX_AGE"] == 0
    assert default["CONN_HEALTH_CHECKS"] is True
    assert "pool" in default["OPTIONS"]


@pytest.fixture
def pooled():
    """A second connection to the test database, through a pool of one with production's
    health checks."""
    settings_dict = {
        **connections["default"].settings_dict,
        "CONN_MAX_AGE": 0,
        "CONN_HEALTH_CHECKS": production_default()["CONN_HEALTH_CHECKS"],
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
    """Take a connection, as a request's first query does, and tell which server process
    serves it."""
    wrapper.ensure_connection()
    return wrapper.connection.info.backend_pid


def test_a_connection_the_server_dropped_is_replaced(pooled):
    first = backend_pid(pooled)
    pooled.close()  # back to the pool, as at the end of a request
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [first])
    second = backend_pid(pooled)
    assert second != first
    with pooled.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)


def test_no_schema_keeps_data_version_triggers_functions_or_tables():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgname FROM pg_trigger WHERE tgname LIKE '%%list_version'"
            " OR tgname LIKE '%%auth_version'"
        )
        assert cursor.fetchall() == []
        cursor.execute(
            "SELECT proname FROM pg_proc"
            " WHERE proname IN ('core_bump_version', 'crm_bump_list_version')"
        )
        assert cursor.fetchall() == []
        cursor.execute(
            "SELECT relnamespace::regnamespace::text FROM pg_class"
            " WHERE relname IN ('core_dataversion', 'crm_listversion')"
        )
        assert cursor.fetchall() == []
        # The catalogs span every schema: the template's and the gyms' were looked at too.
        cursor.execute("SELECT count(*) FROM pg_class WHERE relname = 'crm_client'")
        assert cursor.fetchone()[0] >= 3
