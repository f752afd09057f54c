"""One Redis connection pool per process for Django's cache.

Django keeps a cache instance per thread and, under ASGI, per request context: each
request would otherwise build its own pool and open a new Redis connection (with its
handshake) for its first cache call — about one per request, measured by
bench/bench_chat.py."""

from __future__ import annotations

import threading
from typing import Any

import redis

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
