"""A per-client query-time budget, as WDQS has: spend too much engine time, get a 429.

Each client (by remote address) may spend QUERY_BUDGET seconds of query time per
minute; the budget refills continuously. A query is charged what it cost (its time
limit when it timed out). Over budget, /sparql answers 429 with Retry-After.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from werkzeug.exceptions import TooManyRequests

from kb.errors import QueryTimeout

_WINDOW = 60.0  # seconds over which the budget refills
_MAX_CLIENTS = 10_000  # forget the fullest buckets first, so memory stays bounded


class Budget:
    """Token buckets of query seconds, one per client."""

    def __init__(self, seconds_per_minute: float) -> None:
        self.capacity = seconds_per_minute
        self._buckets: dict[str, tuple[float, float]] = {}  # client -> (balance, when)
        self._lock = threading.Lock()

    def _balance(self, client: str, now: float) -> float:
        balance, when = self._buckets.get(client, (self.capacity, now))
        return min(self.capacity, balance + (now - when) * self.capacity / _WINDOW)

    def check(self, client: str) -> None:
        """Raise 429 (with Retry-After) if the client has no query time left."""
        now = time.monotonic()
        with self._lock:
            balance = self._balance(client, now)
        if balance <= 0:
            wait = math.ceil(-balance * _WINDOW / self.capacity) + 1
            raise TooManyRequests(
                f"query-time budget spent ({self.capacity:g} s per minute); retry in {wait} s",
                retry_after=wait,
            )

    def charge(self, client: str, seconds: float) -> None:
        """Take ``seconds`` of query time from the client's bucket."""
        now = time.monotonic()
        with self._lock:
            self._buckets[client] = (self._balance(client, now) - seconds, now)
            if len(self._buckets) > _MAX_CLIENTS:
                fullest = max(self._buckets, key=lambda c: self._balance(c, now))
                del self._buckets[fullest]

    @contextmanager
    def spend(self, client: str, timeout: float) -> Iterator[None]:
        """Check the budget, run the block, and charge what it took (the limit on timeout)."""
        self.check(client)
        start = time.monotonic()
        try:
            yield
        except QueryTimeout:
            self.charge(client, timeout)
            raise
        self.charge(client, time.monotonic() - start)
