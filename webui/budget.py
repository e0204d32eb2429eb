"""A per-client query-time budget, as WDQS has: spend too much engine time, get a 429.

Each client may spend QUERY_BUDGET seconds of query time per minute; the budget refills
continuously. A query is charged at admission (its whole time limit, or what is left of the
budget if that is less, which then becomes its limit) and settled when it ends (the unused
part comes back). So a burst of queries sent at once cannot overdraw the budget: each one
takes its share before it runs. Over budget, /sparql answers 429 with Retry-After.
"""

from __future__ import annotations

import math
import threading
import time

from werkzeug.exceptions import TooManyRequests

_WINDOW = 60.0  # seconds over which the budget refills
_MIN_GRANT = 0.05  # below this, a query could not do anything useful: refuse instead
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

    def _set(self, client: str, balance: float, now: float) -> None:
        self._buckets[client] = (balance, now)
        if len(self._buckets) > _MAX_CLIENTS:
            fullest = max(self._buckets, key=lambda c: self._balance(c, now))
            del self._buckets[fullest]

    def reserve(self, client: str, seconds: float) -> float:
        """Take up to ``seconds`` from the client's bucket now and return what was granted; 429 if empty."""
        now = time.monotonic()
        with self._lock:
            balance = self._balance(client, now)
            self._refuse_if_spent(balance)
            granted = min(seconds, balance)
            self._set(client, balance - granted, now)
        return granted

    def charge(self, client: str, seconds: float) -> None:
        """Take ``seconds`` already spent (a page's time) from the client's bucket; it may go below zero."""
        if seconds > 0:
            now = time.monotonic()
            with self._lock:
                self._set(client, self._balance(client, now) - seconds, now)

    def check(self, client: str) -> None:
        """429 if the client's bucket is empty (as reserve() would say), without taking anything."""
        now = time.monotonic()
        with self._lock:
            balance = self._balance(client, now)
        self._refuse_if_spent(balance)

    def _refuse_if_spent(self, balance: float) -> None:
        if balance < _MIN_GRANT:
            wait = math.ceil((_MIN_GRANT - balance) * _WINDOW / self.capacity) + 1
            raise TooManyRequests(
                f"query-time budget spent ({self.capacity:g} s per minute); retry in {wait} s",
                retry_after=wait,
            )

    def settle(self, client: str, granted: float, used: float) -> None:
        """Give back the part of a reservation the query did not use."""
        refund = max(0.0, granted - used)
        if refund:
            now = time.monotonic()
            with self._lock:
                self._set(client, self._balance(client, now) + refund, now)
