"""Data versions kept by the database, and a web process's memory checked against them.

A data version is a number the database bumps in the same transaction as every statement that
writes the tables it watches (triggers made by the migrations that register it: core 0001 makes
the table and the trigger function; `auth` is registered by accounts 0004, `crm_list` by
crm 0004). Writes through the ORM, bulk updates, imports and raw SQL all count alike. So a
reader that sees a version also sees every write behind it, and anything read after the
version was read is at least as new as that version: what a process keeps in memory under a
version can be served for as long as the version stays the same.

Each version is a sum over 16 rows: a transaction bumps the row its transaction id picks, so
writers in different transactions seldom wait on each other and never deadlock over it.

Versions are per schema (each gym's own, and public's). `current()` reads all of a schema's
versions in one query. During a request it reads them once and remembers them until the
request ends, so checking the session, the user and a list page costs one round trip; that is
right for what a request reads before it writes (its session and user, a GET's list page).
Outside requests (tasks, commands, consumers) every call reads afresh.

A request may also take the versions another thread of this process read, when that read
began after the request arrived (`ARRIVED`, which the ASGI bridge stamps when the request
reaches the process; otherwise when Django starts it). Such a read sees every write committed
before the request arrived, and so every write its client can know of, whichever process made
it: read-after-write holds as if the request had read them itself. Only reads made outside a
transaction are shared, as one inside a transaction may see that transaction's own writes.
Under load, when requests wait their turn for a thread, most of them then need no round trip.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Hashable
from contextvars import ContextVar
from typing import Any, Generic, TypeVar

import psycopg
from django.core.signals import request_finished, request_started
from django.db import DEFAULT_DB_ALIAS, connection, connections

from apps.core.lru import LRU

AUTH = "auth"
CRM_LIST = "crm_list"

SLOTS = 16  # as CREATE_SQL has them

# Made by core 0001 in every schema; each app's migration registers its names (rows) and
# triggers with register_sql().
CREATE_SQL = """
CREATE TABLE core_dataversion (
    name varchar(40) NOT NULL,
    slot smallint NOT NULL CHECK (slot BETWEEN 0 AND 15),
    version bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (name, slot)
);
CREATE FUNCTION core_bump_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format(
        'UPDATE %I.core_dataversion SET version = version + 1 WHERE name = $1 AND slot = $2',
        TG_TABLE_SCHEMA
    ) USING TG_ARGV[0], (txid_current() % 16)::smallint;
    RETURN NULL;
END
$$;
"""
DROP_SQL = "DROP FUNCTION IF EXISTS core_bump_version(); DROP TABLE IF EXISTS core_dataversion;"


def register_sql(name: str, tables: tuple[str, ...]) -> tuple[str, str]:
    """SQL for a migration (forwards, backwards): the version `name`, bumped by every write
    to `tables`."""
    forwards = (
        f"INSERT INTO core_dataversion (name, slot) "
        f"SELECT '{name}', generate_series(0, {SLOTS - 1});"
    )
    backwards = ""
    for table in tables:
        trigger = f"{table}_{name}_version"
        forwards += (
            f"CREATE TRIGGER {trigger} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION core_bump_version('{name}');"
        )
        backwards += f"DROP TRIGGER IF EXISTS {trigger} ON {table};"
    # `name` and `tables` are constants of the calling migration.
    backwards += f"DELETE FROM core_dataversion WHERE name = '{name}';"  # noqa: S608
    return forwards, backwards


# The WSGI environ's key for when the request reached this process (time.monotonic()).
ARRIVED = "fitnesscrm.arrived"


class _RequestVersions:
    """The versions read during one request, by schema, and when the request arrived."""

    __slots__ = ("arrived", "by_schema")

    def __init__(self, arrived: float) -> None:
        self.arrived = arrived
        self.by_schema: dict[str, dict[str, int]] = {}


# The current request's; None outside requests.
_request_versions: ContextVar[_RequestVersions | None] = ContextVar(
    "request_versions", default=None
)

# The latest versions read in this process outside a transaction, by schema, with when that
# read began: (began, versions). Replaced whole, so threads need no lock to read it.
_shared: dict[str, tuple[float, dict[str, int]]] = {}


def _start(**kwargs: Any) -> None:
    environ = kwargs.get("environ")
    arrived = environ.get(ARRIVED) if environ is not None else None
    _request_versions.set(_RequestVersions(time.monotonic() if arrived is None else arrived))


def _finish(**kwargs: Any) -> None:
    _request_versions.set(None)


request_started.connect(_start, dispatch_uid="core_versions_start")
request_finished.connect(_finish, dispatch_uid="core_versions_finish")


def _read(schema: str) -> dict[str, int]:
    # Qualified by schema, so no `SET search_path` first: without django-tenants' step that
    # issues it. The next ordinary cursor still sets the path, as the tenant's schema has not
    # been set on this connection yet.
    db = connections[DEFAULT_DB_ALIAS]
    table = f"{db.ops.quote_name(schema)}.core_dataversion"
    sql = f"SELECT name, sum(version)::bigint FROM {table} GROUP BY name"  # noqa: S608
    db.close_if_health_check_failed()
    db.ensure_connection()
    began = time.monotonic()
    # Outside a transaction the statement is one of its own (or the first of one), so it sees
    # only what was committed, and all of that, as of some moment after `began`.
    shareable = db.connection.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    if db.queries_logged or db.execute_wrappers:
        # Through a cursor of Django's, so assertNumQueries, DEBUG's query log and execute
        # wrappers see it like any other.
        with db.wrap_database_errors:
            cursor = db._prepare_cursor(db.create_cursor())
        with cursor:
            cursor.execute(sql)
            rows = cursor.fetchall()
    else:
        with db.wrap_database_errors:
            rows = fetch_prepared(db.connection, sql)
    versions = dict(rows)
    if shareable:
        latest = _shared.get(schema)
        if latest is None or latest[0] < began:
            _shared[schema] = (began, versions)
    return versions


# Django turns psycopg's automatic preparing off (prepare_threshold None), and its own
# cursors (client-side binding) never prepare. A threshold no statement reaches lets
# fetch_prepared's statements, and only them, be prepared.
_EXPLICIT_ONLY = 2**31


def fetch_prepared(raw: psycopg.Connection, sql: str) -> list[tuple[Any, ...]]:
    """Rows of `sql` (no parameters) as a statement prepared on the server, on the driver's
    connection itself.

    Every signed-in request reads its schema's versions, so this is the one statement worth
    preparing: PostgreSQL then neither parses nor plans it again (about 50 rather than 90
    microseconds of its CPU), and Django's cursor layers, which cost more than the round trip's
    own work in this process, are skipped.

    A migration that changes a column the statement returns makes PostgreSQL refuse the
    prepared plan ("cached plan must not change result type"): the connection then forgets
    what it prepared and runs the statement afresh; inside a transaction, which that error
    has ended, it is raised and handled the same way next time.
    """
    if raw.prepare_threshold is None:
        raw.prepare_threshold = _EXPLICIT_ONLY
    try:
        return psycopg.Cursor(raw).execute(sql, prepare=True).fetchall()
    except psycopg.errors.FeatureNotSupported:
        if raw.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            raise
        # psycopg clears its own record of prepared statements when it sees this command.
        raw.execute("DEALLOCATE ALL")
        return psycopg.Cursor(raw).execute(sql, prepare=True).fetchall()


def current(name: str) -> int:
    """The current schema's version `name` (as of the request's first read, in a request)."""
    schema = connection.schema_name
    request = _request_versions.get()
    if request is None:
        return _read(schema)[name]
    versions = request.by_schema.get(schema)
    if versions is None:
        latest = _shared.get(schema)
        if latest is not None and latest[0] >= request.arrived:
            versions = latest[1]
        else:
            versions = _read(schema)
        request.by_schema[schema] = versions
    return versions[name]


V = TypeVar("V")


class Memory(Generic[V]):
    """What a web process keeps in memory under a data version: at most `entries()` values,
    least recently used first out, each for at most `seconds()`. No entries turns it off.

    A value is found only under the version it was kept with, so a write to what the version
    watches hides everything kept before it. Values are shared between threads: keep immutable
    ones (bytes, tuples) or copies.
    """

    def __init__(self, version: str, entries: str, seconds: str) -> None:
        self.version = version
        self._entries_setting = entries
        self._seconds_setting = seconds
        self._values: LRU[Hashable, tuple[float, V]] = LRU()
        self._lock = threading.Lock()

    def _setting(self, name: str) -> int:
        from django.conf import settings

        return int(getattr(settings, name))

    def enabled(self) -> bool:
        return self._setting(self._entries_setting) > 0

    def key(self, *parts: Hashable) -> tuple[Hashable, ...]:
        """The full key for `parts` in the current schema at its current version; read it
        before reading what will be kept under it."""
        return (connection.schema_name, current(self.version), *parts)

    def get(self, key: tuple[Hashable, ...]) -> V | None:
        now = time.monotonic()
        with self._lock:
            found = self._values.use(key)
            if found is None:
                return None
            if found[0] <= now:
                del self._values[key]
                return None
            return found[1]

    def put(self, key: tuple[Hashable, ...], value: V, *, seconds: float | None = None) -> None:
        lifetime = self._setting(self._seconds_setting)
        if seconds is not None:
            lifetime = min(lifetime, seconds)
        if lifetime <= 0:
            return
        limit = self._setting(self._entries_setting)
        with self._lock:
            self._values.keep(key, (time.monotonic() + lifetime, value), limit)

    def clear(self) -> None:
        with self._lock:
            self._values.clear()

    def __len__(self) -> int:
        return len(self._values)
