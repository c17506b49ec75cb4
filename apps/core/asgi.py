"""ASGI pieces in front of Django's WSGI handler (fitnesscrm/asgi.py)."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from django.conf import settings
from django.utils.translation import gettext

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

CHUNK_BYTES = 64 * 1024


class BufferRequestBody:
    """Reads a request's whole body on the event loop before a thread takes the request, as
    Django's own ASGI handler does: a slow upload then holds no request thread, only a little
    memory (or a temporary file past FILE_UPLOAD_MAX_MEMORY_SIZE).

    A body over REQUEST_MAX_BYTES is refused with 413 before it is all read. A client that
    goes away mid-upload is dropped without reaching Django.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        with tempfile.SpooledTemporaryFile(max_size=settings.FILE_UPLOAD_MAX_MEMORY_SIZE) as body:
            size = 0
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > settings.REQUEST_MAX_BYTES:
                    await _too_large(send)
                    return
                body.write(chunk)
                if not message.get("more_body", False):
                    break
            body.seek(0)
            await self.app(scope, _replay(body, size, receive), send)


def _replay(body: Any, size: int, receive: Receive) -> Receive:
    finished = False

    async def replayed() -> Message:
        nonlocal finished
        if finished:
            # The whole body has been handed on: what is left is the client going away.
            return await receive()
        chunk = body.read(CHUNK_BYTES)
        finished = body.tell() >= size
        return {"type": "http.request", "body": chunk, "more_body": not finished}

    return replayed


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
