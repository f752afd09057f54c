"""Sign-in throttling per account and per client address, kept in the cache
(Redis when REDIS_URL is set, so every process shares the counts)."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

from .models import normalize_email


@dataclass(frozen=True)
class Throttle:
    """Counts failures in fixed windows of ``window`` seconds."""

    scope: str
    window: int

    def _key(self, kind: str, value: str) -> tuple[str, int]:
        bucket = int(time.time()) // self.window
        digest = hashlib.sha256(value.encode()).hexdigest()[:32]
        return f"throttle:{self.scope}:{kind}:{digest}:{bucket}", (bucket + 1) * self.window

    def _count(self, kind: str, value: str) -> int:
        key, _ = self._key(kind, value)
        return int(cache.get(key, 0))

    def _add(self, kind: str, value: str) -> None:
        key, _ = self._key(kind, value)
        if not cache.add(key, 1, timeout=self.window):
            try:
                cache.incr(key)
            except ValueError:  # expired between add and incr
                cache.add(key, 1, timeout=self.window)

    def retry_after(self, *, account: str, address: str) -> int:
        """Seconds to wait before another attempt, 0 if allowed now."""
        over = self._count(
            "account", normalize_email(account)
        ) >= settings.LOGIN_FAILURES_PER_ACCOUNT or (
            self._count("address", address) >= settings.LOGIN_FAILURES_PER_ADDRESS
        )
        if not over:
            return 0
        _, window_end = self._key("address", address)
        return max(1, window_end - int(time.time()))

    def failure(self, *, account: str, address: str) -> None:
        self._add("account", normalize_email(account))
        self._add("address", address)


def login_throttle() -> Throttle:
    return Throttle("login", settings.LOGIN_THROTTLE_WINDOW)


def reset_throttle() -> Throttle:
    """Password-reset requests count as attempts: each one sends an e-mail."""
    return Throttle("reset", settings.LOGIN_THROTTLE_WINDOW)
