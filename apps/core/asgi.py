"""The ASGI application's HTTP side: Django's WSGI handler on a pool of threads
(fitnesscrm/asgi.py)."""

from __future__ import annotations

import asyncio
import contextvars
import io
import json
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.conf import settings
from django.utils.translation import gettext

from apps.core import versions

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class WsgiBridge:
    """Django's WSGI handler as the ASGI application's HTTP side, on a pool of threads.

    The request's whole body is read on the event loop first, as Django's own ASGI handler
    does: a slow upload then holds no request thread, only a little memory (or a temporary
    file past FILE_UPLOAD_MAX_MEMORY_SIZE). A body over REQUEST_MAX_BYTES is refused with 413
    before it is all read; a client that goes away mid-upload is dropped without reaching
    Django.

    A thread then runs the request. A response that is not streamed (Django's HttpResponse:
    the API, pages, errors) comes back to the event loop whole, in one crossing, and is sent
    from there with its Content-Length. A streamed one (StreamingHttpResponse, FileResponse,
    whitenoise's files) is sent from the thread a chunk at a time, each send waiting for the
    event loop, so a slow reader holds that thread rather than the whole file in memory.

    The environ says when the request reached the process (versions.ARRIVED), before its
    body was read: a request may take the data versions another thread read after that.

    a2wsgi, which this replaces, crossed between the thread and the event loop for the status
    line and for every chunk, the empty last one included, each time blocking the thread:
    bench/api_latency.py measured the bare view going from about 2,200 to about 3,000
    requests a second on 2 cores, and the client list API from about 1,150 to about 1,350.
    """

    def __init__(self, app: WSGIApp, threads: int) -> None:
        self.app = app
        self.executor = ThreadPoolExecutor(threads, thread_name_prefix="wsgi")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        arrived = time.monotonic()
        read = await _read_body(receive, send)
        if read is None:
            return
        body, size = read
        try:
            loop = asyncio.get_running_loop()
            environ = wsgi_environ(scope, body, size)
            environ[versions.ARRIVED] = arrived
            # The request runs in a copy of this context, as Django's ASGI handler runs it.
            context = contextvars.copy_context()
            whole = await loop.run_in_executor(
                self.executor, context.run, self._run, environ, send, loop
            )
        finally:
            body.close()
        if whole is not None:
            start, content = whole
            await send(start)
            await send({"type": "http.response.body", "body": content})

    def _run(
        self, environ: dict[str, Any], send: Send, loop: asyncio.AbstractEventLoop
    ) -> tuple[Message, bytes] | None:
        """In a thread: the response start and body of a whole response, or None once a
        streamed one has been sent."""
        started: list[Any] = []
        written: list[bytes] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None):
            started[:] = [status, headers]
            return written.append

        iterable = self.app(environ, start_response)
        try:
            if not getattr(iterable, "streaming", False):
                content = b"".join([*written, *iterable])
                return _start_message(*started, length=len(content)), content

            def send_now(message: Message) -> None:
                asyncio.run_coroutine_threadsafe(send(message), loop).result()

            send_now(_start_message(*started, length=None))
            for chunk in [*written, *iterable]:
                if chunk:
                    send_now({"type": "http.response.body", "body": chunk, "more_body": True})
            send_now({"type": "http.response.body", "body": b""})
            return None
        finally:
            close = getattr(iterable, "close", None)
            if close is not None:
                close()


def _start_message(status: str, headers: list[tuple[str, str]], *, length: int | None) -> Message:
    code = int(status[:3])
    encoded = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers]
    # A whole body's length, unless the status has no body or the app gave one already.
    if (
        length is not None
        and code >= 200
        and code not in (204, 304)
        and not any(name == b"content-length" for name, _ in encoded)
    ):
        encoded.append((b"content-length", str(length).encode()))
    return {"type": "http.response.start", "status": code, "headers": encoded}


async def _read_body(receive: Receive, send: Send) -> tuple[Any, int] | None:
    """The request's whole body as a file at its start, and its size; None when the client
    left or the body was too large (answered here with 413)."""
    body: Any = None
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            if body is not None:
                body.close()
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > settings.REQUEST_MAX_BYTES:
            if body is not None:
                body.close()
            await _too_large(send)
            return None
        more = message.get("more_body", False)
        if body is None:
            if not more:
                # One message, as every request without a large body: no spooling.
                return io.BytesIO(chunk), size
            # Closed by the caller once the request is done, or above when it is not.
            body = tempfile.SpooledTemporaryFile(max_size=settings.FILE_UPLOAD_MAX_MEMORY_SIZE)  # noqa: SIM115
        body.write(chunk)
        if not more:
            body.seek(0)
            return body, size


# Header names as WSGI spells them (HTTP_X_FORWARDED_FOR), worked out once per name.
_ENVIRON_NAMES: dict[bytes, str] = {
    b"content-type": "CONTENT_TYPE",
    b"content-length": "CONTENT_LENGTH",
}


def wsgi_environ(scope: Scope, body: Any, size: int) -> dict[str, Any]:
    """PEP 3333's environ for an ASGI HTTP scope, with `body` (`size` bytes) as wsgi.input.
    Repeated headers are joined with commas; a header whose name has an underscore is left
    out; a body that came without Content-Length (chunked) gets one."""
    root_path = scope.get("root_path", "")
    path = scope["path"]
    if root_path and path.startswith(root_path):
        path = path[len(root_path) :]
    server = scope.get("server") or ("localhost", 80)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": root_path.encode().decode("latin-1"),
        "PATH_INFO": path.encode().decode("latin-1"),
        "QUERY_STRING": scope.get("query_string", b"").decode("latin-1"),
        "SERVER_NAME": server[0],
        "SERVER_PORT": str(server[1] or 0),
        "SERVER_PROTOCOL": f"HTTP/{scope.get('http_version', '1.1')}",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.input": body,
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    client = scope.get("client")
    if client:
        environ["REMOTE_ADDR"] = client[0]
        environ["REMOTE_PORT"] = str(client[1])
    for raw_name, raw_value in scope.get("headers", ()):
        if b"_" in raw_name:
            # `X_Forwarded_For` would become HTTP_X_FORWARDED_FOR like `X-Forwarded-For` and
            # pass for the header our proxy wrote; dropped, as Django's runserver and nginx do.
            continue
        name = _ENVIRON_NAMES.get(raw_name)
        if name is None:
            name = "HTTP_" + raw_name.decode("latin-1").upper().replace("-", "_")
            if len(_ENVIRON_NAMES) < 1024:
                _ENVIRON_NAMES[raw_name] = name
        value = raw_value.decode("latin-1")
        if name in environ:
            value = f"{environ[name]},{value}"
        environ[name] = value
    if size and "CONTENT_LENGTH" not in environ:
        environ["CONTENT_LENGTH"] = str(size)
    return environ


async def _too_large(send: Send) -> None:
    content = json.dumps({"status": 413, "detail": gettext("The request is too large.")}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(content)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": content})
