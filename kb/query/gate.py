"""A fair counting semaphore with deadlines: who gets a query lane's next free worker.

kb.query.scheduling gives each lane a Gate; this module holds the gate itself and the errors a
caller sees when it cannot get in (Overloaded, NoRoom).
"""

from __future__ import annotations

import itertools
import math
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from kb.errors import KBError

CLIENT: ContextVar[str] = ContextVar("ckb_client", default="")  # who asks (webui.admission sets it)


class Overloaded(KBError):
    """The lane's queue is full, or the request's time ran out while it waited: try again later."""

    status = 503

    def __init__(self, message: str, retry_after: float) -> None:
        self.retry_after = max(1, math.ceil(retry_after))
        super().__init__(message)


class NoRoom(Overloaded):
    """A PROBE found no interactive worker to spare in time; its caller should use the heavy lane."""

    def __init__(self) -> None:
        super().__init__("the interactive lane is busy", 1.0)


class _Held:
    """A held gate slot; detach() hands its release to someone else (a worker being started)."""

    def __init__(self, release: Callable[[], None]) -> None:
        self._release = release
        self.detached = False

    def detach(self) -> Callable[[], None]:
        """Keep the slot past the block; the caller must call what this returns, once."""
        self.detached = True
        return self._release


class _Waiter:
    __slots__ = ("event", "granted")

    def __init__(self) -> None:
        self.event = threading.Event()
        self.granted = False


class Gate:
    """A counting semaphore that hands a freed slot to the waiter of the client holding the fewest
    slots, and among those to the one whose deadline is nearest.

    Waiters give up at their deadline, and ``max_waiting`` bounds how many may wait. Fewest held
    first: one client's many requests (pages that each run queries) cannot keep another client's
    one query waiting behind them. Then earliest deadline first, with the slot handed over (no
    barging): a page whose request came first gets its next query in first, so pages finish
    instead of all of them ageing together. ``per_client`` caps the slots one named client holds
    at once, even while others are free: fewest-held-first only helps once a slot frees, and one
    client's page queries (up to seconds each) could hold every slot until then.
    """

    def __init__(self, slots: int, max_waiting: int | None = None, per_client: int | None = None) -> None:
        self.slots = slots
        self.max_waiting = max_waiting
        self.per_client = per_client
        self._busy = 0
        self._held: Counter[str] = Counter()  # slots each client holds
        self._waiters: list[tuple[float, int, str, _Waiter]] = []
        self._seq = itertools.count()
        self._lock = threading.Lock()

    @contextmanager
    def slot(self, deadline: float | None, retry_after: float = 1.0) -> Iterator[_Held]:
        """Hold one slot; Overloaded if the queue is full or the deadline passes first."""
        client = CLIENT.get()
        with self._lock:
            waiter = None
            if self._busy < self.slots and self._may_hold(client) and not self._eligible():
                self._busy += 1
                self._held[client] += 1
            elif self.max_waiting is not None and len(self._waiters) >= self.max_waiting:
                raise Overloaded("the server is busy with heavy queries; try again shortly", retry_after)
            else:
                waiter = _Waiter()
                entry = (math.inf if deadline is None else deadline, next(self._seq), client, waiter)
                self._waiters.append(entry)
        if waiter is not None:
            waiter.event.wait(None if deadline is None else max(0.0, deadline - time.monotonic()))
            with self._lock:
                if not waiter.granted:  # its deadline came first: leave the queue
                    self._waiters.remove(entry)
                    raise Overloaded("no worker came free before the request's time limit", retry_after)
        held = _Held(lambda: self._release(client))
        try:
            yield held
        finally:
            if not held.detached:
                self._release(client)

    def _release(self, client: str) -> None:
        with self._lock:
            self._held[client] -= 1
            if self._held[client] <= 0:
                del self._held[client]
            eligible = self._eligible()
            if eligible:  # hand the slot straight over: busy stays the same
                # A few waiters at most (bounded by the server's threads): a scan beats a heap
                # whose order changes as clients take and give back slots.
                entry = min(eligible, key=lambda e: (self._held[e[2]], e[0], e[1]))
                self._waiters.remove(entry)
                self._held[entry[2]] += 1
                entry[3].granted = True
                entry[3].event.set()
            else:
                self._busy -= 1

    def may_take(self, client: str) -> bool:
        """False while ``client`` holds all the slots it may hold (``per_client``)."""
        with self._lock:
            return self._may_hold(client)

    def _may_hold(self, client: str) -> bool:
        # Unnamed callers (the CLI, library users: no CLIENT set) are one caller; not capped.
        return self.per_client is None or not client or self._held[client] < self.per_client

    def _eligible(self) -> list[tuple[float, int, str, _Waiter]]:
        """Waiters whose client may take one more slot (under the lock)."""
        return [e for e in self._waiters if self._may_hold(e[2])]

    def load(self) -> tuple[int, int]:
        """(running, waiting) now."""
        with self._lock:
            return self._busy, len(self._waiters)
