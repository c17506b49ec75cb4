"""The ASGI application's HTTP side: Django's WSGI handler on a pool of threads, with the
request body read on the event loop first (apps.core.asgi.WsgiBridge)."""

from __future__ import annotations

import asyncio
import contextvars
import json
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from channels.testing import HttpCommunicator

from apps.core import versions
from apps.core.asgi import WsgiBridge
from fitnesscrm.asgi import application

SCOPE = {"type": "http", "method": "POST", "path": "/", "headers": []}


def run_coroutine(coroutine: Any) -> Any:
    """On an event loop of its own, in another thread: the browser tests' Playwright keeps one
    running in this thread for the rest of the session."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def run(
    wsgi_app: Any, messages: list[dict[str, Any]], scope: dict[str, Any] | None = None
) -> list[dict]:
    """Feed `messages` to a WsgiBridge around `wsgi_app`: what it sent back."""
    sent: list[dict] = []
    queue = list(messages)

    async def receive() -> dict:
        return queue.pop(0) if queue else {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        sent.append(message)

    async def go() -> None:
        bridge = WsgiBridge(wsgi_app, threads=2)
        await bridge({**SCOPE, **(scope or {})}, receive, send)

    run_coroutine(go())
    return sent


class Recorder:
    """A WSGI app that keeps what it was called with and answers `body` (or `streamed`)."""

    def __init__(self, body: bytes = b"ok", headers: list | None = None, status: str = "200 OK"):
        self.calls: list[dict[str, Any]] = []
        self.closed = 0
        self.body = body
        self.headers = headers if headers is not None else [("Content-Type", "text/plain")]
        self.status = status
        self.streamed: list[bytes] | None = None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        self.calls.append({**environ, "body": environ["wsgi.input"].read()})
        start_response(self.status, self.headers)
        recorder = self

        class Response:
            streaming = recorder.streamed is not None

            def __iter__(self) -> Any:
                return iter(recorder.streamed if self.streaming else [recorder.body])

            def close(self) -> None:
                recorder.closed += 1

        return Response()


def one_message(body: bytes = b"") -> list[dict]:
    return [{"type": "http.request", "body": body, "more_body": False}]


def test_a_body_in_chunks_reaches_the_app_whole_after_it_has_all_arrived():
    chunks = [b"a" * 70_000, b"b" * 70_000, b"c"]
    messages = [
        {"type": "http.request", "body": chunk, "more_body": index < len(chunks) - 1}
        for index, chunk in enumerate(chunks)
    ]
    app = Recorder()
    sent = run(app, messages)
    assert app.calls[0]["body"] == b"".join(chunks)
    # Sent without Content-Length (chunked): Django reads wsgi.input only that far.
    assert app.calls[0]["CONTENT_LENGTH"] == str(140_001)
    assert sent[0]["status"] == 200


def test_an_empty_body_reaches_the_app_empty():
    app = Recorder()
    run(app, one_message())
    assert app.calls[0]["body"] == b""
    assert "CONTENT_LENGTH" not in app.calls[0]


@pytest.mark.parametrize(
    "messages",
    [
        [
            {"type": "http.request", "body": b"x" * 60, "more_body": True},
            {"type": "http.request", "body": b"x" * 60, "more_body": True},
            {"type": "http.request", "body": b"x" * 60, "more_body": False},
        ],
        one_message(b"x" * 101),
    ],
    ids=["in chunks", "in one message"],
)
def test_a_body_over_the_limit_is_refused_before_django(settings, messages):
    settings.REQUEST_MAX_BYTES = 100
    app = Recorder()
    sent = run(app, messages)
    assert app.calls == []
    assert sent[0]["status"] == 413
    assert json.loads(sent[1]["body"])["status"] == 413


def test_a_client_that_leaves_mid_upload_never_reaches_the_app():
    app = Recorder()
    sent = run(app, [{"type": "http.request", "body": b"x", "more_body": True}])
    assert app.calls == []
    assert sent == []


def test_the_environ_carries_the_request():
    app = Recorder()
    scope = {
        "method": "GET",
        "path": "/api/v1/clients/",
        "query_string": b"page=2&search=ann%C3%A9e",
        "scheme": "https",
        "server": ("127.0.0.1", 8000),
        "client": ("10.0.0.7", 51000),
        "headers": [
            (b"host", b"gym.example.com"),
            (b"content-type", b"application/json"),
            (b"x-forwarded-for", b"1.2.3.4"),
            (b"x-forwarded-for", b"5.6.7.8"),
            (b"accept-language", b"fr"),
        ],
    }
    run(app, one_message(), scope)
    environ = app.calls[0]
    assert environ["REQUEST_METHOD"] == "GET"
    assert environ["PATH_INFO"] == "/api/v1/clients/"
    assert environ["QUERY_STRING"] == "page=2&search=ann%C3%A9e"
    assert environ["wsgi.url_scheme"] == "https"
    assert (environ["SERVER_NAME"], environ["SERVER_PORT"]) == ("127.0.0.1", "8000")
    assert environ["REMOTE_ADDR"] == "10.0.0.7"
    assert environ["HTTP_HOST"] == "gym.example.com"
    assert environ["CONTENT_TYPE"] == "application/json"
    assert environ["HTTP_X_FORWARDED_FOR"] == "1.2.3.4,5.6.7.8"
    assert environ["HTTP_ACCEPT_LANGUAGE"] == "fr"


def test_the_environ_says_when_the_request_reached_the_process():
    seen: list[tuple[float, float]] = []

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen.append((environ[versions.ARRIVED], time.monotonic()))
        start_response("200 OK", [])
        return [b""]

    before = time.monotonic()
    run(app, one_message(b"x"))
    arrived, handled = seen[0]
    assert before <= arrived <= handled


def test_a_path_below_the_root_path_is_relative_to_it():
    app = Recorder()
    run(app, one_message(), {"root_path": "/crm", "path": "/crm/portal/"})
    assert (app.calls[0]["SCRIPT_NAME"], app.calls[0]["PATH_INFO"]) == ("/crm", "/portal/")


def test_a_whole_response_is_sent_at_once_with_its_length():
    app = Recorder(body=b'{"status": "ok"}', headers=[("Content-Type", "application/json")])
    sent = run(app, one_message())
    assert sent == [
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json"), (b"content-length", b"16")],
        },
        {"type": "http.response.body", "body": b'{"status": "ok"}'},
    ]
    # Closed (Django's request_finished) before the thread let go of the request.
    assert app.closed == 1


def test_a_length_the_app_gave_is_kept_and_a_bodiless_status_gets_none():
    app = Recorder(headers=[("Content-Length", "2")])
    assert run(app, one_message())[0]["headers"] == [(b"content-length", b"2")]
    app = Recorder(body=b"", headers=[], status="204 No Content")
    assert run(app, one_message())[0]["headers"] == []


def test_a_streamed_response_is_sent_a_chunk_at_a_time():
    app = Recorder(headers=[("Content-Type", "text/csv")])
    app.streamed = [b"a,b\n", b"", b"1,2\n"]
    sent = run(app, one_message())
    assert sent == [
        {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/csv")]},
        {"type": "http.response.body", "body": b"a,b\n", "more_body": True},
        {"type": "http.response.body", "body": b"1,2\n", "more_body": True},
        {"type": "http.response.body", "body": b""},
    ]
    assert app.closed == 1


def test_the_request_runs_in_a_copy_of_the_servers_context():
    seen: list[Any] = []
    marker: contextvars.ContextVar[str] = contextvars.ContextVar("marker")

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen.append(marker.get(None))
        marker.set("changed by the request")
        start_response("200 OK", [])
        return [b""]

    async def go() -> str:
        marker.set("server")
        queue = one_message()

        async def receive() -> dict:
            return queue.pop(0)

        async def send(message: dict) -> None:
            pass

        await WsgiBridge(app, threads=1)(dict(SCOPE), receive, send)
        return marker.get()

    assert run_coroutine(go()) == "server"
    assert seen == ["server"]


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
    # Sent with no Content-Length (as HttpCommunicator sends it, like a chunked upload): through
    # a2wsgi Django read no body at all and answered that every field was missing.
    status, body = post(
        "localhost",
        "/api/v1/gyms/",
        {
            "name": "Gym",
            "subdomain": "-bad-",
            "owner_email": "x@example.com",
            "owner_password": "a long pass phrase 2026",
        },
    )
    assert status == 400, body
    assert "subdomain" in json.dumps(body)


@pytest.mark.django_db
def test_a_get_goes_through_the_real_application_whole():
    async def go() -> dict:
        communicator = HttpCommunicator(
            application, "GET", "/health/live", headers=[(b"host", b"localhost")]
        )
        return await communicator.get_response(timeout=10)

    response = run_coroutine(go())
    assert response["status"] == 200
    assert json.loads(response["body"]) == {"status": "ok"}
    headers = dict(response["headers"])
    assert headers[b"content-length"] == str(len(response["body"])).encode()
