"""Tasks run in the gym they were sent from, on a real worker."""

from __future__ import annotations

import threading

import pytest
from celery.contrib.testing.worker import start_worker
from django.db import connection
from django_tenants.utils import tenant_context

from apps.core.fanout import fan_out
from apps.core.tasks import current_schema
from fitnesscrm.celery import app


@pytest.fixture
def worker(django_db_blocker, monkeypatch):  # type: ignore[no-untyped-def]
    """A worker thread consuming from the configured broker (Redis in CI, memory otherwise)."""
    # Celery's Django fixup closes the database connections of the thread that starts a worker
    # (meant for a fresh worker process); here that thread holds the test's transaction.
    from celery.fixups.django import DjangoWorkerFixup

    close = DjangoWorkerFixup._close_database

    def close_outside_the_test_thread(self):  # type: ignore[no-untyped-def]
        if threading.current_thread() is not threading.main_thread():
            close(self)

    monkeypatch.setattr(DjangoWorkerFixup, "_close_database", close_outside_the_test_thread)
    monkeypatch.setattr(DjangoWorkerFixup, "on_worker_process_init", lambda self, **kw: None)
    saved = {key: app.conf[key] for key in ("task_always_eager", "result_backend", "broker_url")}
    if app.conf.broker_url.startswith("memory"):
        app.conf.update(result_backend="cache+memory://")
    app.conf.update(task_always_eager=False)
    app._local.__dict__.pop("backend", None)
    with django_db_blocker.unblock(), start_worker(app, perform_ping_check=False, pool="solo"):
        yield app
    app.conf.update(**saved)
    app._local.__dict__.pop("backend", None)


@pytest.mark.django_db
def test_task_sent_from_gym_a_runs_in_gym_a(worker, gym_a, gym_b):
    with tenant_context(gym_a):
        from_a = current_schema.delay()
    with tenant_context(gym_b):
        from_b = current_schema.delay()
    from_public = current_schema.delay()
    assert from_a.get(timeout=20) == gym_a.schema_name
    assert from_b.get(timeout=20) == gym_b.schema_name
    assert from_public.get(timeout=20) == "public"
    assert connection.schema_name == "public"


@pytest.mark.django_db
def test_fan_out_sends_one_task_per_gym_in_its_own_schema(gym_a, gym_b, settings):
    # Eager here: fan_out's job is to send one task per gym, each stamped with its schema.
    from apps.tenants.selectors import gym_list

    results: list[str] = []

    @app.task(name="tests.record_schema")
    def record_schema() -> None:
        results.append(connection.schema_name)

    app.conf.task_always_eager = True
    try:
        sent = fan_out("tests.record_schema")
    finally:
        app.conf.task_always_eager = settings.CELERY_TASK_ALWAYS_EAGER
    expected = set(gym_list().values_list("schema_name", flat=True))
    assert sent == len(expected)
    assert set(results) == expected
    assert {gym_a.schema_name, gym_b.schema_name} <= set(results)
