"""A small sliding-window rate limiter, per key (a device's address), held in the process.

Each app process counts for itself: behind a proxy that keeps each client on one process (the
shipped nginx site does), a client meets one limiter.
"""
from __future__ import annotations

import threading
import time
from collections import deque


class RateLimiter:
    def __init__(self, *, limit: int, per_seconds: float, max_keys: int = 10_000):
        self.limit, self.per, self.max_keys = limit, per_seconds, max_keys
        self._hits: dict[str, deque] = {}
        self._lock = threading.Lock()

    def wait(self, key: str, now: float | None = None) -> int:
        """0 if `key` may try now, else the whole seconds until it may."""
        now = time.monotonic() if now is None else now
        with self._lock:
            q = self._hits.get(key)
            while q and q[0] <= now - self.per:
                q.popleft()
            if q is not None and len(q) >= self.limit:
                return max(1, int(q[0] + self.per - now + 0.999))
            return 0

    def hit(self, key: str, now: float | None = None) -> None:
        """Count one attempt against `key` (a failed one: a wrong code)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            q = self._hits.setdefault(key, deque())
            q.append(now)
            if len(self._hits) > self.max_keys:  # forget the quietest keys rather than grow without end
                for k in [k for k, v in self._hits.items() if not v][: self.max_keys // 10] or list(self._hits)[:1]:
                    self._hits.pop(k, None)

    def reset(self) -> None:
        with self._lock:
            self._hits.clear()
