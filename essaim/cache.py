"""Django's Redis cache, with one connection pool per process, for which Redis down is a
miss.

Django keeps a cache instance per thread and, under ASGI, per request context: each
request would otherwise build its own pool and open a new Redis connection (with its
handshake) for its first cache call — about one per request, measured by
bench/bench_chat.py."""

from __future__ import annotations

import logging
import threading
from typing import Any

import redis
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger("essaim.cache")

_pools: dict[tuple[str, str], redis.ConnectionPool] = {}
_lock = threading.Lock()


class SharedConnectionPool(redis.ConnectionPool):
    @classmethod
    def from_url(cls, url: str, **options: Any) -> Any:
        key = (url, repr(sorted(options.items())))
        with _lock:
            if key not in _pools:
                _pools[key] = redis.ConnectionPool.from_url(url, **options)
            return _pools[key]


class ForgivingRedisCache(RedisCache):
    """Redis down (or slow past its timeouts) is a miss: reads find nothing, writes are
    dropped, the limits counted here (throttles, once-a-day guards) lapse until it is
    back — and every request goes on, what it writes committed (SECURITY.md #42)."""

    def _down(self, operation: str) -> None:
        logger.warning("cache %s: Redis is unavailable", operation)

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        try:
            return super().get(key, default, version)
        except RedisError:
            self._down("get")
            return default

    def get_many(self, keys: Any, version: int | None = None) -> dict[Any, Any]:
        try:
            return super().get_many(keys, version)
        except RedisError:
            self._down("get_many")
            return {}

    def set(self, *args: Any, **kwargs: Any) -> None:
        try:
            super().set(*args, **kwargs)
        except RedisError:
            self._down("set")

    def set_many(self, *args: Any, **kwargs: Any) -> list[Any]:
        try:
            return super().set_many(*args, **kwargs)
        except RedisError:
            self._down("set_many")
            return []

    def add(self, *args: Any, **kwargs: Any) -> bool:
        try:
            return super().add(*args, **kwargs)
        except RedisError:
            self._down("add")
            return True  # as if first: a guard does not refuse while it cannot count

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        try:
            return super().incr(key, delta, version)
        except RedisError:
            self._down("incr")
            return 0  # nothing counted: under every limit

    def delete(self, key: Any, version: int | None = None) -> bool:
        try:
            return super().delete(key, version)
        except RedisError:
            self._down("delete")
            return False
