"""Query workers survive the writer compacting the store under them (issue 8, seen at 10M).

A worker opens the store read-only; RocksDB opens only 16 of the files then and the rest
lazily. Here the writer (the KB's own ``backend.store``, bypassing the write path that would
restart the workers) adds a batch and compacts everything with ``optimize()``, which deletes
the files the worker listed but never opened; the same worker then answers again.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest

from kb import KnowledgeBase

PER_BATCH = 2000
Opened = tuple[KnowledgeBase, Path, int]  # the KB, its store folder, triples written
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
SCAN = "SELECT ?s ?o WHERE { ?s ?p ?o }"


def _graph(i: int) -> ox.NamedNode | ox.DefaultGraph:
    # Default-graph quads too: their indexes come last among the column families, past the
    # files a read-only open loads, so a worker opens them lazily (and finds them gone).
    return ox.DefaultGraph() if i % 2 else ox.NamedNode(f"http://example.org/g{i % 3}")


def _add(store: ox.Store, start: int, n: int) -> None:
    ex = "http://example.org/"
    store.extend(ox.Quad(ox.NamedNode(f"{ex}s{i}"), ox.NamedNode(f"{ex}p{i % 7}"), ox.Literal(str(i)),
                         _graph(i)) for i in range(start, start + n))
    store.flush()  # one flush per batch: each leaves its own SST files


def _ssts(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir() if p.suffix == ".sst"}


def _quiet(folder: Path, still: float = 0.5, limit: float = 30.0) -> None:
    # Wait for the writer's background compactions to finish: the worker must open a folder
    # that stays put until the test itself changes it.
    end = time.monotonic() + limit
    stamp = os.stat(folder).st_mtime_ns
    while time.monotonic() < end:
        time.sleep(still)
        now = os.stat(folder).st_mtime_ns
        if now == stamp:
            return
        stamp = now
    raise AssertionError("the store folder never stopped changing")


@pytest.fixture
def kb(tmp_path: Path) -> Iterator[Opened]:
    folder = tmp_path / "store"
    # One interactive worker, so every query below reaches the same (stale) worker.
    k = KnowledgeBase.open(folder, workers=1, timeout=10)
    # Batches until the settled folder holds more files than a read-only open loads (16):
    # how many it keeps depends on where the writer's compactions stand.
    written = 0
    while written < 40 * PER_BATCH:
        _add(k.backend.store, written, PER_BATCH)
        written += PER_BATCH
        _quiet(folder)
        if len(_ssts(folder)) > 20:
            break
    try:
        yield k, folder, written
    finally:
        k.close()


def _compact_under_the_worker(k: KnowledgeBase, folder: Path) -> None:
    assert k.query("ASK {}").body  # starts the worker: it opens the store and reads nothing
    listed = _ssts(folder)
    assert len(listed) > 20, listed  # else the worker may have opened every file at once
    _add(k.backend.store, 10**7, PER_BATCH)
    k.backend.store.optimize()
    assert len(listed - _ssts(folder)) > len(listed) // 2  # most files the worker listed are gone


def test_a_worker_reopens_when_the_writer_compacted_before_the_job(kb: Opened) -> None:
    k, folder, written = kb
    _compact_under_the_worker(k, folder)
    # Before the fix this aggregate spun in the engine until the time limit (QueryTimeout).
    rows = k.query(COUNT).rows
    assert int(rows[0]["n"]) == written + PER_BATCH  # the reopened view sees the new batch too


def test_a_job_that_meets_a_missing_file_is_retried_on_a_fresh_view(kb: Opened) -> None:
    k, folder, written = kb
    stamp = os.stat(folder).st_mtime_ns
    _compact_under_the_worker(k, folder)
    # Put the folder's mtime back, as if the compaction had landed within one clock tick of
    # the worker's check: the check sees nothing and the job meets the missing file itself.
    os.utime(folder, ns=(os.stat(folder).st_atime_ns, stamp))
    # Before the fix: StoreError "IO error: No such file or directory: While open a file ...".
    result = k.query(SCAN, limit=10 * written)
    assert len(result.rows) == written + PER_BATCH
