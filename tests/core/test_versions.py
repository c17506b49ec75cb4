"""How a request reads its schema's data versions (apps/core/versions.py): one statement
prepared on the server, and nothing else of Django's prepared; a prepared statement that a
migration made stale is prepared again."""

from __future__ import annotations

import psycopg
import pytest
from django.db import connection

from apps.core import versions


def prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


def test_versions_are_read_prepared_and_nothing_else_is(db):
    connection.ensure_connection()
    first = versions._read("public")
    assert set(first) >= {versions.AUTH}
    assert versions._read("public") == first
    statements = prepared_statements()
    assert len(statements) == 1
    assert "core_dataversion" in statements[0]
    # Django's own queries (client-side binding) are never prepared.
    for _ in range(10):
        assert connection.cursor().execute("SELECT 1") is not None
    assert len(prepared_statements()) == 1


def test_counted_like_any_query_when_queries_are_logged(db, django_assert_num_queries):
    with django_assert_num_queries(1):
        versions._read("public")


def connect() -> psycopg.Connection:
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    return psycopg.connect(**{**params, "autocommit": True})


@pytest.fixture
def raw(db):
    with connect() as conn:
        conn.execute("DROP TABLE IF EXISTS scratch_versions")
        conn.execute("CREATE TABLE scratch_versions (name varchar(10), version int)")
        conn.execute("INSERT INTO scratch_versions VALUES ('a', 1), ('b', 2)")
        yield conn
        conn.execute("DROP TABLE scratch_versions")


SQL = "SELECT name, version FROM scratch_versions ORDER BY name"


def migrate_elsewhere() -> None:
    # Another process's migration: psycopg forgets its prepared statements when it runs
    # such a statement itself, never when another connection does.
    with connect() as other:
        other.execute("ALTER TABLE scratch_versions ALTER COLUMN name TYPE text")


def test_a_statement_made_stale_by_a_migration_is_prepared_again(raw):
    assert versions.fetch_prepared(raw, SQL) == [("a", 1), ("b", 2)]
    migrate_elsewhere()
    # What PostgreSQL answers the stale statement on its own:
    with pytest.raises(psycopg.errors.FeatureNotSupported):
        psycopg.Cursor(raw).execute(SQL, prepare=True)
    assert versions.fetch_prepared(raw, SQL) == [("a", 1), ("b", 2)]
    assert versions.fetch_prepared(raw, SQL) == [("a", 1), ("b", 2)]


def test_in_a_transaction_the_error_is_raised_and_handled_after_it(raw):
    versions.fetch_prepared(raw, SQL)
    migrate_elsewhere()
    with pytest.raises(psycopg.errors.FeatureNotSupported), raw.transaction():
        versions.fetch_prepared(raw, SQL)
    assert versions.fetch_prepared(raw, SQL) == [("a", 1), ("b", 2)]
