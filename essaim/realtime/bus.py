"""How the processes hear of new events: Redis pub/sub when REDIS_URL is set, so that
processes on several machines hear each other; otherwise (the embedded default, one
process) a direct call to this process's hub.

Only a wake-up travels for stored events (the newest number): each hub then reads the
outbox itself, so a lost message loses nothing — the hubs also look at the outbox every
EVENTS_FALLBACK_SECONDS. Ephemeral events (typing, presence) travel whole and are lost
when Redis is down, which is what they are for."""

from __future__ import annotations

import logging
from collections.abc import Callable

import redis
from django.conf import settings

EVENTS = "events"  # message: the newest seq, as text
EPHEMERAL = "ephemeral"  # message: JSON {type, data, and users / community / watchers_of}
CHANNELS = (EVENTS, EPHEMERAL)

Listener = Callable[[str, str], None]
_listeners: list[Listener] = []  # this process's hubs, when there is no Redis
_clients: dict[str, redis.Redis] = {}
log = logging.getLogger(__name__)


def listen_locally(listener: Listener) -> None:
    _listeners.append(listener)


def stop_listening(listener: Listener) -> None:
    if listener in _listeners:
        _listeners.remove(listener)


def client(url: str) -> redis.Redis:
    if url not in _clients:
        _clients[url] = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
    return _clients[url]


def announce(channel: str, message: str) -> None:
    """Tell every hub; never fails the caller (its change is committed already)."""
    if not settings.REDIS_URL:
        for listener in list(_listeners):
            listener(channel, message)
        return
    try:
        client(settings.REDIS_URL).publish(f"{settings.REDIS_PREFIX}:{channel}", message)
    except redis.RedisError as error:
        log.warning("Redis did not take %s (%s): hubs will find it in the outbox", channel, error)
