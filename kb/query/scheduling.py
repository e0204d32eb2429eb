"""Query lanes: cheap work and heavy work get separate workers, and every wait has a deadline.

A caller (the web layer's admission, kb/../webui/admission.py) says which lane a query runs in
and by when the whole request must be answered, through two context variables. The backend's
pools read them: the query waits for a worker of its lane only until that deadline, and runs
with whatever time is left as its limit. Code that sets neither (the CLI, library users) runs
in the interactive lane with its own time limit, as before.

A query text not known to be cheap runs in lane PROBE: on an interactive worker, but it first
needs one of the probe gate's slots (one fewer than the interactive lane has), for which it
waits at most PROBE_WAIT and behind few others; otherwise NoRoom, and the caller sends it to the
heavy lane. Many clients each sending a new heavy text then hold at most all but one
interactive worker, so known cheap work always finds one free.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import replace
from typing import Any

from kb.errors import KBError, QueryTimeout
from kb.query.engine import StoreSpec
from kb.query.forkserver import TEMPLATE
from kb.query.worker import WorkerPool
from kb.store.backend import QueryRequest

INTERACTIVE, HEAVY, PROBE = "interactive", "heavy", "probe"
LANE: ContextVar[str] = ContextVar("ckb_lane", default=INTERACTIVE)
HEAVY_NICE = 10  # CPU weight ~1/9 of a normal process's when both want the core
PROBE_WAIT = 0.5  # seconds a new text waits for a probe slot before it goes to the heavy lane
DEADLINE: ContextVar[float | None] = ContextVar("ckb_deadline", default=None)  # time.monotonic()
CLIENT: ContextVar[str] = ContextVar("ckb_client", default="")  # who asks (webui.admission sets it)


# The worker template (kb.query.forkserver) starts as soon as the query path is imported: its own
# imports (~0.9 s) then overlap the caller's imports and the store's open, and the first query
# forks a worker instead of waiting for them. Idle, it only sleeps in a read.
with contextlib.suppress(OSError):
    TEMPLATE.start()


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


class _NicePool(WorkerPool):
    """A WorkerPool whose workers run at a lower CPU priority (heavy work yields to cheap work)."""

    def __init__(self, size: int, nice: int, require_fence: bool = False) -> None:
        super().__init__(size, require_fence=require_fence)
        self.nice = nice

    def _acquire(self, deadline: float | None = None, limit: float = 0.0) -> Any:
        # Wraps the pool's own start of a worker; if WorkerPool changes, workers just run un-niced.
        worker = super()._acquire(deadline, limit)
        proc = getattr(worker, "proc", None)
        if proc is not None and not getattr(worker, "ckb_niced", False):
            with contextlib.suppress(OSError):
                os.setpriority(os.PRIO_PROCESS, proc.pid, self.nice)
            worker.ckb_niced = True
        return worker


class LanePools:
    """One WorkerPool per lane behind the WorkerPool interface (reset, run, close)."""

    def __init__(self, interactive: int = 2, heavy: int = 1, heavy_queue: int = 4,
                 require_fence: bool = False) -> None:
        # One interactive worker more than the lane's slots: a spare, so the query after a kill
        # finds a started worker instead of waiting for one to start.
        self.pools = {INTERACTIVE: WorkerPool(interactive + 1, require_fence=require_fence),
                      HEAVY: _NicePool(heavy, HEAVY_NICE, require_fence=require_fence)}
        # One client holds at most all interactive workers but one: another client's cheap query
        # never waits for its page queries (the uncached-pages flood of issue 19).
        self.gates = {INTERACTIVE: Gate(interactive, per_client=max(1, interactive - 1)),
                      HEAVY: Gate(heavy, max_waiting=heavy_queue),
                      # New texts may hold all interactive workers but one (a lane of one: that one).
                      PROBE: Gate(max(1, interactive - 1), max_waiting=interactive)}
        # A server sets this: a worker is then started ahead of need (after a change of store,
        # after a kill), so a query does not wait the ~0.5 s a worker takes to start.
        self.keep_warm = False
        self._warmable = False
        # The worker template imports in the background from now on: by the first query,
        # a worker is a fork away (kb.query.forkserver), not a second of imports.
        with contextlib.suppress(OSError):
            TEMPLATE.start()

    @property
    def require_fence(self) -> bool:
        """True: no lane runs a job in a worker that is not fenced off the network."""
        return all(pool.require_fence for pool in self.pools.values())

    @require_fence.setter
    def require_fence(self, value: bool) -> None:
        for pool in self.pools.values():
            pool.require_fence = value

    def fence_problem(self) -> str | None:
        """Why the workers are not fenced off the network, or None if they are."""
        return self.pools[INTERACTIVE].fence_problem()

    def reset(self, spec: StoreSpec) -> None:
        """Point every lane at new store contents."""
        for pool in self.pools.values():
            pool.reset(spec)
        # A memory store reaches workers through a dump file that close() deletes: a worker
        # started ahead of need could find it gone. Only disk stores are kept warm.
        self._warmable = spec.path is not None
        for lane, pool in self.pools.items():
            for _ in range(pool.size):
                self._warm(lane)

    def _warm(self, lane: str, release: Callable[[], None] | None = None) -> None:
        if self.keep_warm and self._warmable:
            threading.Thread(target=self._warm_up, args=(lane, release), daemon=True,
                             name=f"ckb-warm-{lane}").start()
        elif release is not None:
            release()

    def _warm_up(self, lane: str, release: Callable[[], None] | None) -> None:
        # Through the public run(): a trivial query starts a worker, which then waits idle.
        try:
            with contextlib.suppress(KBError, OSError):
                self.pools[lane].run(QueryRequest("ASK {}", None, None, limit=1, timeout=30.0))
        finally:
            if release is not None:
                release()

    def run(self, job: QueryRequest) -> dict[str, Any]:
        """Run ``job`` in the caller's lane, within what is left of the caller's deadline."""
        lane, deadline = LANE.get(), DEADLINE.get()
        if lane != PROBE:
            return self._run(lane, job, deadline)
        # A new text: an interactive worker, if a probe slot comes free soon; else NoRoom. A client
        # already holding its share of interactive workers would hold the probe slot while it waits.
        if not self.gates[INTERACTIVE].may_take(CLIENT.get()):
            raise NoRoom
        wait = time.monotonic() + PROBE_WAIT
        with contextlib.ExitStack() as held:
            try:
                held.enter_context(self.gates[PROBE].slot(wait if deadline is None else min(deadline, wait)))
            except Overloaded:
                raise NoRoom from None
            return self._run(INTERACTIVE, job, deadline)

    def _run(self, lane: str, job: QueryRequest, deadline: float | None) -> dict[str, Any]:
        with self.gates[lane].slot(deadline, retry_after=job.timeout) as held:
            check_by = None
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise QueryTimeout(job.timeout)
                if left < job.timeout:
                    job = replace(job, timeout=left)
                elif left > job.timeout + 0.05:
                    # A slice shorter than the request's time: the parse check runs first on the
                    # request's time, so a slow parse (a loaded machine) does not make a cheap
                    # query look heavy.
                    check_by = deadline
            try:
                return self.pools[lane].run(job, check_by)
            except QueryTimeout:
                # Its worker was killed: start the next one now. In the heavy lane the slot goes
                # with it, so the query queued next waits (within its deadline) for a started
                # worker instead of starting one on its own time.
                self._warm(lane, held.detach() if lane == HEAVY and self.keep_warm else None)
                raise

    def close(self) -> None:
        """Stop every lane's idle workers."""
        self._warmable = False
        for pool in self.pools.values():
            pool.close()


@contextmanager
def lane(name: str, deadline: float | None) -> Iterator[None]:
    """Run the block's queries in lane ``name``, all answered by ``deadline`` (time.monotonic())."""
    lane_token, deadline_token = LANE.set(name), DEADLINE.set(deadline)
    try:
        yield
    finally:
        LANE.reset(lane_token)
        DEADLINE.reset(deadline_token)
