"""How a request reads its schema's data versions (apps/core/versions.py): one statement
prepared on the server, and nothing else of Django's prepared; a prepared statement that a
migration made stale is prepared again; another thread's read taken only when it began after
the request arrived."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

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


def in_another_thread(work: Callable[[], Any]) -> Any:
    """What `work` returns, run as another request thread would: on its own connection,
    outside any transaction (the test's own transaction is on this thread's connection)."""
    results: list[Any] = []

    def run() -> None:
        try:
            results.append(work())
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    return results[0]


@pytest.fixture
def request_arriving() -> Iterator[Callable[[float], None]]:
    """`request_arriving(t)`: this thread is in a request that reached the process at `t`."""

    def arrive(arrived: float) -> None:
        versions._start(environ={versions.ARRIVED: arrived})

    yield arrive
    versions._finish()


def version_reads(work: Callable[[], Any]) -> tuple[Any, int]:
    with CaptureQueriesContext(connection) as queries:
        result = work()
    return result, sum("core_dataversion" in query["sql"] for query in queries)


def bump_auth_elsewhere() -> None:
    """A write committed by another process: the public schema's `auth` version grows."""
    with connect() as other:
        other.execute("UPDATE core_dataversion SET version = version + 1 WHERE name = 'auth'")


def test_a_read_begun_after_the_request_arrived_is_taken_without_a_round_trip(db, request_arriving):
    arrived = time.monotonic()
    theirs = in_another_thread(lambda: versions._read("public"))
    request_arriving(arrived)
    mine, reads = version_reads(lambda: versions.current(versions.AUTH))
    assert (mine, reads) == (theirs[versions.AUTH], 0)


def test_a_write_committed_before_the_request_arrived_is_always_seen(db, request_arriving):
    before = in_another_thread(lambda: versions._read("public"))[versions.AUTH]
    # Another process commits; its client's next request then reaches this process.
    bump_auth_elsewhere()
    request_arriving(time.monotonic())
    mine, reads = version_reads(lambda: versions.current(versions.AUTH))
    assert (mine, reads) == (before + 16, 1)


def test_a_read_inside_a_transaction_is_never_shared(db):
    committed = in_another_thread(lambda: versions._read("public"))[versions.AUTH]
    shared = versions._shared["public"]
    # This thread's connection is inside the test's transaction, as a request's inside
    # atomic() would be. A write there, not committed, shows in what it reads.
    with connection.cursor() as cursor:
        cursor.execute("UPDATE core_dataversion SET version = version + 1 WHERE name = 'auth'")
    assert versions._read("public")[versions.AUTH] == committed + 16
    assert versions._shared["public"] is shared


def test_without_a_stamp_a_request_arrived_when_django_started_it(db):
    in_another_thread(lambda: versions._read("public"))
    # The test client, runserver: no bridge stamped the environ.
    versions._start(environ={})
    try:
        _, reads = version_reads(lambda: versions.current(versions.AUTH))
    finally:
        versions._finish()
    assert reads == 1


def test_outside_requests_every_call_reads(db):
    in_another_thread(lambda: versions._read("public"))
    _, reads = version_reads(lambda: versions.current(versions.AUTH))
    assert reads == 1
