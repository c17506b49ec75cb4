from __future__ import annotations

import pytest
from django.core.cache import caches

from tests.conftest import ALPHA


@pytest.mark.parametrize("host", ["localhost", ALPHA.host])
def test_live_and_ready_on_every_host(db, client, host):
    assert client.get("/health/live", HTTP_HOST=host).json() == {"status": "ok"}
    response = client.get("/health/ready", HTTP_HOST=host)
    assert response.status_code == 200, response.content
    assert response.json()["checks"] == {"database": "ok", "cache": "ok", "broker": "ok"}


def test_ready_names_an_unreachable_cache(db, client, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "KEY_FUNCTION": "django_tenants.cache.make_key",
        }
    }
    caches._settings = None  # pick up the overridden CACHES
    try:
        response = client.get("/health/ready", HTTP_HOST=ALPHA.host)
    finally:
        caches._settings = None
    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["cache"]
    assert body["checks"]["database"] == "ok"


def test_ready_names_an_unreachable_broker(db, client):
    from fitnesscrm.celery import app

    original = dict(app.conf)
    app.conf.update(broker_url="redis://127.0.0.1:1/0", task_always_eager=False)
    try:
        response = client.get("/health/ready", HTTP_HOST="localhost")
    finally:
        app.conf.update(
            broker_url=original["broker_url"], task_always_eager=original["task_always_eager"]
        )
    assert response.status_code == 503
    assert response.json()["failing"] == ["broker"]


def test_responses_carry_a_request_id(db, client):
    response = client.get("/health/live", HTTP_HOST="localhost", HTTP_X_REQUEST_ID="abc12345")
    assert response["X-Request-ID"] == "abc12345"
    generated = client.get("/health/live", HTTP_HOST="localhost")["X-Request-ID"]
    assert len(generated) == 32
