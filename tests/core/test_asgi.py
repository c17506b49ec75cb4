"""The ASGI application's HTTP side: Django's WSGI handler behind a2wsgi, with the request
body read on the event loop first (apps.core.asgi.BufferRequestBody)."""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from channels.testing import HttpCommunicator

from apps.core.asgi import BufferRequestBody
from fitnesscrm.asgi import application

SCOPE = {"type": "http", "method": "POST", "path": "/", "headers": []}


def run_coroutine(coroutine: Any) -> Any:
    """On an event loop of its own, in another thread: the browser tests' Playwright keeps one
    running in this thread for the rest of the session."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def run(app: Any, messages: list[dict[str, Any]]) -> tuple[list[dict], list[dict]]:
    """Feed `messages` to `app` wrapped in BufferRequestBody: what the inner app received
    and what was sent back."""
    received: list[dict] = []
    sent: list[dict] = []

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            received.append(message)
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    queue = list(messages)

    async def receive() -> dict:
        return queue.pop(0) if queue else {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        sent.append(message)

    async def go() -> None:
        await BufferRequestBody(inner if app is None else app)(dict(SCOPE), receive, send)

    run_coroutine(go())
    return received, sent


def test_a_body_in_chunks_reaches_the_app_whole_after_it_has_all_arrived():
    chunks = [b"a" * 70_000, b"b" * 70_000, b"c"]
    messages = [
        {"type": "http.request", "body": chunk, "more_body": index < len(chunks) - 1}
        for index, chunk in enumerate(chunks)
    ]
    received, sent = run(None, messages)
    assert b"".join(m["body"] for m in received) == b"".join(chunks)
    assert received[-1]["more_body"] is False
    assert sent[0]["status"] == 200


def test_an_empty_body_is_one_message():
    received, _ = run(None, [{"type": "http.request", "body": b"", "more_body": False}])
    assert received == [{"type": "http.request", "body": b"", "more_body": False}]


def test_a_body_over_the_limit_is_refused_before_django(settings):
    settings.REQUEST_MAX_BYTES = 100
    messages = [
        {"type": "http.request", "body": b"x" * 60, "more_body": True},
        {"type": "http.request", "body": b"x" * 60, "more_body": True},
        {"type": "http.request", "body": b"x" * 60, "more_body": False},
    ]
    received, sent = run(None, messages)
    assert received == []
    assert sent[0]["status"] == 413
    assert json.loads(sent[1]["body"])["status"] == 413


def test_a_client_that_leaves_mid_upload_never_reaches_the_app():
    received, sent = run(None, [{"type": "http.request", "body": b"x", "more_body": True}])
    assert received == []
    assert sent == []


def post(host: str, path: str, payload: dict) -> tuple[int, dict]:
    body = json.dumps(payload).encode()

    async def go() -> dict:
        communicator = HttpCommunicator(
            application,
            "POST",
            path,
            body=body,
            headers=[(b"host", host.encode()), (b"content-type", b"application/json")],
        )
        return await communicator.get_response(timeout=10)

    response = run_coroutine(go())
    return response["status"], json.loads(response["body"])


@pytest.mark.django_db
def test_a_json_post_goes_through_the_real_application():
    # A sign-up with a bad subdomain: the body reached DRF, which read it and named the field.
    status, body = post(
        "localhost",
        "/api/v1/gyms/",
        {"name": "Gym", "subdomain": "-bad-", "owner_email": "x@example.com", "password": "p"},
    )
    assert status == 400, body
    assert "subdomain" in json.dumps(body)
