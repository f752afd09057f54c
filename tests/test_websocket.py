"""The WebSocket at /ws/, driven through the real ASGI application (essaim.asgi) as
uvicorn drives it: resume with the missed events, an outsider never gets a secret
community's event, a removed member stops at once, a deactivation closes the socket, bad
frames get an error frame, and a foreign Origin is refused."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from asgiref.testing import ApplicationCommunicator
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client

from essaim.accounts.models import TokenScope, User
from essaim.accounts.services import token_create, token_revoke, user_deactivate
from essaim.asgi import application
from essaim.chat import services as chat_services
from essaim.communities import services as community_services
from essaim.communities.models import Visibility
from essaim.http import CLI
from essaim.realtime import consumers, events, presence
from essaim.realtime.hub import hub
from tests.conftest import PASSWORD, Personas
from tests.test_communities import build

pytestmark = pytest.mark.django_db(transaction=True)


def session_of(user: User) -> str:
    client = Client()
    assert client.login(username=user.email, password=PASSWORD)
    return client.cookies["sessionid"].value


class Socket(ApplicationCommunicator):  # type: ignore[misc]
    """A WebSocket client speaking ASGI to the application, as uvicorn does."""

    def __init__(
        self, session: str | None, origin: str | None = "http://127.0.0.1", token: str = ""
    ) -> None:
        headers = [(b"host", b"127.0.0.1")]
        if origin is not None:
            headers.append((b"origin", origin.encode()))
        if session is not None:
            headers.append((b"cookie", f"sessionid={session}".encode()))
        if token:
            headers.append((b"authorization", f"Bearer {token}".encode()))
        scope = {"type": "websocket", "path": "/ws/", "headers": headers, "subprotocols": []}
        scope |= {"query_string": b"", "client": ("127.0.0.1", 50000), "server": None}
        super().__init__(application, scope)

    async def connect(self) -> tuple[bool, int | None]:
        await self.send_input({"type": "websocket.connect"})
        answer = await self.receive_output(3)
        return answer["type"] == "websocket.accept", answer.get("code")

    async def closed_for_credentials(self) -> bool:
        """Accepted, then closed at once with 4401, so that a browser learns why."""
        accepted, _code = await self.connect()
        return accepted and await self.receive_output(1) == {
            "type": "websocket.close",
            "code": 4401,
        }

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
    """The next ``count`` frames, leaving out the communities' own events (their tests
    are in test_community_events.py)."""
    found: list[dict[str, Any]] = []
    while len(found) < count:
        frame = await socket.receive_json_from(timeout=3)
        if not frame["type"].startswith("community."):
            found.append(frame)
    return found


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
        last = await frames(mine, 1)
        assert [f["type"] for f in last] == ["test.last"], last
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
        assert await Socket(member).closed_for_credentials()

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


async def until_closed(socket: Socket) -> tuple[int, list[dict[str, Any]]]:
    """The frames a socket gets until it is closed, and the close code."""
    got = []
    while True:
        out = await socket.receive_output(timeout=3)
        if out["type"] == "websocket.close":
            return out.get("code", 1000), got
        got.append(json.loads(out["text"]))


def test_a_token_opens_a_socket_and_dead_credentials_close_theirs(personas: Personas) -> None:
    token, raw = token_create(
        user=personas.member, name="bot", scope=TokenScope.READ, password=PASSWORD
    )
    cookie, other_cookie = session_of(personas.member), session_of(personas.member)
    signed_out = session_of(personas.owner)

    async def scenario() -> None:
        program = Socket(None, origin=None, token=raw)  # a program: no Origin, no cookie
        assert (await program.connect())[0]
        page, other_page = await connect(cookie), await connect(other_cookie)
        owner_page = await connect(signed_out)
        await sync_to_async(token_revoke)(user=personas.member, token=token)
        assert (await until_closed(program))[0] == 4401
        await sync_to_async(sign_out)(signed_out)  # the sign-out button, in another tab
        assert (await until_closed(owner_page))[0] == 4401
        # A password changed elsewhere ends every session of the person.
        await sync_to_async(change_password)(personas.member)
        assert (await until_closed(page))[0] == 4401
        assert (await until_closed(other_page))[0] == 4401
        for refused in (
            Socket(None, origin=None, token="essaim_not-a-token"),
            Socket(None, origin=None, token=raw),  # revoked
            Socket(cookie, origin=None),  # a cookie needs an Origin
        ):
            assert await refused.closed_for_credentials()

    run(scenario)


def sign_out(session: str) -> None:
    browser = Client()
    browser.cookies["sessionid"] = session
    assert browser.post("/accounts/logout/").status_code == 302
    assert not Session.objects.filter(session_key=session).exists()


def change_password(user: User) -> None:
    user.set_password("another long passphrase")
    user.save(update_fields=["password"])


def test_a_client_that_cannot_keep_up_is_told_to_resync_and_slows_nobody(
    personas: Personas, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(consumers, "QUEUE_LIMIT", 5)
    community = build(personas, Visibility.PUBLIC)
    slow_id = personas.owner.pk
    gate: list[asyncio.Event] = []
    send = consumers.EventStream.send

    async def stuck_send(self: consumers.EventStream, text_data: str | None = None) -> None:
        if self.user_id == slow_id:
            await gate[0].wait()  # this client reads nothing until the gate opens
        await send(self, text_data=text_data)

    monkeypatch.setattr(consumers.EventStream, "send", stuck_send)
    slow_cookie, fast_cookie = session_of(personas.owner), session_of(personas.member)

    async def scenario() -> None:
        gate.append(asyncio.Event())
        slow, fast = await connect(slow_cookie), await connect(fast_cookie)
        start = await sync_to_async(events.head_now)()
        for socket in (slow, fast):
            await socket.send_json_to({"type": "resume", "last_event_id": start})
        await asyncio.sleep(0.3)
        for n in range(20):
            await sync_to_async(events.emit)("test.tick", {"n": n}, community=community)
        got = await frames(fast, 20)  # the slow one slows nobody down
        assert [f["data"]["n"] for f in got] == list(range(20))
        gate[0].set()
        seen = []
        while not await slow.receive_nothing(0.5):
            seen.append(await slow.receive_json_from())
        assert any(f["type"] == "resync" for f in seen)
        # Never a silent gap: between two events either the next id or a resync.
        position = start
        for frame in seen:
            if frame["type"] == "resync":
                position = frame["data"]["last_event_id"]
            elif frame["type"] == "test.tick":
                assert frame["id"] == position + 1, seen
                position = frame["id"]
        assert position == start + 20
        for socket in (slow, fast):
            await socket.disconnect()

    run(scenario)


def test_a_flood_gets_error_frames_then_a_close_with_a_reason(personas: Personas) -> None:
    cookie = session_of(personas.member)

    async def scenario() -> None:
        socket = await connect(cookie)
        for _ in range(80):
            await socket.send_to("not json")
        code, got = await until_closed(socket)
        assert code == 1008
        assert {f["data"]["message"] for f in got} == {
            "This frame is not JSON.",
            "Too many frames: slow down.",
        }

    run(scenario)


def test_presence_and_typing_reach_only_those_who_may_see_them(
    personas: Personas, api_session: Callable[[User], Client]
) -> None:
    secret = build(personas, Visibility.SECRET)
    owner, member = personas.owner, personas.member
    direct, _new = chat_services.direct_open(actor=owner, person=member)
    cookies = {p.pk: session_of(p) for p in (owner, member, personas.external, personas.outsider)}
    set_status = api_session(owner)

    async def scenario() -> None:
        watcher = await connect(cookies[member.pk])
        customer = await connect(cookies[personas.external.pk])
        outsider = await connect(cookies[personas.outsider.pk])
        await watcher.send_json_to({"type": "watch", "users": [owner.pk, 99999]})
        (snapshot,) = await frames(watcher, 1)
        assert snapshot == {
            "type": "presence.snapshot",
            "data": {"users": [{"user": owner.pk, "status": "offline", "message": ""}]},
        }
        await customer.send_json_to({"type": "watch", "users": [owner.pk]})
        (hidden,) = await frames(customer, 1)
        assert hidden["data"]["users"] == []  # a customer does not see this employee
        typist = await connect(cookies[owner.pk])
        (online,) = await frames(watcher, 1)
        assert online["data"] == {"user": owner.pk, "status": "online", "message": ""}
        answer = await sync_to_async(set_status.put)(
            "/api/v1/me/status",  # the profile's status (directory)
            {"availability": "dnd", "text": "In a workshop"},
            content_type="application/json",
        )
        assert answer.status_code == 200, answer.content
        (dnd,) = await frames(watcher, 1)
        assert dnd["data"] == {"user": owner.pk, "status": "dnd", "message": "In a workshop"}
        await typist.send_json_to({"type": "typing", "community": secret.pk})
        (typing,) = await frames(watcher, 1)
        assert typing == {"type": "typing", "data": {"user": owner.pk, "community": secret.pk}}
        await outsider.send_json_to({"type": "typing", "community": secret.pk})
        (refused,) = await frames(outsider, 1)
        assert refused["type"] == "error"
        # In a conversation: its other participants alone hear it.
        await typist.send_json_to({"type": "typing", "conversation": direct.pk})
        (typing,) = await frames(watcher, 1)
        assert typing["data"] == {"user": owner.pk, "name": "Owner", "conversation": direct.pk}
        await outsider.send_json_to({"type": "typing", "conversation": direct.pk})
        (refused,) = await frames(outsider, 1)
        assert refused["type"] == "error"
        await typist.disconnect()
        (offline,) = await frames(watcher, 1)
        assert offline["data"]["status"] == "offline"
        for socket in (customer, outsider):
            assert await socket.receive_nothing(0.3)  # no presence, no typing
            await socket.disconnect()
        await watcher.disconnect()

    run(scenario)


def test_a_socket_resuming_before_the_kept_window_gets_resync(
    personas: Personas, settings: Any
) -> None:
    settings.EVENTS_KEEP = 2
    community = build(personas, Visibility.PUBLIC)
    start = events.head_now()
    for n in range(4):
        events.emit("test.tick", {"n": n}, community=community)
    events.prune()
    member = session_of(personas.member)

    async def scenario() -> None:
        socket = await connect(member)
        await socket.send_json_to({"type": "resume", "last_event_id": start})
        resync = await socket.receive_json_from()
        assert resync == {"type": "resync", "data": {"last_event_id": start + 4}}
        assert await socket.receive_nothing(0.3)  # then nothing old: it fetches afresh
        await sync_to_async(events.emit)("test.tick", {"n": 4}, community=community)
        (new,) = await frames(socket, 1)
        assert new["id"] == start + 5
        await socket.disconnect()

    run(scenario)


def test_presence_over_http_shows_only_people_one_may_see(
    personas: Personas, api_session: Callable[[User], Client]
) -> None:
    presence.seen([personas.owner.pk])
    ids = f"{personas.owner.pk},{personas.member.pk}"
    colleague = api_session(personas.member).get("/api/v1/presence", {"users": ids})
    assert colleague.json() == [
        {"user": personas.owner.pk, "status": "online", "message": ""},
        {"user": personas.member.pk, "status": "offline", "message": ""},
    ]
    customer = api_session(personas.external).get("/api/v1/presence", {"users": ids})
    assert customer.json() == []  # a customer sees no employee outside their communities
    bad = api_session(personas.member).get("/api/v1/presence", {"users": "1;drop"})
    assert bad.status_code == 422


def test_a_reloaded_page_stays_online(personas: Personas, monkeypatch: pytest.MonkeyPatch) -> None:
    """A reload closes a socket (gone) just before the next one opens (seen): the hub
    writes them in that order, even when the first write is the slower (on PostgreSQL,
    where they run on a thread pool; on SQLite one thread runs them in order anyway)."""
    if connection.vendor != "postgresql":
        pytest.skip("on SQLite one thread runs every presence write in order: no race")
    cookie = session_of(personas.owner)
    gone = presence.gone
    started, reconnected, written = threading.Event(), threading.Event(), threading.Event()

    def slow_gone(user_id: int) -> None:
        started.set()
        reconnected.wait(5)  # a busy cache or thread pool: the next socket opens first
        gone(user_id)
        written.set()

    monkeypatch.setattr(presence, "gone", slow_gone)

    async def scenario() -> None:
        socket = await connect(cookie)
        await socket.disconnect()
        # The reload's new socket opens once the write of "gone" has begun (on a busy
        # machine it could open sooner, and the hub then rightly writes nothing).
        assert await sync_to_async(started.wait)(5)
        socket = await connect(cookie)
        reconnected.set()
        assert await sync_to_async(written.wait)(5)
        async with hub().presence_writes:  # and the writes queued after it are done
            pass
        (state,) = await sync_to_async(presence.states_of)([personas.owner.pk])
        assert state["status"] == "online"
        await socket.disconnect()

    run(scenario)
