"""The WebSocket at /ws/: the event stream for the open pages.

The client sends ``{"type": "resume", "last_event_id": N}``; the socket then sends every
event the person may receive after N, in order, as ``{"id", "type", "data"}`` frames, or
``{"type": "resync"}`` when N is outside the kept window. Before each look at the stream
(every POLL_SECONDS) the session is checked again: a sign-out, a deactivation or a
password change closes the socket (code 4401) within that time."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.utils.crypto import constant_time_compare

from essaim.accounts.models import User

from . import events

POLL_SECONDS = 0.2
MAX_FRAME = 4096  # bytes a client frame may have
CLOSED_CREDENTIALS = 4401


def _live_user(session_key: str | None) -> User | None:
    """The session's user while the session, the account and its password still hold."""
    if not session_key:
        return None
    store = SessionStore(session_key)
    if not store.exists(session_key):
        return None
    data = store.load()
    user_id = data.get(SESSION_KEY)
    if data.get(BACKEND_SESSION_KEY) is None or user_id is None:
        return None
    user = User.objects.filter(pk=str(user_id), is_active=True).first()
    if user is None:
        return None
    if not constant_time_compare(data.get(HASH_SESSION_KEY, ""), user.get_session_auth_hash()):
        return None
    return user


class EventStream(AsyncWebsocketConsumer):
    async def connect(self) -> None:
        session = self.scope.get("session")
        self.session_key = getattr(session, "session_key", None)
        self.position: int | None = None
        self.delivery: asyncio.Task[None] | None = None
        if await database_sync_to_async(_live_user)(self.session_key) is None:
            await self.close(code=CLOSED_CREDENTIALS)
            return
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if self.delivery is not None:
            self.delivery.cancel()

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if text_data is None or len(text_data.encode()) > MAX_FRAME:
            await self.error("Send JSON text frames of at most 4 KB.")
            return
        try:
            frame = json.loads(text_data)
        except ValueError:
            await self.error("This frame is not JSON.")
            return
        last = frame.get("last_event_id") if isinstance(frame, dict) else None
        if frame.get("type") != "resume" if isinstance(frame, dict) else True:
            await self.error('Unknown frame type: send {"type": "resume", "last_event_id": N}.')
            return
        if not isinstance(last, int) or isinstance(last, bool) or last < 0:
            await self.error("last_event_id must be a whole number, 0 or more.")
            return
        self.position = last
        if self.delivery is None:
            self.delivery = asyncio.ensure_future(self.deliver())

    async def error(self, message: str) -> None:
        await self.send(text_data=json.dumps({"type": "error", "data": {"message": message}}))

    async def deliver(self) -> None:
        while True:
            user = await database_sync_to_async(_live_user)(self.session_key)
            if user is None:
                await self.close(code=CLOSED_CREDENTIALS)
                return
            batch = await database_sync_to_async(events.after)(user, self.position or 0)
            frames: list[dict[str, Any]] = []
            if batch.resync:
                frames.append({"type": "resync", "data": {"last_event_id": batch.last_event_id}})
            frames += [{"id": e.seq, "type": e.type, "data": e.data} for e in batch.events]
            for frame in frames:
                await self.send(text_data=json.dumps(frame))
            self.position = batch.last_event_id
            await asyncio.sleep(POLL_SECONDS)
