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

    def _add(self, kind: str, value: str, delta: int = 1) -> int:
        key, _ = self._key(kind, value)
        try:  # the key exists but for the first count of a window: incr first
            return int(cache.incr(key, delta))
        except ValueError:
            if delta > 0 and cache.add(key, delta, timeout=self.window):
                return delta
            try:  # another process added it meanwhile
                return int(cache.incr(key, delta))
            except ValueError:  # expired meanwhile
                cache.add(key, max(delta, 0), timeout=self.window)
                return max(delta, 0)

    def attempt(self, *, account: str, address: str) -> int:
        """Count this attempt *before* it is checked, so that parallel attempts cannot
        slip past the limit; seconds to wait when over it, 0 when allowed."""
        per_account = self._add("account", normalize_email(account))
        per_address = self._add("address", address)
        if (
            per_account <= settings.LOGIN_FAILURES_PER_ACCOUNT
            and per_address <= settings.LOGIN_FAILURES_PER_ADDRESS
        ):
            return 0
        _, window_end = self._key("address", address)
        return max(1, window_end - int(time.time()))

    def over(self, key: str, limit: int) -> int:
        """Count one more use of ``key``: seconds to wait when it is over ``limit`` in this
        window, 0 when allowed."""
        if self._add("key", key) <= limit:
            return 0
        _, window_end = self._key("key", key)
        return max(1, window_end - int(time.time()))

    def forgive(self, *, account: str, address: str) -> None:
        """A successful sign-in does not count against the limits."""
        self._add("account", normalize_email(account), -1)
        self._add("address", address, -1)


def login_throttle() -> Throttle:
    return Throttle("login", settings.LOGIN_THROTTLE_WINDOW)


def reset_throttle() -> Throttle:
    """Password-reset requests count as attempts: each one sends an e-mail."""
    return Throttle("reset", settings.LOGIN_THROTTLE_WINDOW)
