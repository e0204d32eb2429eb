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
interactive worker, so known cheap work always finds one free. Who gets a lane's freed worker
is the Gate's business (kb.query.gate).
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import replace
from typing import Any

from kb.errors import KBError, QueryTimeout
from kb.query.engine import StoreSpec
from kb.query.forkserver import TEMPLATE
from kb.query.gate import CLIENT, Gate, NoRoom, Overloaded
from kb.query.worker import WorkerPool
from kb.store.backend import QueryRequest

INTERACTIVE, HEAVY, PROBE = "interactive", "heavy", "probe"
LANE: ContextVar[str] = ContextVar("ckb_lane", default=INTERACTIVE)
HEAVY_NICE = 10  # CPU weight ~1/9 of a normal process's when both want the core
PROBE_WAIT = 0.5  # seconds a new text waits for a probe slot before it goes to the heavy lane
DEADLINE: ContextVar[float | None] = ContextVar("ckb_deadline", default=None)  # time.monotonic()


# The worker template (kb.query.forkserver) starts as soon as the query path is imported: its own
# imports (~0.9 s) then overlap the caller's imports and the store's open, and the first query
# forks a worker instead of waiting for them. Idle, it only sleeps in a read.
with contextlib.suppress(OSError):
    TEMPLATE.start()


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
