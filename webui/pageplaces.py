"""Page places: how many of a client's page requests run at once, wait, or are refused.

Every request that is no query or download (pages, lookups, their APIs) runs as one of the
client's PAGES_PER_CLIENT at a time; up to PAGES_WAITING more wait their turn (until their
deadline: then 503); a request beyond those waits up to REFUSAL_WAIT for room among them
(LINGERING such requests at most, in all), then gets 429 (webui.admission tells the whole
policy). Mixed into webui.admission.Admission, whose lock, budget and slice it shares.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from flask import g
from werkzeug.exceptions import TooManyRequests

from kb.errors import QueryTimeout
from webui.budget import Budget

REFUSAL_WAIT = 1.0  # seconds a request past its client's page places waits for room before its 429
LINGERING = 8  # such requests waiting at once, in all (each holds a server thread)


def arrival() -> float:
    """When the current request arrived (time.monotonic())."""
    return float(g.get("ckb_arrival", time.monotonic()))


class PagePlaces:
    """Per-client page places, held by webui.admission.Admission."""

    budget: Budget
    fast: float  # seconds of a page that cost nothing (FAST_QUERY_LIMIT)
    _turn: threading.Condition  # on the admission's lock

    def places(self, config: dict[str, Any]) -> None:
        """Set up the places from the app's config (PAGES_PER_CLIENT, PAGES_WAITING)."""
        self.pages_per_client = int(config.get("PAGES_PER_CLIENT", 2))
        self.pages_waiting = int(config.get("PAGES_WAITING", 6))
        self._pages: Counter[str] = Counter()  # running
        self._queued: Counter[str] = Counter()  # waiting for one of the client's places
        self._lingering = 0  # past their client's places, waiting briefly for room (REFUSAL_WAIT)

    def enter_page(self, client: str, deadline: float, free: Callable[[], bool] = lambda: False) -> float:
        """Take one of ``client``'s page places, waiting until ``deadline``; 429 past its share, or
        past its budget unless ``free()`` (a page the cache answers); when the place was taken."""
        if not free():
            self.budget.check(client)
        with self._turn:
            if self._pages[client] >= self.pages_per_client:
                if self._queued[client] >= self.pages_waiting:
                    self._linger(client, min(deadline, time.monotonic() + REFUSAL_WAIT))
                if self._queued[client] >= self.pages_waiting:
                    most = self.pages_per_client + self.pages_waiting
                    raise TooManyRequests(f"this client already has {most} requests under way; wait "
                                          "for them to finish", retry_after=2)
                self._queued[client] += 1
                try:
                    while self._pages[client] >= self.pages_per_client:
                        left = deadline - time.monotonic()
                        if left <= 0:
                            raise QueryTimeout(max(0.0, deadline - arrival()))
                        self._turn.wait(left)
                finally:
                    self._queued[client] -= 1
                    if not self._queued[client]:
                        del self._queued[client]
                    self._turn.notify_all()  # room in the queue: for a request lingering
            self._pages[client] += 1
        return time.monotonic()

    def _linger(self, client: str, until: float) -> None:
        """Wait (holding ``_turn``) until ``client`` has room among its waiting places, or ``until``."""
        if self._lingering >= LINGERING:
            return
        self._lingering += 1
        try:
            while self._queued[client] >= self.pages_waiting and (left := until - time.monotonic()) > 0:
                self._turn.wait(left)
        finally:
            self._lingering -= 1

    def leave_page(self, client: str, seconds: float, charged: bool = True) -> None:
        """A page request ran ``seconds`` in its place: the place goes on, and (if ``charged``) its
        time beyond the slice is charged."""
        with self._turn:
            self._pages[client] -= 1
            if not self._pages[client]:
                del self._pages[client]
            self._turn.notify_all()
        if charged:
            self.budget.charge(client, seconds - self.fast)
