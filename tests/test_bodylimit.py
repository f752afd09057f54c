"""Request bodies over REQUEST_MAX_BYTES are refused before they are read."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from pytest_django import Settings

from essaim.asgi import application

LIMIT = 64 * 1024


def call(headers: list[tuple[bytes, bytes]], chunks: list[bytes]) -> tuple[int, int]:
    """POSTs ``chunks`` to the ASGI application; returns the status and how many body
    chunks the application asked for."""
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": "/api/v1/files", "raw_path": b"/api/v1/files",
        "query_string": b"", "root_path": "", "headers": [(b"host", b"127.0.0.1"), *headers],
        "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 8000),
    }  # fmt: skip
    asked = 0
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal asked
        asked += 1
        if asked <= len(chunks):
            return {
                "type": "http.request",
                "body": chunks[asked - 1],
                "more_body": asked < len(chunks),
            }
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(application(scope, receive, send))
    return sent[0]["status"], asked


@pytest.fixture(autouse=True)
def _limit(settings: Settings) -> None:
    settings.REQUEST_MAX_BYTES = LIMIT


@pytest.mark.django_db
def test_an_announced_oversized_body_is_refused_unread() -> None:
    status, asked = call([(b"content-length", str(LIMIT + 1).encode())], [b"x" * (LIMIT + 1)])
    assert (status, asked) == (413, 0)
    status, asked = call([(b"content-length", b"12abc")], [b"x"])
    assert (status, asked) == (413, 0)


@pytest.mark.django_db
def test_a_body_growing_past_the_limit_is_cut() -> None:
    chunk = b"x" * (16 * 1024)
    status, asked = call([], [chunk] * 100)  # no Content-Length: counted as it comes
    assert status == 413 and asked == LIMIT // len(chunk) + 1


@pytest.mark.django_db
def test_a_body_within_the_limit_reaches_the_application() -> None:
    status, _asked = call([(b"content-length", b"2")], [b"{}"])
    assert status == 401  # the API answered: not signed in
