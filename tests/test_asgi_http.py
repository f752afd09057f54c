"""essaim.asgi_http: Django's HTTP requests, each run whole in one thread of a pool."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from django.db import connection

from essaim.accounts import services
from essaim.asgi_http import ThreadedHTTP
from tests.conftest import PASSWORD, make_user


async def get(app: ThreadedHTTP, path: str, token: str) -> tuple[int, bytes]:
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
        "root_path": "", "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 8000),
        "headers": [(b"host", b"127.0.0.1"), (b"authorization", f"Bearer {token}".encode())],
    }  # fmt: skip
    sent: list[dict[str, Any]] = []
    asked = False

    async def receive() -> dict[str, Any]:
        nonlocal asked
        if asked:
            await asyncio.sleep(3600)
        asked = True
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


@pytest.fixture
def token(transactional_db: None) -> str:
    _made, secret = services.token_create(
        user=make_user("ada"), name="test", scope="read", password=PASSWORD
    )
    return secret


def test_a_request_gives_its_database_connection_back(token: str) -> None:
    """The response is closed in the thread that ran the view: its connection is closed
    (returned to the pool on PostgreSQL), not left open in an idle thread."""
    app = ThreadedHTTP(threads=1)
    status, body = asyncio.run(get(app, "/api/v1/me", token))
    assert (status, json.loads(body)["display_name"]) == (200, "Ada")
    assert app.pool.submit(lambda: connection.connection is None).result()


def test_concurrent_requests_share_the_threads(token: str) -> None:
    app = ThreadedHTTP(threads=2)

    async def many() -> list[tuple[int, bytes]]:
        return await asyncio.gather(*[get(app, "/api/v1/me", token) for _ in range(12)])

    assert {status for status, _ in asyncio.run(many())} == {200}
    assert len(app.pool._threads) == 2
