"""One hub per process (per event loop) stands between the outbox and the sockets.

It hears of new events on the bus (bus.py), reads each batch once from the outbox and
hands every event to the sockets of this process whose person may receive it at that
moment (access.event_audiences): the cost follows the events, not the sockets. It also
delivers ephemeral events (typing, presence), checks every socket's credentials every
SWEEP_SECONDS and refreshes the presence of the people connected.

A socket first catches up by itself (events.after, from the id its client sent) and only
then goes live; the hub never hands it an event it has already read, so a client gets
every event once and in order."""

from __future__ import annotations

import asyncio
import json
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable, Collection
from contextvars import Context
from typing import Any, Protocol, TypeVar

import redis.asyncio
from channels.db import database_sync_to_async
from django.conf import settings
from django.db import connection

from essaim import access
from essaim.communities.models import Community

from . import bus, credentials, events, presence

T = TypeVar("T")


def in_thread(func: Callable[..., T]) -> Callable[..., Awaitable[T]]:
    """``func`` run off the event loop. On PostgreSQL, in the loop's pool of threads:
    asgiref's default (thread-sensitive) would queue every socket's and the hub's work
    behind one another on a single thread. SQLite (the embedded default, one process)
    takes one writer at a time anyway: there the work stays on that single thread."""
    shared = connection.vendor == "sqlite"
    return database_sync_to_async(func, thread_sensitive=shared)


SWEEP_SECONDS = 1.0  # credentials die on a socket within this (the issue asks 2 s)
log = logging.getLogger(__name__)


class Socket(Protocol):
    user_id: int
    credential: credentials.Credential
    position: int  # the last event id this socket has sent or queued
    away: bool

    def offer(self, seq: int, text: str) -> None: ...

    def offer_ephemeral(self, text: str) -> None: ...

    def resync(self, position: int) -> None: ...

    def catch_up_again(self) -> None: ...

    def credential_changed(self, credential: credentials.Credential | None) -> None: ...


def _community_readers_among(community_id: int, among: Collection[int]) -> set[int]:
    community = Community.objects.filter(pk=community_id).first()
    if community is None:
        return set()
    return set(
        access.community_readers(community).filter(pk__in=among).values_list("pk", flat=True)
    )


class Hub:
    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.sockets: dict[int, set[Socket]] = defaultdict(set)  # by person, all of them
        self.live: dict[int, set[Socket]] = defaultdict(set)  # caught up: the hub feeds them
        self.joining: set[Socket] = set()  # caught up while the hub was reading
        self.watchers: dict[int, set[Socket]] = defaultdict(set)  # presence, by watched person
        self.watching: dict[Socket, set[int]] = {}  # the same, by socket
        self.position = 0
        self.reading = False
        self.ready = asyncio.Event()
        self.wake = asyncio.Event()
        # Presence is written one change at a time, in order: a reloaded page closes its
        # socket (gone) just before its next one opens (seen), and run side by side the
        # two could land the other way round, showing someone connected as offline.
        self.presence_writes = asyncio.Lock()
        self.tasks = [
            asyncio.ensure_future(self._dispatch_forever()),
            asyncio.ensure_future(self._sweep_forever()),
            asyncio.ensure_future(self._hear_forever()),
        ]

    # --- sockets come and go -------------------------------------------------------------

    def add(self, socket: Socket) -> None:
        first = not self.sockets[socket.user_id]
        self.sockets[socket.user_id].add(socket)
        if first:
            self._spawn(self.refresh_presence(only=[socket.user_id]))

    def remove(self, socket: Socket) -> None:
        self.demote(socket)
        self.watch(socket, [])
        mine = self.sockets.get(socket.user_id, set())
        mine.discard(socket)
        if not mine:
            self.sockets.pop(socket.user_id, None)
            self._spawn(self._gone(socket.user_id))

    def go_live(self, socket: Socket) -> bool:
        """After a catch-up: True when the socket is live (or will be told to catch up
        again by the hub); False when the hub is ahead of it and it must read on."""
        if self.reading:
            self.joining.add(socket)
            return True
        if socket.position < self.position:
            return False
        self.live[socket.user_id].add(socket)
        return True

    def demote(self, socket: Socket) -> None:
        self.joining.discard(socket)
        live = self.live.get(socket.user_id)
        if live is not None:
            live.discard(socket)
            if not live:
                del self.live[socket.user_id]

    def watch(self, socket: Socket, user_ids: Collection[int]) -> None:
        """The people whose presence ``socket`` follows, instead of those it followed."""
        for watched in self.watching.pop(socket, ()):
            self.watchers[watched].discard(socket)
            if not self.watchers[watched]:
                del self.watchers[watched]
        if user_ids:
            self.watching[socket] = set(user_ids)
        for uid in user_ids:
            self.watchers[uid].add(socket)

    # --- stored events ---------------------------------------------------------------------

    async def _dispatch_forever(self) -> None:
        self.position = await in_thread(events.head_now)()
        self.ready.set()
        while True:
            try:
                await asyncio.wait_for(self.wake.wait(), settings.EVENTS_FALLBACK_SECONDS)
            except TimeoutError:
                # Nothing heard for a while (Redis down?): look at the outbox anyway, and
                # number what a dead process committed but never published.
                await in_thread(events.publish_stragglers)()
            self.wake.clear()
            try:
                await self._dispatch()
            except Exception:
                log.exception("event dispatch failed; trying again")
                await asyncio.sleep(1)

    async def _dispatch(self) -> None:
        more = True
        while more:
            self.reading = True
            try:
                fanout = await in_thread(events.fan_out)(self.position, list(self.live))
            finally:
                self.reading = False
            more = fanout.more
            if fanout.resync:
                for sockets in list(self.live.values()):
                    for socket in list(sockets):
                        socket.resync(fanout.position)
            for event, audience in fanout.deliveries:
                assert event.seq is not None
                text = json.dumps({"id": event.seq, "type": event.type, "data": event.data})
                for uid in audience:
                    for socket in list(self.live.get(uid, ())):
                        socket.offer(event.seq, text)
            self.position = fanout.position
            joining, self.joining = self.joining, set()
            for socket in joining:
                if socket.position >= self.position:
                    self.live[socket.user_id].add(socket)
                else:
                    socket.catch_up_again()

    # --- the bus ---------------------------------------------------------------------------

    def hear(self, channel: str, message: str) -> None:
        if channel == bus.EVENTS:
            self.wake.set()
        elif channel == bus.EPHEMERAL:
            try:
                self._deliver_ephemeral(json.loads(message))
            except (ValueError, KeyError, TypeError):
                log.warning("ephemeral message not understood: %.200s", message)

    def _deliver_ephemeral(self, message: dict[str, Any]) -> None:
        text = json.dumps({"type": message["type"], "data": message["data"]})
        skip = message.get("skip")
        if "users" in message:
            targets = [s for uid in message["users"] for s in self.sockets.get(uid, ())]
        elif "watchers_of" in message:
            targets = list(self.watchers.get(message["watchers_of"], ()))
        else:
            self._spawn(self._deliver_to_community(message["community"], text, skip))
            return
        for socket in targets:
            if socket.user_id != skip:
                socket.offer_ephemeral(text)

    async def _deliver_to_community(self, community_id: int, text: str, skip: Any) -> None:
        readers = await in_thread(_community_readers_among)(community_id, list(self.sockets))
        for uid in readers - {skip}:
            for socket in list(self.sockets.get(uid, ())):
                socket.offer_ephemeral(text)

    async def _hear_forever(self) -> None:
        if not settings.REDIS_URL:
            listener = self._hear_threadsafe
            bus.listen_locally(listener)
            try:
                await asyncio.Event().wait()  # until the loop ends
            finally:
                bus.stop_listening(listener)
            return
        pause = 0.5
        while True:
            client = redis.asyncio.Redis.from_url(settings.REDIS_URL, health_check_interval=10)
            try:
                async with client.pubsub() as pubsub:
                    prefix = f"{settings.REDIS_PREFIX}:"
                    await pubsub.subscribe(*(prefix + name for name in bus.CHANNELS))
                    self.wake.set()  # what was announced while we were away is in the outbox
                    pause = 0.5
                    async for message in pubsub.listen():
                        if message["type"] == "message":
                            channel = message["channel"].decode().removeprefix(prefix)
                            self.hear(channel, message["data"].decode())
            except (redis.RedisError, OSError) as error:
                log.warning("Redis unreachable (%s): retrying in %.1f s", error, pause)
                await asyncio.sleep(pause)
                pause = min(pause * 2, 10)
            finally:
                await client.aclose()

    def _hear_threadsafe(self, channel: str, message: str) -> None:
        try:
            # A fresh context: the caller's (a sync_to_async thread) must not leak into
            # the tasks the hub starts, or asgiref believes they run inside that thread.
            self.loop.call_soon_threadsafe(self.hear, channel, message, context=Context())
        except RuntimeError:  # this hub's loop has ended
            bus.stop_listening(self._hear_threadsafe)

    # --- credentials and presence ---------------------------------------------------------

    async def _sweep_forever(self) -> None:
        since_presence = 0.0
        while True:
            await asyncio.sleep(SWEEP_SECONDS)
            try:
                every = [s for sockets in self.sockets.values() for s in sockets]
                changed = await in_thread(credentials.changed)([s.credential for s in every])
                for socket in every:
                    if socket.credential in changed:
                        socket.credential_changed(changed[socket.credential])
                since_presence += SWEEP_SECONDS
                if since_presence >= presence.REFRESH_SECONDS and self.sockets:
                    since_presence = 0
                    await self.refresh_presence()
            except Exception:
                log.exception("socket sweep failed; trying again")

    async def refresh_presence(self, only: Collection[int] | None = None) -> None:
        async with self.presence_writes:
            people = list(self.sockets) if only is None else [p for p in only if p in self.sockets]
            away = {p for p in people if all(s.away for s in self.sockets[p])}
            await in_thread(presence.seen)(people, away=away)

    async def _gone(self, user_id: int) -> None:
        async with self.presence_writes:
            if user_id not in self.sockets:  # not back meanwhile
                await in_thread(presence.gone)(user_id)

    def _spawn(self, work: Any) -> None:
        task = asyncio.ensure_future(work)
        self.tasks.append(task)
        task.add_done_callback(self.tasks.remove)


_hubs: dict[asyncio.AbstractEventLoop, Hub] = {}


def hub() -> Hub:
    """This event loop's hub, started on first use."""
    loop = asyncio.get_running_loop()
    for old in [other for other in _hubs if other.is_closed()]:
        del _hubs[old]
    if loop not in _hubs:
        _hubs[loop] = Hub()
    return _hubs[loop]
