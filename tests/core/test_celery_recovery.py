"""Background work recovers by itself: a task whose whole worker died (killed mid-task, so it
never acknowledged the task) is delivered again to another worker once the visibility timeout
has passed, with no beat and no one's help. Redis-backed: runs where REDIS_URL is set (CI's
production-like run)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid

import pytest
import redis
from django.conf import settings

from fitnesscrm.celery import app

pytestmark = [
    pytest.mark.skipif(not settings.REDIS_URL, reason="needs Redis (REDIS_URL)"),
    # The test settings run tasks eagerly; this one is sent to real workers on purpose.
    pytest.mark.filterwarnings("ignore::celery.exceptions.AlwaysEagerIgnored"),
]

QUEUE = f"tests-recovery-{uuid.uuid4().hex[:8]}"
VISIBILITY_SECONDS = 3


def start_worker(name: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "fitnesscrm.settings.test",
        "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_SECONDS),
    }
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "fitnesscrm",
            "worker",
            "--pool=solo",
            f"--queues={QUEUE}",
            f"--hostname={name}@%h",
            "--include=tests.core.recovery_tasks",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "--loglevel=WARNING",
        ],
        env=env,
        start_new_session=True,
    )


def wait_for(condition, seconds: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def test_a_task_whose_worker_died_runs_again_on_another_worker() -> None:
    store = redis.Redis.from_url(settings.REDIS_URL)
    key = f"tests:deliveries:{uuid.uuid4().hex}"
    first = start_worker("first")
    second = None
    try:
        app.send_task("tests.record_deliveries", args=[key], queue=QUEUE)
        assert wait_for(lambda: store.get(key) == b"1", 60), "the first worker never took it"
        os.killpg(first.pid, signal.SIGKILL)  # the machine is gone: no ack, no goodbye
        first.wait(10)
        second = start_worker("second")
        assert wait_for(lambda: store.get(key) == b"2", 60), "the task was never delivered again"
    finally:
        for worker in (first, second):
            if worker is not None and worker.poll() is None:
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait(10)
        store.delete(key)


def test_the_visibility_timeout_is_minutes_not_hours() -> None:
    timeout = app.conf.broker_transport_options["visibility_timeout"]
    assert 60 <= timeout <= 15 * 60
