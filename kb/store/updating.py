"""SPARQL updates on the embedded store, and healing after a fault, without a restart.

An update runs in a one-shot worker (``kb.query.worker``) that holds the store for writing.
A time limit, a crash, a full disk or a ``kill -9`` can end that worker at any moment; then
this process waits until the worker has ended (its RocksDB LOCK is released), reopens the
store (retrying a LOCK the kernel has not dropped yet, and read-only if the disk refuses a
writer, so that reads go on), and tells the writer the truth from the update's commit marker
(``kb.store.commits``): committed, a success; not, an error saying nothing was written. A
store a fault left closed or read-only is reopened by the next request that needs it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import gc
import os
import tempfile
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyoxigraph as ox

from kb.errors import KBError, QueryTimeout, StoreError, StoreFull, UpdateTimeout
from kb.query.engine import StoreSpec
from kb.query.worker import run_update
from kb.store import commits, lifecycle
from kb.store.backend import UpdateRequest
from kb.store.lifecycle import crash_point

if TYPE_CHECKING:
    from collections.abc import Sequence
    from contextlib import AbstractContextManager

_REOPEN_WAIT = 30.0  # seconds a reopen retries a LOCK the killed worker still holds


class Updates:
    """The update path and fault healing of ``kb.store.oxstore.OxigraphBackend`` (a mixin)."""

    path: Path | None
    read_only: bool
    store: ox.Store | None
    sandbox: bool

    if TYPE_CHECKING:
        def _writing(self, recount: Sequence[str] | None = None) -> AbstractContextManager[None]: ...
        def _write_dump(self) -> str: ...
        meta: Any

    def _init_faults(self, path: Path | None) -> None:
        self._writable = not self.read_only  # False while only a read-only handle could be had
        self._reopening = threading.Lock()
        self._markers_left = False
        self.keys = commits.Keys(path)

    def _ensure_open(self, write: bool = False) -> None:
        """Reopen the store if a fault left it closed (or read-only when ``write``); StoreError if not."""
        if self.path is None or self.read_only:
            if self.store is None:
                raise StoreError("the store is closed")
            return
        if self.store is not None and (self._writable or not write):
            return
        problem: Exception | None = None
        with self._reopening:  # several readers may get here at once; one reopens
            if self.store is None or (write and not self._writable):
                problem = self._reopen()
        if self.store is None:
            raise StoreError(f"the store at {self.path} cannot be opened: {problem}")
        if write and not self._writable:
            raise store_error(problem or OSError("it opens read-only"), "the store cannot be written")

    def _reopen(self) -> Exception | None:
        """Open the folder again: for writing if possible, else read-only so that reads go on.

        The previous writer (a killed update worker) has ended, but the kernel may take a
        moment to drop its RocksDB LOCK: a held LOCK is retried for a while.
        """
        assert self.path is not None
        self.store = None
        deadline = time.monotonic() + _REOPEN_WAIT
        while True:
            try:
                self.store = ox.Store(str(self.path))
                self._writable = True
                return None
            except (OSError, RuntimeError) as err:  # RuntimeError: RocksDB's "Corruption: ..."
                problem = err
                if "lock" not in str(err).lower() or time.monotonic() >= deadline:
                    break
                if "current process" in str(err):
                    gc.collect()  # the old handle, kept alive by cyclic garbage (a traceback's frame)
                time.sleep(0.05)
        self._writable = False
        with contextlib.suppress(OSError, RuntimeError):
            self.store = ox.Store.read_only(str(self.path))  # a full disk still reads
        return problem

    def update(self, request: UpdateRequest) -> None:
        """Apply an update in a fenced one-shot worker that holds the store for writing.

        The update is one Oxigraph transaction, with its commit marker. Whatever ends the
        worker, the answer is the truth: it returns if the update committed, and raises an
        error saying nothing was written if it did not.
        """
        with self._writing(recount=lifecycle.touched_graphs(request.update, self.meta.graphs)):
            if request.key and self.keys.seen(request.key):
                return  # that very update committed before: the same success, not a second write
            if self.path is None:
                self._update_in_memory(request)
                return
            assert self.store is not None
            if self._markers_left:
                self._settle()
            marker, insert = commits.new_marker(request.key)
            self.store.flush()
            self.store = None  # RocksDB allows one writer: the worker takes the store meanwhile
            failure: KBError | None = None
            try:
                run_update(StoreSpec(path=str(self.path), write=True),
                           dataclasses.replace(request, marker=insert), self.sandbox)
            except KBError as err:
                failure = err
            finally:
                problem = self._reopen()  # the worker has ended: its LOCK is free or about to be
            if self.store is None:
                if failure is None:
                    return  # the worker committed; the store reopens on the next request
                raise StoreError(f"{failure}; whether it was written is unknown: the store cannot be "
                                 f"reopened ({problem})")
            if failure is not None and not commits.committed(self.store, marker):
                raise nothing_written(failure)
            crash_point("before-settle")
            self._settle()  # a success, whatever became of the worker after its commit

    def _settle(self) -> None:
        """Record committed updates' keys and delete their markers (left for later if the disk refuses)."""
        assert self.store is not None
        try:
            commits.settle(self.store, self.keys)
            self.store.flush()
            self._markers_left = False
        except (OSError, RuntimeError):
            self._markers_left = True

    def _update_in_memory(self, request: UpdateRequest) -> None:
        # The worker writes the new contents to a file; this process's store is replaced only
        # once the file is whole, so a worker that dies has changed nothing.
        fd, out = tempfile.mkstemp(prefix="ckb-updated-", suffix=".nq")
        os.close(fd)
        try:
            try:
                spec = StoreSpec(dump=self._write_dump(), write=True, dump_out=out)
                run_update(spec, request, self.sandbox)
            except KBError as err:
                raise nothing_written(err) from None
            fresh = ox.Store()
            fresh.bulk_load(path=out, format=ox.RdfFormat.N_QUADS)
            self.store = fresh
            if request.key:
                self.keys.add([request.key])
        finally:
            with contextlib.suppress(OSError):
                os.unlink(out)


class Lease:
    """The open store, lent to a reader for as long as it holds the read lock.

    RocksDB allows one handle per folder in a process: a reopen (after an update worker, a
    rebuild's swap, a fault) fails, and the old handle would go on compacting files by their
    path, while any reference to it lives. A reader that kept the store in a local variable
    past its read lock (a page waiting for its next lookup, a bitmap read between steps) did
    exactly that. The lease forwards every call to the store and is revoked when the lock is
    released, so no reference outlives it.
    """

    __slots__ = ("_store",)

    def __init__(self, store: ox.Store) -> None:
        self._store: ox.Store | None = store

    def __getattr__(self, name: str) -> Any:
        store = self._store
        if store is None:
            raise StoreError("the store was read after its read lock was released")
        return getattr(store, name)

    def revoke(self) -> None:
        """Drop the reference: the lock is released."""
        self._store = None


def disk_full(err: BaseException) -> bool:
    """True if ``err`` says the disk is full."""
    return getattr(err, "errno", None) == errno.ENOSPC or "No space left on device" in str(err)


def store_error(err: Exception, what: str) -> StoreError:
    """A store error for the client: a full disk is a 507 (StoreFull), anything else a 500."""
    if disk_full(err):
        return StoreFull(f"{what}: the disk is full (free some space; reads still work)")
    return StoreError(f"{what}: {err}")


def nothing_written(err: KBError) -> KBError:
    """The error an update that did not commit answers with: what stopped it, and that nothing was written."""
    if isinstance(err, QueryTimeout):
        return UpdateTimeout(err.seconds)
    if not isinstance(err, StoreError) or "nothing was written" in str(err):
        return err  # a refusal (bad syntax, a forbidden operation) already writes nothing
    if disk_full(err):
        return StoreFull("the update could not be written: the disk is full; nothing was written")
    return StoreError(f"{err}; nothing was written")


__all__ = ["Lease", "Updates", "disk_full", "nothing_written", "store_error"]
