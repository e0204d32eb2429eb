"""A pool of query workers bound to one store generation (each a process: kb.query.workerproc).

A job waits for an idle worker until its deadline; a worker of an older generation is killed
rather than reused, and a job past its time limit kills its worker (the next job gets a fresh
one).
"""

from __future__ import annotations

import threading
import time
import weakref
from typing import Any

from kb.errors import QueryTimeout, StoreError
from kb.query.engine import StoreSpec
from kb.query.failures import raise_error, syntax_error
from kb.query.workerproc import START_TIMEOUT, Worker, one_shot, run_update
from kb.store.backend import CheckRequest, QueryRequest

__all__ = ["StoreSpec", "Worker", "WorkerPool", "check", "one_shot", "run_update", "syntax_error"]


def _kill_all(workers: list[Worker]) -> None:
    for worker in workers[:]:
        worker.kill()
    workers.clear()


def check(pool: WorkerPool, text: str, update: bool, timeout: float) -> bool:
    """Parse-check a query or update in a fenced worker; True if it names its own dataset."""
    return pool.run(CheckRequest(text, update, timeout))["has_dataset"]


class WorkerPool:
    """A small pool of query workers bound to one store generation."""

    def __init__(self, size: int = 2, require_fence: bool = False) -> None:
        self.size = size
        self.require_fence = require_fence
        self._spec: StoreSpec | None = None
        self._generation = 0
        self._idle: list[Worker] = []
        self._busy = 0
        self._cond = threading.Condition()
        # A pool nobody closed (a KnowledgeBase dropped without close()) still stops its workers.
        weakref.finalize(self, _kill_all, self._idle)

    def reset(self, spec: StoreSpec) -> None:
        """Point the pool at new store contents; idle workers are retired now, busy ones on return."""
        with self._cond:
            self._spec = spec
            self._generation += 1
            idle = self._idle[:]
            self._idle.clear()  # in place: the finaliser holds this very list
        for worker in idle:
            worker.kill()

    def _acquire(self, deadline: float | None = None, limit: float = 0.0) -> Worker:
        # ``deadline``: the job's end (time.monotonic()); waiting and starting a worker count
        # against it, so a job never ends later than its limit ( QueryTimeout(limit) instead).
        with self._cond:
            while not self._idle and self._busy >= self.size:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    raise QueryTimeout(limit)
                self._cond.wait(left)
            self._busy += 1
            worker, dead = None, []
            while self._idle and worker is None:
                worker = self._idle.pop()
                if not worker.alive():  # killed while idle (OOM killer, kill -9): replaced, never reused
                    dead.append(worker)
                    worker = None
            spec, generation = self._spec, self._generation
        for gone in dead:
            gone.kill()
        if worker is None:
            try:
                assert spec is not None, "WorkerPool.reset() must be called first"
                start = START_TIMEOUT if deadline is None else deadline - time.monotonic()
                worker = Worker(spec, generation, self.require_fence, max(min(start, START_TIMEOUT), 0.0))
            except BaseException:
                self._release(None)
                raise
        return worker

    def _release(self, worker: Worker | None) -> None:
        with self._cond:
            self._busy -= 1
            if worker is not None and worker.generation == self._generation:
                self._idle.append(worker)
                worker = None
            self._cond.notify()
        if worker is not None:
            worker.kill()

    def fence_problem(self) -> str | None:
        """Start a worker and say why its network fence is missing (None: it is fenced)."""
        worker = self._acquire()
        try:
            return worker.fence_problem
        finally:
            self._release(worker)

    def run(self, job: QueryRequest | CheckRequest, check_by: float | None = None) -> dict[str, Any]:
        """Run a query (or only its check); kill its worker and raise QueryTimeout past its time limit.

        ``check_by`` (time.monotonic()): check the query first, by then, and start its limit only
        once it is checked (a short slice is then the engine's time, not the parser's).
        """
        first = check_by is not None and isinstance(job, QueryRequest) and job.check
        # The limit counts from here: a worker that has to start first starts on the job's time.
        deadline = time.monotonic() + job.timeout
        for attempt in (1, 2):
            worker: Worker | None = self._acquire(check_by if first else deadline, job.timeout)
            assert worker is not None
            idle = not worker.fresh
            answer: dict[str, Any] = {}
            try:
                if first:
                    assert check_by is not None and isinstance(job, QueryRequest)
                    answer = self._check_first(worker, job, check_by)
                else:
                    answer = worker.ask(job, deadline - time.monotonic())
                break
            except QueryTimeout:
                if not worker.alive():
                    worker = None  # ask() killed it
                raise
            except (EOFError, OSError) as err:
                stopped = worker.ended_by_memory()
                worker.kill()
                worker = None
                if stopped is not None:
                    raise stopped from None
                # A worker that died while it sat idle (between the pool's check and this job)
                # failed no job: the job (a read) runs once more on a fresh one.
                if attempt == 1 and idle:
                    continue
                raise StoreError(f"query failed: the engine stopped without an answer ({err})") from None
            finally:
                if worker is not None and answer.get("retire"):
                    worker.kill()  # it ends itself after a MemoryError: never hand it out again
                    worker = None
                self._release(worker)
        if "error" in answer:
            raise_error(answer)
        return answer

    @staticmethod
    def _check_first(worker: Worker, job: QueryRequest, check_by: float) -> dict[str, Any]:
        left = check_by - time.monotonic()
        if left <= 0:
            raise QueryTimeout(job.timeout)
        checked = worker.ask(CheckRequest(job.query, False, left), left)  # cached in this worker
        if "error" in checked:
            return checked
        limit = min(job.timeout, check_by - time.monotonic())
        if limit <= 0:
            raise QueryTimeout(job.timeout)
        return worker.ask(job, limit)

    def close(self) -> None:
        """Stop every idle worker (busy ones stop when they return)."""
        with self._cond:
            self._generation += 1
            idle = self._idle[:]
            self._idle.clear()
        for worker in idle:
            worker.kill()
