"""Liveness and readiness. Ready checks every dependency a request or a task needs and names the
one that fails, so an operator reading a 503 knows where to look."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def check_cache() -> None:
    key = f"health:{uuid.uuid4().hex}"
    cache.set(key, "ok", timeout=5)
    if cache.get(key) != "ok":
        raise RuntimeError("cache did not return the value just written")
    cache.delete(key)


def check_broker() -> None:
    from fitnesscrm.celery import app

    if app.conf.broker_url.startswith("memory"):
        return  # Development without Redis: tasks run in-process.
    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)


CHECKS: dict[str, Callable[[], None]] = {
    "database": check_database,
    "cache": check_cache,
    "broker": check_broker,
}


@never_cache
@require_GET
def live(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def ready(request: HttpRequest) -> JsonResponse:
    results: dict[str, str] = {}
    failing: list[str] = []
    for name, check in CHECKS.items():
        try:
            check()
        except Exception as exc:
            failing.append(name)
            results[name] = f"error: {exc.__class__.__name__}"
            if settings.DEBUG:
                results[name] += f": {exc}"
        else:
            results[name] = "ok"
    status_code = 503 if failing else 200
    body = {"status": "unavailable" if failing else "ok", "checks": results, "failing": failing}
    return JsonResponse(body, status=status_code)
