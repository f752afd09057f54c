"""The event stream across processes, through a Redis server each test starts itself on
its own port (never the machine's shared one): an event produced by another process
reaches a socket here through Redis, and with Redis killed while producing, the writes
still succeed and the sockets still get every event, once and in order, from the
outbox."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from asgiref.sync import sync_to_async
from django.db import connection

from essaim.communities.models import Visibility
from essaim.realtime import events
from tests.conftest import Personas, free_port
from tests.test_communities import build
from tests.test_websocket import connect, frames, run, session_of

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not shutil.which("redis-server"), reason="redis-server is not installed"),
]


head = sync_to_async(events.head_now)


class RedisServer:
    """A throwaway redis-server on a port of its own; kill() and start() it at will."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                *("redis-server", "--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no"),
            ],
            stdout=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url)
        for _ in range(100):
            try:
                client.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait()


@pytest.fixture
def own_redis(settings: Any) -> Iterator[RedisServer]:
    server = RedisServer()
    server.start()
    settings.REDIS_URL = server.url  # the bus and the hubs; the cache keeps its own
    yield server
    server.kill()


def test_an_event_from_another_process_arrives_through_redis(
    personas: Personas, own_redis: RedisServer, settings: Any
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("another process cannot open the in-memory SQLite test database")
    settings.EVENTS_FALLBACK_SECONDS = 60  # so only Redis can bring it in time
    community = build(personas, Visibility.PUBLIC)
    member = session_of(personas.member)
    name, prefix = connection.settings_dict["NAME"], settings.REDIS_PREFIX
    url = f"postgres://{settings.DATABASES['default']['USER']}@127.0.0.1:5432/{name}"
    produce = (
        "import django; django.setup()\n"
        "from essaim.realtime import events\n"
        "from essaim.communities.models import Community\n"
        f"community = Community.objects.get(pk={community.pk})\n"
        "events.emit('test.elsewhere', {}, community=community)\n"
    )

    async def scenario() -> None:
        socket = await connect(member)
        await socket.send_json_to({"type": "resume", "last_event_id": await head()})
        assert await socket.receive_nothing(0.3)  # caught up, live
        env = os.environ | {"DATABASE_URL": url, "REDIS_URL": own_redis.url}
        env |= {"DJANGO_SETTINGS_MODULE": "essaim.settings", "ESSAIM_REDIS_PREFIX": prefix}
        await sync_to_async(subprocess.run)([sys.executable, "-c", produce], env=env, check=True)
        (got,) = await frames(socket, 1)
        assert got["type"] == "test.elsewhere"
        await socket.disconnect()

    run(scenario)


def test_with_redis_killed_writes_succeed_and_nothing_is_lost(
    personas: Personas, own_redis: RedisServer, settings: Any
) -> None:
    settings.EVENTS_FALLBACK_SECONDS = 1
    community = build(personas, Visibility.PUBLIC)
    member = session_of(personas.member)
    emit = sync_to_async(events.emit)

    async def scenario() -> None:
        socket = await connect(member)
        await socket.send_json_to({"type": "resume", "last_event_id": await head()})
        await emit("test.tick", {"n": 0}, community=community)
        got = await frames(socket, 1)
        own_redis.kill()
        for n in (1, 2, 3):
            await emit("test.tick", {"n": n}, community=community)  # the write succeeds
        got += await frames(socket, 3)  # from the outbox, Redis or not
        own_redis.start()
        await emit("test.tick", {"n": 4}, community=community)
        got += await frames(socket, 1)
        assert [f["data"]["n"] for f in got] == [0, 1, 2, 3, 4]
        assert [f["id"] for f in got] == sorted({f["id"] for f in got})  # in order, once
        assert await socket.receive_nothing(1.5)  # and nothing twice
        await socket.disconnect()

    run(scenario)


def test_the_cache_keeps_one_redis_connection_per_process(own_redis: RedisServer) -> None:
    """Django builds a cache object per request context: without the shared pool, each
    opened a Redis connection of its own (one per request)."""
    from django.core.cache.backends.redis import RedisCache

    shared = {"OPTIONS": {"pool_class": "essaim.cache.SharedConnectionPool"}}
    probe = redis.Redis.from_url(own_redis.url)
    before = probe.info("stats")["total_connections_received"]
    for n in range(20):  # twenty requests' cache objects
        cache = RedisCache(own_redis.url, shared)
        cache.set(f"k{n}", 1)
        assert cache.incr(f"k{n}") == 2
    assert probe.info("stats")["total_connections_received"] - before == 1
