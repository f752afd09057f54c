"""The WebSocket at /ws/: the event stream for open pages and programs.

Opened with the session cookie (same-origin pages) or ``Authorization: Bearer <token>``
(credentials.py). The client sends JSON text frames:

- ``{"type": "resume", "last_event_id": N}``: send every event I may receive after N, in
  order, then the new ones as they come, as ``{"id", "type", "data"}``; an N outside the
  kept window gets ``{"type": "resync", "data": {"last_event_id": M}}`` (fetch the state
  again, then continue from M), never a silent gap;
- ``{"type": "presence", "away": true|false}``: this page is idle or back;
- ``{"type": "watch", "users": [ids]}``: send me these people's presence now
  (``presence.snapshot``) and each change (``presence``);
- ``{"type": "typing", "conversation": id}``, ``{"type": "typing", "community": id}`` or
  ``{"type": "typing", "user": id}``.

Bad frames get ``{"type": "error", "data": {"message"}}``; a client that keeps flooding
is closed (1008). Each socket queues at most QUEUE_LIMIT frames: a client that cannot keep
up loses its queue and gets ``resync``, so it never slows the others down. Dead
credentials close the socket with 4401."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

from channels.generic.websocket import AsyncWebsocketConsumer

from essaim import access
from essaim.accounts.models import User

from . import bus, credentials, events, presence
from .hub import Hub, hub, in_thread

QUEUE_LIMIT = 500  # frames waiting for one client
MAX_FRAME = 4096  # bytes a client frame may have
RATE, BURST = 10.0, 40.0  # client frames per second, and in a burst
FLOOD_CLOSE = 20  # refused frames in a row before the socket is closed
WATCH_MAX = 500
TYPING_EVERY = 2.0  # seconds between two typing events to the same place
CLOSED_CREDENTIALS = 4401
POLICY_VIOLATION = 1008


def _after(user_id: int, position: int) -> events.Batch:
    return events.after(User.objects.get(pk=user_id), position)


def _may_type(user_id: int, frame: dict[str, Any]) -> dict[str, Any] | None:
    """The ephemeral message for a typing frame, if the person may type there."""
    me = User.objects.get(pk=user_id)
    target = frame.get("conversation", frame.get("community", frame.get("user")))
    if not isinstance(target, int) or isinstance(target, bool):
        return None
    try:
        if "conversation" in frame:
            conversation = access.access_conversation(me, target, "post")
            others = access.audience(conversation).exclude(pk=me.pk)
            data = {"user": me.pk, "name": me.display_name, "conversation": conversation.pk}
            return {
                "type": "typing",
                "data": data,
                "users": list(others.values_list("pk", flat=True)),
            }
        if "community" in frame:
            community = access.access_community(me, target, "post")
            return {"type": "typing", "data": {"user": me.pk, "community": community.pk},
                    "community": community.pk, "skip": me.pk}  # fmt: skip
        person = access.access_user(me, target)
    except access.NotFound:
        return None
    if not access.can(person, access.VIEW, me):  # typing must not reveal me to them
        return None
    return {"type": "typing", "data": {"user": me.pk, "to": person.pk}, "users": [person.pk]}


class EventStream(AsyncWebsocketConsumer):
    hub: Hub | None = None
    closing: asyncio.Future[None] | None = None

    async def connect(self) -> None:
        if credentials.foreign_origin(self.scope):
            await self.close()  # the handshake is refused (HTTP 403)
            return
        credential = await in_thread(credentials.from_scope)(self.scope)
        if credential is None:
            # Accepted to be closed with a code: a refused handshake tells a browser
            # nothing, and the page must know that reconnecting cannot help.
            await self.accept()
            await self.close(code=CLOSED_CREDENTIALS)
            return
        loop = asyncio.get_running_loop()
        self.credential = credential
        self.user_id = credential.user_id
        self.position = 0
        self.away = False
        self.outbox: asyncio.Queue[str] = asyncio.Queue(QUEUE_LIMIT)
        self.catching: asyncio.Task[None] | None = None
        self.allowance, self.allowance_at, self.refused = BURST, loop.time(), 0
        self.typed: dict[str, float] = {}
        await self.accept()
        self.sender = asyncio.ensure_future(self._send_forever())
        self.hub = hub()
        self.hub.add(self)

    async def disconnect(self, code: int) -> None:
        self._stop()

    def _stop(self) -> None:
        if self.hub is None:
            return
        self.hub.remove(self)
        self.hub = None
        self.sender.cancel()
        if self.catching is not None:
            self.catching.cancel()

    def _close_soon(self, code: int, reason: str = "") -> None:
        self._stop()
        self.closing = asyncio.ensure_future(self.close(code=code, reason=reason or None))

    # --- frames to the client --------------------------------------------------------------

    async def _send_forever(self) -> None:
        while True:
            await self.send(text_data=await self.outbox.get())

    def _queue(self, frame: dict[str, Any]) -> None:
        self._put(json.dumps(frame))

    def _put(self, text: str) -> None:
        try:
            self.outbox.put_nowait(text)
        except asyncio.QueueFull:
            # The client cannot keep up: drop what waits and tell it to fetch afresh.
            while not self.outbox.empty():
                self.outbox.get_nowait()
            resync = {"type": "resync", "data": {"last_event_id": self.position}}
            self.outbox.put_nowait(json.dumps(resync))

    def offer(self, seq: int, text: str) -> None:
        if seq > self.position:
            self.position = seq
            self._put(text)

    def offer_ephemeral(self, text: str) -> None:
        if not self.outbox.full():  # ephemeral: dropped rather than waited for
            self.outbox.put_nowait(text)

    def resync(self, position: int) -> None:
        self.position = max(self.position, position)
        self._queue({"type": "resync", "data": {"last_event_id": self.position}})

    def credential_changed(self, credential: credentials.Credential | None) -> None:
        if credential is None:
            self._close_soon(CLOSED_CREDENTIALS)
        else:
            self.credential = credential

    async def error(self, message: str) -> None:
        await self.outbox.put(json.dumps({"type": "error", "data": {"message": message}}))

    # --- catching up -----------------------------------------------------------------------

    def catch_up_again(self) -> None:
        self.catching = asyncio.ensure_future(self._catch_up())

    async def _catch_up(self) -> None:
        assert self.hub is not None
        await self.hub.ready.wait()
        while True:
            batch = await in_thread(_after)(self.user_id, self.position)
            if batch.resync:
                await self.outbox.put(
                    json.dumps({"type": "resync", "data": {"last_event_id": batch.last_event_id}})
                )
            for event in batch.events:
                await self.outbox.put(
                    json.dumps({"id": event.seq, "type": event.type, "data": event.data})
                )
            self.position = batch.last_event_id
            if self.hub is None or (len(batch.events) < events.PAGE and self.hub.go_live(self)):
                return

    # --- frames from the client ------------------------------------------------------------

    def _within_rate(self) -> bool:
        now = asyncio.get_running_loop().time()
        self.allowance = min(BURST, self.allowance + (now - self.allowance_at) * RATE)
        self.allowance_at = now
        if self.allowance < 1:
            return False
        self.allowance -= 1
        return True

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.hub is None:
            return
        if not self._within_rate():
            self.refused += 1
            if self.refused >= FLOOD_CLOSE:
                self._close_soon(POLICY_VIOLATION, "Too many frames.")
            else:
                await self.error("Too many frames: slow down.")
            return
        self.refused = 0
        if text_data is None or len(text_data.encode()) > MAX_FRAME:
            await self.error("Send JSON text frames of at most 4 KB.")
            return
        try:
            frame = json.loads(text_data)
        except ValueError:
            await self.error("This frame is not JSON.")
            return
        handlers: dict[str, Callable[[dict[str, Any]], Awaitable[str | None]]] = {
            "resume": self._resume,
            "presence": self._presence,
            "watch": self._watch,
            "typing": self._typing,
        }
        handler = handlers.get(str(frame.get("type"))) if isinstance(frame, dict) else None
        if handler is None:
            await self.error(f"Unknown frame type: use one of {', '.join(handlers)}.")
            return
        problem = await handler(frame)
        if problem:
            await self.error(problem)

    async def _resume(self, frame: dict[str, Any]) -> str | None:
        last = frame.get("last_event_id")
        if not isinstance(last, int) or isinstance(last, bool) or last < 0:
            return "last_event_id must be a whole number, 0 or more."
        assert self.hub is not None
        self.hub.demote(self)
        if self.catching is not None:
            self.catching.cancel()
        self.position = last
        self.catch_up_again()
        return None

    async def _presence(self, frame: dict[str, Any]) -> str | None:
        away = frame.get("away")
        if not isinstance(away, bool):
            return "away must be true or false."
        self.away = away
        assert self.hub is not None
        await self.hub.refresh_presence(only=[self.user_id])
        return None

    async def _watch(self, frame: dict[str, Any]) -> str | None:
        ids = frame.get("users")
        if not isinstance(ids, list) or len(ids) > WATCH_MAX:
            return f"users must be a list of at most {WATCH_MAX} ids."
        if not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
            return "users must be a list of ids."
        me = await in_thread(User.objects.get)(pk=self.user_id)
        shown = await in_thread(presence.watchable)(me, ids)
        assert self.hub is not None
        # Watching before reading: a change in between reaches the socket as an event
        # (the page keeps it over the older snapshot), instead of being missed.
        self.hub.watch(self, shown)
        states = await in_thread(presence.states_of)(shown)
        self._queue({"type": "presence.snapshot", "data": {"users": states}})
        return None

    async def _typing(self, frame: dict[str, Any]) -> str | None:
        place = next(
            (f"{k}{frame[k]}" for k in ("conversation", "community", "user") if k in frame), ""
        )
        now = asyncio.get_running_loop().time()
        if now - self.typed.get(place, -TYPING_EVERY) < TYPING_EVERY:
            return None  # said already; typing is a hint, not a message
        message = await in_thread(_may_type)(self.user_id, frame)
        if message is None:
            return "You cannot type there."
        if len(self.typed) > 100:  # bounded memory for a client typing everywhere
            self.typed.clear()
        self.typed[place] = now
        await in_thread(bus.announce)(bus.EPHEMERAL, json.dumps(message))
        return None
