"""Worker processes: the time limit kills the process doing the work.

Neither rdflib nor Oxigraph can interrupt a running query, so each query and
each update runs in a worker process (``kb.query.engine``) that opens the store
itself (read-only on disk, or from a dump for a memory store) and fences itself
off the network. When a job overruns, the worker is killed and the work really
stops; the next job gets a fresh worker. An engine crash kills a worker, never
the server.

Workers talk length-prefixed pickles over a pair of pipes. They are forked from
a template process that has done the imports (``kb.query.forkserver``), so one starts in
milliseconds; where that cannot work they are plain ``python -c`` subprocesses.
Either way they never re-import the caller's main script (unlike multiprocessing's
spawn), so library users need no ``if __name__`` guard.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

from kb.errors import QueryTimeout, StoreError
from kb.query import memory
from kb.query.engine import StoreSpec, read_frame, write_frame
from kb.query.failures import raise_error
from kb.query.forkserver import TEMPLATE, readable
from kb.store.backend import UpdateRequest

# Run through -c, not -m: "-m kb.query.engine" would load that module twice (as kb.query.engine and __main__).
_CHILD = "import sys; from kb.query.engine import serve; serve(sys.stdin.buffer, sys.stdout.buffer)"
START_TIMEOUT = 60.0
_REAP_TIMEOUT = 60.0  # an update worker is waited for (it holds the store's LOCK until it has ended)

class Worker:
    """One worker process on the store as it was at one generation: asked jobs until killed."""

    def __init__(self, spec: StoreSpec, generation: int, require_fence: bool,
                 start_timeout: float = START_TIMEOUT) -> None:
        self.generation = generation
        self.proc: Any
        try:
            self.proc, self.inp, self.out = TEMPLATE.spawn()
        except (OSError, EOFError, AttributeError):  # no template (no pidfd, or it cannot start)
            self.proc, self.inp, self.out = _popen()
        # A forked worker has the template's working directory, not ours: paths go absolute.
        spec = replace(spec, **{k: os.path.abspath(v) for k in ("path", "dump", "dump_out")
                                if (v := getattr(spec, k)) is not None})
        spec = replace(spec, memory=spec.memory or memory.limit())
        self.memory = spec.memory
        try:
            write_frame(self.inp, spec)
            if not self.wait(start_timeout):
                if start_timeout < START_TIMEOUT:  # the job's own time ran out while it started
                    self.kill()
                    raise QueryTimeout(start_timeout)
                raise EOFError("no answer")
            ready = read_frame(self.out)
        except (EOFError, OSError) as err:
            if self.ended_by_memory():
                self.kill()
                raise StoreError(f"a worker cannot open the store within its memory limit of "
                                 f"{self.memory / 2**20:g} MB; raise --max-memory") from None
            self.kill()
            raise StoreError(f"worker failed to start: {err}") from None
        if "error" in ready:  # it could not open the store (a full disk, a damaged folder)
            self.kill()
            raise StoreError(f"worker failed to start: {ready['message']}")
        self.fresh = True  # no job sent yet: a worker that then fails did not die idle in the pool
        self.fence_problem: str | None = ready.get("fence")
        if self.fence_problem and require_fence:
            self.kill()
            raise StoreError(f"{self.fence_problem}; refusing to run queries without it "
                             "(ckb serve --no-sandbox runs them unfenced)")

    def wait(self, timeout: float) -> bool:
        """True once an answer is ready to read; False when ``timeout`` passes first."""
        return readable(self.out, timeout)

    def alive(self) -> bool:
        """True while the process runs and its pipes are open (a killed worker is never reused)."""
        return not self.inp.closed and self.proc.poll() is None

    def ask(self, job: Any, timeout: float, reap: bool = False) -> dict[str, Any]:
        """Send one job and wait for its answer; QueryTimeout (worker killed) past ``timeout``.

        ``reap``: on a timeout, wait until the killed worker has ended before raising.
        """
        self.fresh = False
        write_frame(self.inp, job)
        if not self.wait(timeout):
            self.kill(wait=reap, within=_REAP_TIMEOUT)
            raise QueryTimeout(job.timeout)
        return read_frame(self.out)

    def ended_by_memory(self, what: str = "query") -> memory.MemoryLimit | None:
        """The error to answer if the worker, now gone, ended at its memory limit; else None."""
        return memory.stopped(self.proc, self.memory, what)

    def kill(self, wait: bool = True, within: float = 5) -> None:
        """Stop the worker at once, whatever it is doing, and reap it (``wait=False``: in the background)."""
        if self.proc.poll() is None:
            self.proc.kill()
        for stream in (self.inp, self.out):
            stream.close()
        if wait:
            self.proc.wait(within)
        else:
            # A dying worker frees its memory at its own CPU priority (a heavy one is niced): on a
            # busy machine that takes seconds, which the request that timed out must not wait for.
            threading.Thread(target=self.proc.wait, daemon=True, name="ckb-reap").start()


def _popen() -> tuple[subprocess.Popen[bytes], Any, Any]:
    env = dict(os.environ)
    # The child must import this very kb package, installed or not.
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    proc = subprocess.Popen([sys.executable, "-c", _CHILD], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            env=env)
    assert proc.stdin is not None and proc.stdout is not None
    return proc, proc.stdin, proc.stdout


def run_update(spec: StoreSpec, job: UpdateRequest, require_fence: bool = False) -> None:
    """Apply one update in a one-shot worker that holds the store for writing; it never outlives its limit.

    When this returns or raises, the worker has ended, so the store's LOCK is free again. A
    QueryTimeout or a StoreError ("stopped without an answer") does not say whether the
    transaction committed before the worker died: the caller looks (kb.store.commits).
    """
    worker = Worker(spec, 0, require_fence)
    try:
        answer = worker.ask(job, job.timeout, reap=True)
    except (EOFError, OSError):
        stopped = worker.ended_by_memory("update")
        if stopped is not None:
            raise stopped from None
        raise StoreError("update failed: the engine stopped without an answer") from None
    except QueryTimeout:
        raise QueryTimeout(job.timeout) from None
    finally:
        # Not ended within a minute: the caller's reopen waits for the LOCK, then reads only.
        with contextlib.suppress(subprocess.TimeoutExpired):
            worker.kill(within=_REAP_TIMEOUT)
    if "error" in answer:
        raise_error(answer, "update")


def one_shot(spec: StoreSpec, require_fence: bool = False, nice: int = 0) -> Worker:
    """Start a worker on the store as it is now for one long job (an export): ask it once, then kill it."""
    worker = Worker(spec, 0, require_fence)
    if nice:
        with contextlib.suppress(OSError):  # it then runs at normal priority
            os.setpriority(os.PRIO_PROCESS, worker.proc.pid, nice)
    return worker
