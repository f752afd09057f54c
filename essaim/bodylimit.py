"""Refuse a request body over REQUEST_MAX_BYTES before reading it (SECURITY.md cases 30
and 38). Under ASGI, Django copies the whole body to a temporary file before any view or
upload handler runs, without a limit: this wrapper of the ASGI application answers 413
from the announced Content-Length without reading anything, and stops reading a body
that grows past the limit anyway (chunked, or longer than announced). Each file is then
held to FILE_MAX_BYTES by content.files."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from django.conf import settings

Scope = dict[str, Any]
Message = Mapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]


class _TooLarge(Exception):
    pass


async def _refuse(send: Send, limit: int) -> None:
    body = json.dumps(
        {
            "error": {
                "code": "too_large",
                "message": f"The request body is larger than {limit} bytes.",
                "fields": {},
            }
        }
    ).encode()
    headers = [(b"content-type", b"application/json"), (b"connection", b"close")]
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def limit_body(app: App) -> App:
    async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await app(scope, receive, send)
        limit = settings.REQUEST_MAX_BYTES
        announced = dict(scope.get("headers") or []).get(b"content-length", b"0")
        if not announced.isdigit() or int(announced) > limit:
            return await _refuse(send, limit)
        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _TooLarge
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await app(scope, counted, watched)
        except _TooLarge:
            if started:
                raise
            await _refuse(send, limit)

    return guarded
