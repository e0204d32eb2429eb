"""The embedded store: Oxigraph on disk (default) or in memory."""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import os
import tempfile
import time
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from kb.errors import StoreError, StoreFull
from kb.namespaces import GRAPH_BASE
from kb.query.engine import StoreSpec
from kb.query.results import QueryResult
from kb.query.scheduling import LanePools
from kb.query.worker import one_shot
from kb.store import commits, lifecycle
from kb.store.backend import QueryRequest
from kb.store.graphops import OneGraphAtATime
from kb.store.lifecycle import Meta, crash_point
from kb.store.record import StoreRecord
from kb.store.replace import GraphReplacement
from kb.store.rwlock import RWLock as _RWLock
from kb.store.updating import Lease, Updates, disk_full, store_error


class OxigraphBackend(StoreRecord, Updates, GraphReplacement, OneGraphAtATime):
    """Oxigraph behind the Backend protocol; queries run in killable workers."""

    # Graphs outside these namespaces belong to someone else: a rebuild carries them over.
    graph_prefixes: tuple[str, ...] = (GRAPH_BASE,)

    def __init__(
        self,
        path: Path | None = None,
        workers: int = 2,
        read_only: bool = False,
        sandbox: bool = False,
        heavy_workers: int = 1,
    ) -> None:
        self.path = path
        self.sandbox = sandbox  # True: refuse to run a job in a worker that is not fenced off the network
        self.read_only = read_only and path is not None
        self._lock_fd: int | None = None
        self._init_faults(path)
        notes: list[str] = []
        self.store: ox.Store | None
        try:
            if path is None:
                self.store = ox.Store()
            elif self.read_only:
                self.store = ox.Store.read_only(str(path))
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                self._lock_fd = lifecycle.take_lock(path)
                notes += lifecycle.recover_folders(path)  # before opening: a swap may have lost the folder
                self.store = _open_writable(path)
                if (n := commits.settle(self.store, self.keys)):
                    notes.append(f"removed {n} commit marker(s) a crash left (their updates had committed)")
        except OSError as err:
            lifecycle.release_lock(self._lock_fd)
            raise store_error(err, f"cannot open store at {path}") from err
        self._lock = _RWLock()
        # Interactive and heavy queries run on separate workers (kb.query.scheduling).
        self._pool = LanePools(workers, heavy_workers, require_fence=sandbox)
        self._stale = True
        # Counts every write (kept or failed): pages cached for an older generation are stale.
        self.generation = 0
        self._dump: weakref.finalize | None = None
        self.meta = Meta()
        self._open_meta(notes)
        # One line saying what recovery on open did, for the CLI and the server to show.
        self.recovered = "; ".join(notes) or None

    @property
    def bundle(self) -> str | None:
        """The fingerprint of the bundle this store was built from, if it was."""
        return self.meta.bundle

    def set_bundle(self, fingerprint: str | None) -> None:
        """Record which bundle the store now holds (None: not the bundle)."""
        if not self.read_only:
            with self._lock.write():
                self._commit(Meta(graphs=self.meta.graphs, bundle=fingerprint))

    def mark_claim_index(self, generation: int, wrote: bool, rules: str) -> bool:
        """Record the sidecar claim index stamped ``rules`` (fingerprint and build tag) as current, if
        its own write (when it ``wrote`` one) is the only one since ``generation`` (kb.derived.claimindex
        read the store at that generation); every later write commits a record without it."""
        with self._lock.write():
            if self.store is None or self.generation != generation + int(wrote):
                return False
            self._commit(dataclasses.replace(self.meta, claim_index=rules))
            return True

    # -- reading ---------------------------------------------------------
    def graphs(self) -> dict[str, int]:
        """Return each named graph IRI with its number of triples (from the metadata)."""
        with self._lock.read():
            return dict(self.meta.graphs)

    def query(self, request: QueryRequest) -> QueryResult:
        """Check and evaluate a read-only query in a fenced worker, within time and row caps."""
        with self._lock.read():
            if self._stale:
                self._refresh_workers()
            start = time.monotonic()
            answer = self._pool.run(request)
        return QueryResult.from_answer(answer, time.monotonic() - start, request.limit)

    def start_reader(self, nice: int = 0) -> tuple[int, Any]:
        """A one-shot worker opened on the store as it is now, and the generation it sees."""
        with self._lock.read():
            if self.store is None:
                raise StoreError("the store is closed")
            generation = self.generation
            if self.path is not None:
                return generation, one_shot(StoreSpec(path=str(self.path)), self.sandbox, nice)
            # A memory store reaches the worker as a dump of its own, which the worker reads
            # while it starts: removed once it has.
            fd, dump = tempfile.mkstemp(prefix="ckb-export-", suffix=".nq")
            os.close(fd)
            try:
                self.store.dump(output=dump, format=ox.RdfFormat.N_QUADS)
                return generation, one_shot(StoreSpec(dump=dump), self.sandbox, nice)
            finally:
                _unlink(dump)

    @contextmanager
    def reading(self) -> Iterator[ox.Store]:
        """The open store for pattern lookups in this process (kb.views.lookups); writers wait for it."""
        with self._lock.read():
            self._ensure_open()
            assert self.store is not None
            lease = Lease(self.store)  # revoked with the lock: no reference outlives it
            try:
                yield lease  # type: ignore[misc]
            finally:
                lease.revoke()

    def require_fence(self) -> None:
        """Refuse unfenced workers from now on; StoreError now if the fence cannot be set up."""
        self.sandbox = True
        self._pool.require_fence = True
        self.fence_problem()  # starts a worker, which refuses to serve unfenced

    def fence_problem(self) -> str | None:
        """Why the workers are not fenced off the network, or None if they are."""
        with self._lock.read():
            if self._stale:
                self._refresh_workers()
            return self._pool.fence_problem()

    def _refresh_workers(self) -> None:
        # Several readers may get here: one resets (a second reset's dump deleted the first's
        # while workers were reading it: "worker failed to start" on a memory store).
        with self._reopening:
            if self._stale:
                spec = StoreSpec(path=str(self.path)) if self.path else StoreSpec(dump=self._write_dump())
                self._pool.reset(spec)
                self._stale = False

    def _write_dump(self) -> str:
        # A memory store reaches its workers as a dump file: written once per change,
        # read by each worker that starts, and never held in this process's memory.
        fd, dump = tempfile.mkstemp(prefix="ckb-memory-", suffix=".nq")
        os.close(fd)
        self.store.dump(output=dump, format=ox.RdfFormat.N_QUADS)
        self._drop_dump()
        # finalize also runs at interpreter exit, for a KB nobody closed.
        self._dump = weakref.finalize(self, _unlink, dump)
        return dump

    def _drop_dump(self) -> None:
        if self._dump is not None:
            self._dump()
            self._dump = None

    def quads(self, graph: str | None = None) -> Iterator[ox.Quad]:
        """Iterate the quads of one graph, or of every graph (never staging ones)."""
        self._ensure_open()
        store = self.store
        assert store is not None
        if graph is None:  # the default graph holds what updates wrote without naming a graph
            yield from store.quads_for_pattern(None, None, None, ox.DefaultGraph())
        for name in [graph] if graph else list(self.graphs()):
            yield from store.quads_for_pattern(None, None, None, ox.NamedNode(name))

    # -- writing ---------------------------------------------------------
    @contextmanager
    def _writing(self, recount: Sequence[str] | None = None) -> Iterator[None]:
        """Hold the write lock with the workers stopped; with ``recount``, refresh those counts after."""
        if self.read_only:
            raise StoreError(f"the store at {self.path} is open read-only; nothing was written")
        with self._lock.write():
            try:
                self._ensure_open(write=True)  # after a fault (a full disk): as soon as it can be
            except StoreError as err:
                raise type(err)(f"{err}; nothing was written") from None
            self._pool.close()  # no reader may hold the files while they change
            if self.path is not None:
                gc.collect()  # an old handle only cyclic garbage holds would block a reopen (Lease)
            if recount is not None and self.meta.recount:
                recount = list(dict.fromkeys([*recount, *self.meta.recount]))  # a refresh a fault cut short
            try:
                if recount is not None:
                    # Written first, so a crash mid-write leaves word to recount on open.
                    self._commit(Meta(graphs=self.meta.graphs, bundle=self.meta.bundle,
                                      recount=list(recount)))
                elif self.meta.claim_index or self.meta.pending or self.meta.swaps:
                    # Written first, so a crash mid-write leaves the claim index marked stale (and no
                    # journal of an earlier write that failed can name a graph this one creates).
                    self._commit(Meta(graphs=self.meta.graphs, bundle=self.meta.bundle))
            except OSError as err:
                raise store_error(err, "cannot write the store's metadata; nothing was written") from None
            try:
                yield
                crash_point("after-write")
            except (OSError, RuntimeError) as err:
                if not disk_full(err):
                    raise
                # RocksDB refuses writes after one failed for space: a fresh handle replaces it.
                self._reopen()
                raise StoreFull("the disk is full; nothing was written") from None
            finally:
                self._stale = True
                self.generation += 1
                try:
                    if recount is not None:
                        self._commit(self._refreshed(self.meta, recount))
                    elif self.path is not None and self.store is not None and self._writable:
                        self.store.flush()
                except (OSError, RuntimeError, AttributeError):
                    # The store is read-only or gone after a fault: the metadata still lists
                    # what to recount, and the next write or open does it.
                    pass

    def close(self) -> None:
        """Stop the workers and release the store (after the reads and writes under way)."""
        with self._lock.write():  # a background job (the claim index) may still be reading
            self._pool.close()
            self._drop_dump()
            if self.path is not None and self._writable and self.store is not None:
                with contextlib.suppress(OSError, RuntimeError):  # a full disk: nothing left to lose
                    self.store.flush()
            self.store = None  # dropping the last reference closes RocksDB (see _open_writable)
            lifecycle.release_lock(self._lock_fd)
            self._lock_fd = None


def _open_writable(path: Path) -> ox.Store:
    """Open the folder for writing; a handle this process dropped but cyclic garbage still holds
    (a failed write's traceback frames) keeps RocksDB's LOCK until it is collected."""
    try:
        return ox.Store(str(path))
    except OSError as err:
        if "current process" not in str(err):
            raise
    gc.collect()
    return ox.Store(str(path))


def _unlink(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


