"""The benchmark child process: one store, one data file, JSON lines on stdout.

The parent (bench_store) runs one of these per store so ru_maxrss is that store's alone,
and kills it when an operation passes its time limit.
"""

from __future__ import annotations

import json
import resource
import sys
import time

from benchmarks.queries import FIRST_QUERY, QUERIES
from benchmarks.stores import STORES


def _emit(**event: object) -> None:
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


def _rss_kib() -> int:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def _memory() -> None:
    _emit(ev="mem", self_kib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
          children_kib=resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
          rss_kib=_rss_kib())


def run(name: str, data: str, ops: list[str], repeat: int, timeout: float) -> None:
    """Load ``data`` into store ``name`` and run ``ops`` in order, reporting each sample."""
    try:
        store = STORES[name][1]()
    except Exception as exc:  # a store that cannot even open fails its load
        _emit(ev="error", op="load", message=f"{type(exc).__name__}: {exc}"[:300])
        return
    _emit(ev="ready", rss_kib=_rss_kib())
    for op in ops:
        reps = repeat if op in QUERIES else 1
        for rep in range(reps):
            _emit(ev="start", op=op, rep=rep)
            t0 = time.perf_counter()
            try:
                size = _do(store, op, data, timeout)
            except Exception as exc:  # report any failure as the op's result, keep going
                _emit(ev="error", op=op, message=f"{type(exc).__name__}: {exc}"[:300])
                break
            _emit(ev="sample", op=op, rep=rep, seconds=time.perf_counter() - t0, size=size)
            _memory()
    store.close()
    _memory()
    _emit(ev="end")


def _do(store: object, op: str, data: str, timeout: float) -> int | None:
    if op == "load":
        store.load(data)  # type: ignore[attr-defined]
        return None
    if op == "serialise":
        return store.serialise()  # type: ignore[attr-defined]
    if op == "reopen":
        store.reopen()  # type: ignore[attr-defined]
        return None
    if op == "first":
        return store.query(FIRST_QUERY, timeout)
    return store.query(QUERIES[op][1], timeout)  # type: ignore[attr-defined]


def main(argv: list[str]) -> int:
    """Entry point: worker NAME DATA OPS(comma) REPEAT TIMEOUT."""
    name, data, ops, repeat, timeout = argv
    run(name, data, ops.split(","), int(repeat), float(timeout))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
