"""The WebSocket at /ws/, driven through the real ASGI application (essaim.asgi) as
uvicorn drives it: resume with the missed events, an outsider never gets a secret
community's event, a removed member stops at once, a deactivation closes the socket, bad
frames get an error frame, and a foreign Origin is refused."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from asgiref.testing import ApplicationCommunicator
from django.test import Client

from essaim.accounts.models import User
from essaim.accounts.services import user_deactivate
from essaim.asgi import application
from essaim.communities import services as community_services
from essaim.communities.models import Visibility
from essaim.http import CLI
from essaim.realtime import events
from tests.conftest import PASSWORD, Personas
from tests.test_communities import build

pytestmark = pytest.mark.django_db(transaction=True)


def session_of(user: User) -> str:
    client = Client()
    assert client.login(username=user.email, password=PASSWORD)
    return client.cookies["sessionid"].value


class Socket(ApplicationCommunicator):  # type: ignore[misc]
    """A WebSocket client speaking ASGI to the application, as uvicorn does."""

    def __init__(self, session: str, origin: str = "http://127.0.0.1") -> None:
        headers = [
            (b"origin", origin.encode()),
            (b"cookie", f"sessionid={session}".encode()),
            (b"host", b"127.0.0.1"),
        ]
        scope = {"type": "websocket", "path": "/ws/", "headers": headers, "subprotocols": []}
        scope |= {"query_string": b"", "client": ("127.0.0.1", 50000), "server": None}
        super().__init__(application, scope)

    async def connect(self) -> tuple[bool, int | None]:
        await self.send_input({"type": "websocket.connect"})
        answer = await self.receive_output(3)
        return answer["type"] == "websocket.accept", answer.get("code")

    async def send_json_to(self, data: Any) -> None:
        await self.send_input({"type": "websocket.receive", "text": json.dumps(data)})

    async def send_to(self, text_data: str) -> None:
        await self.send_input({"type": "websocket.receive", "text": text_data})

    async def receive_json_from(self, timeout: float = 3) -> Any:
        answer = await self.receive_output(timeout)
        assert answer["type"] == "websocket.send", answer
        return json.loads(answer["text"])

    async def disconnect(self) -> None:
        await self.send_input({"type": "websocket.disconnect", "code": 1000})
        await self.wait(1)


async def connect(session: str) -> Socket:
    socket = Socket(session)
    connected, _code = await socket.connect()
    assert connected
    return socket


def run(test: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(test())  # type: ignore[arg-type]


async def frames(socket: Socket, count: int) -> list[dict[str, Any]]:
    return [await socket.receive_json_from(timeout=3) for _ in range(count)]


def test_resume_then_live_events_and_nothing_of_a_secret_community(personas: Personas) -> None:
    public = build(personas, Visibility.PUBLIC)
    secret = build(personas, Visibility.SECRET)
    events.emit("test.before", {"n": 0}, community=public)
    member, outsider = session_of(personas.member), session_of(personas.outsider)

    async def scenario() -> None:
        mine, theirs = await connect(member), await connect(outsider)
        for socket in (mine, theirs):
            await socket.send_json_to({"type": "resume", "last_event_id": 0})
        assert [f["type"] for f in await frames(mine, 1)] == ["test.before"]
        await sync_to_async(events.emit)("test.secret", {}, community=secret)
        await sync_to_async(events.emit)("test.after", {"n": 1}, community=public)
        assert [f["type"] for f in await frames(mine, 2)] == ["test.secret", "test.after"]
        got = await frames(theirs, 2)
        assert [f["type"] for f in got] == ["test.before", "test.after"]  # no secret one
        # Removed from the secret community: its events stop at once.
        await sync_to_async(community_services.member_remove)(
            actor=personas.owner, origin=CLI, community=secret, person=personas.member
        )
        await sync_to_async(events.emit)("test.secret", {}, community=secret)
        await sync_to_async(events.emit)("test.last", {}, community=public)
        assert [f["type"] for f in await frames(mine, 1)] == ["test.last"]
        for socket in (mine, theirs):
            await socket.disconnect()

    run(scenario)


def test_a_dead_session_closes_the_socket_within_seconds(personas: Personas) -> None:
    member = session_of(personas.member)

    async def scenario() -> None:
        socket = await connect(member)
        await socket.send_json_to({"type": "resume", "last_event_id": 0})
        await sync_to_async(user_deactivate)(actor=personas.admin, origin=CLI, user=personas.member)
        closed = await socket.receive_output(timeout=2)
        assert closed == {"type": "websocket.close", "code": 4401}

    run(scenario)
    # The old cookie cannot open a socket again.

    async def again() -> None:
        socket = Socket(member)
        connected, code = await socket.connect()
        assert not connected and code == 4401

    run(again)


def test_bad_frames_get_an_error_frame_and_a_foreign_origin_is_refused(
    personas: Personas,
) -> None:
    member = session_of(personas.member)

    async def scenario() -> None:
        socket = await connect(member)
        for bad in (
            "not json",
            '{"type": "subscribe"}',
            '{"type": "resume", "last_event_id": -1}',
            '{"type": "resume", "last_event_id": true}',
            "x" * 5000,
        ):
            await socket.send_to(text_data=bad)
            reply = await socket.receive_json_from(timeout=3)
            assert reply["type"] == "error" and reply["data"]["message"], bad
        await socket.disconnect()
        foreign = Socket(member, origin="https://evil.example")
        connected, _code = await foreign.connect()
        assert not connected

    run(scenario)
