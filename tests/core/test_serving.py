"""The applications the servers load: Django's WSGI handler for HTTP (gunicorn, the web process)
and Channels' ASGI application (uvicorn: WebSockets in production, both in `make run`)."""

from __future__ import annotations

import asyncio
import json
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from channels.testing import HttpCommunicator
from django.core.handlers.wsgi import WSGIHandler

from fitnesscrm.asgi import application as asgi_application
from fitnesscrm.wsgi import application as wsgi_application

ROOT = Path(__file__).resolve().parents[2]


def run(coroutine: Any) -> Any:
    # A loop of its own: Playwright may keep one running in the test thread.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def test_the_web_process_serves_the_stock_wsgi_handler() -> None:
    assert isinstance(wsgi_application, WSGIHandler)
    procfile = (ROOT / "Procfile").read_text()
    assert re.search(r"^web: gunicorn fitnesscrm\.wsgi:application$", procfile, re.MULTILINE)
    assert re.search(r"^realtime: uvicorn fitnesscrm\.asgi:application ", procfile, re.MULTILINE)


@pytest.mark.django_db
def test_the_asgi_application_serves_http_in_development() -> None:
    async def get() -> dict:
        communicator = HttpCommunicator(
            asgi_application, "GET", "/health/live", headers=[(b"host", b"localhost")]
        )
        return await communicator.get_response(timeout=10)

    response = run(get())
    assert response["status"] == 200
    assert json.loads(response["body"]) == {"status": "ok"}


@pytest.mark.django_db
def test_a_json_body_reaches_the_api_through_the_asgi_application() -> None:
    body = json.dumps({"name": "Gym", "subdomain": "-bad-", "owner_email": "x@example.com"})

    async def post() -> dict:
        communicator = HttpCommunicator(
            asgi_application,
            "POST",
            "/api/v1/gyms/",
            body=body.encode(),
            headers=[(b"host", b"localhost"), (b"content-type", b"application/json")],
        )
        return await communicator.get_response(timeout=10)

    response = run(post())
    assert response["status"] == 400
    assert "subdomain" in json.loads(response["body"])["errors"]
