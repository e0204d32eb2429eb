"""Memory limits of the workers: a query, an update or an upload cannot take the machine's memory.

Each worker (``kb.query.engine``) limits itself, right after it starts and before it opens the
store, with ``setrlimit(RLIMIT_DATA)``: the writable private memory it may map (heap, anonymous
maps, thread stacks). Not RLIMIT_AS: a worker's address space is 370-500 MB before it has read
anything, most of it reserved but never touched (glibc keeps 64 MB per thread for malloc arenas,
RocksDB starts threads), so a limit on it would depend on the thread count rather than on what
a query uses; its writable memory is ~80 MB at rest. Not a cgroup: a cgroup v2 ``memory.max``
needs a delegated, writable cgroup, which neither a container nor a user session usually gives.

An engine that passes its limit cannot allocate: Oxigraph (Rust) aborts the worker ("memory
allocation of N bytes failed", SIGABRT), Python raises MemoryError. Either way the parent answers
MemoryLimit (503, with the limit in the message), never a 500, and the worker is replaced.
Answers are bounded too: one larger than ``answer_limit`` is refused in the worker, before
it is copied to the server.

The limit is per worker, ``ckb serve --max-memory MB`` (or $CKB_MAX_MEMORY), default 1024 MB;
the workers together stay under their number times that (``total``).
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
from typing import Any

from kb.errors import KBError

DEFAULT_MAX_MEMORY_MB = 1024  # writable memory of each worker; at rest one uses ~80 MB
MIN_MAX_MEMORY_MB = 256  # below this a worker cannot even open a store and parse a query
ANSWER_LIMIT = 64 * 2**20  # bytes: the largest answer a worker sends (at most a quarter of its limit)
_MB = 2**20


class MemoryLimit(KBError):
    """A query, update or upload needed more memory than its worker may use; it was stopped."""

    status = 503


def _from_environment() -> int:
    text = os.environ.get("CKB_MAX_MEMORY", "").strip()
    try:
        value = float(text) if text else DEFAULT_MAX_MEMORY_MB
    except ValueError:
        value = DEFAULT_MAX_MEMORY_MB
    return int(max(value, MIN_MAX_MEMORY_MB) * _MB)


_limit = _from_environment()


def set_limit(megabytes: float) -> None:
    """Set the memory limit (MB) of every worker started from now on in this process."""
    global _limit
    if megabytes < MIN_MAX_MEMORY_MB:
        raise KBError(f"--max-memory must be at least {MIN_MAX_MEMORY_MB} MB; got {megabytes:g}")
    _limit = int(megabytes * _MB)


def limit() -> int:
    """Bytes of writable memory each worker may use."""
    return _limit


def total(workers: int) -> int:
    """Bytes the given number of workers may use together."""
    return workers * _limit


def answer_limit(worker_limit: int) -> int:
    """The largest answer (bytes) a worker with ``worker_limit`` sends; larger ones are refused."""
    return min(ANSWER_LIMIT, worker_limit // 4) if worker_limit else ANSWER_LIMIT


def confine(limit_bytes: int) -> None:
    """In a worker: never use more than ``limit_bytes`` of writable memory (0: no limit)."""
    if limit_bytes > 0:
        resource.setrlimit(resource.RLIMIT_DATA, (limit_bytes, limit_bytes))


def exceeded(limit_bytes: int, what: str = "query") -> MemoryLimit:
    """The error for a job stopped at its worker's memory limit."""
    return MemoryLimit(f"the {what} needed more than the {limit_bytes / _MB:g} MB of memory a worker may "
                       "use and was stopped; narrow it (fewer rows, shorter strings) or raise --max-memory")


def too_large(size: int, limit_bytes: int) -> dict[str, str]:
    """A worker's answer refusing to send ``size`` bytes."""
    return {"error": "MemoryLimit",
            "message": f"the answer is {size / _MB:.1f} MB, more than the {limit_bytes / _MB:g} MB a "
                       "worker sends; add a LIMIT or select shorter values"}


def ended_by_limit(status: int | None, limit_bytes: int) -> bool:
    """True if a worker that had ``limit_bytes`` ended as an engine that could not allocate does."""
    # Rust's handler for a failed allocation aborts (SIGABRT), as C++'s std::bad_alloc does.
    return bool(limit_bytes) and status == -signal.SIGABRT


def stopped(proc: Any, limit_bytes: int, what: str = "query") -> MemoryLimit | None:
    """The error to answer if worker ``proc`` (gone without an answer) ended at its limit; else None."""
    if hasattr(proc, "exit_status"):  # forked from the template (kb.query.forkserver), which reaped it
        status = proc.exit_status()
    else:  # a subprocess of this one
        try:
            status = proc.wait(2)
        except subprocess.TimeoutExpired:
            status = None
    return exceeded(limit_bytes, what) if ended_by_limit(status, limit_bytes) else None
