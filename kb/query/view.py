"""A query worker's view of the store, reopened when the writer has swapped files under it.

A read-only RocksDB instance knows the SST files listed in the MANIFEST it read at open,
but opens only the first 16 of them then and the rest on first use. The process that holds
the store writable keeps compacting in the background (after a bulk load, or just after
opening a big store) and deletes the files it merged: a worker that touches one of those
later fails with ``IO error: No such file or directory: While open a file for random read``.
Worse, Oxigraph 0.5.13 does not always surface that error: an aggregate or an ORDER BY over
the failing scan spins until the job's time limit kills the worker. An open that races a
compaction fails the same way (as a RuntimeError, "Corruption: ... IO error: ...").

So a worker checks, before each job, whether files were added to or removed from the store
folder since it opened it (one ``stat``: creating or deleting a file changes the folder's
mtime), and reopens if so; a fresh ``Store.read_only`` reads the current MANIFEST. A job that
still meets a missing file (the folder changed within one clock tick of the check, or a
compaction ran during the job) is retried once on a reopened store (``kb.query.engine``), and
an open that meets one is tried again (up to three times).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import pyoxigraph as ox


@dataclass(frozen=True)
class StoreSpec:
    """Where a worker finds the store, and how it may use it."""

    path: str | None = None  # a store directory
    dump: str | None = None  # or an N-Quads dump of a memory store
    write: bool = False  # open read-write (an update worker) instead of read-only
    dump_out: str | None = None  # memory store: where an update worker writes the new contents
    memory: int = 0  # bytes of writable memory the worker may use (kb.query.memory; 0: no limit)


_OPEN_ATTEMPTS = 3


def missing_file(err: BaseException) -> bool:
    """True if the engine failed because a store file it listed is gone (compacted away)."""
    # RocksDB's status text, as Oxigraph passes it on: FileNotFoundError from a query, a
    # RuntimeError ("Corruption: ... IO error: ...") from an open that raced a compaction.
    # Narrow on purpose: any other I/O error (a full disk, a permission) is reported, not retried.
    return (isinstance(err, (OSError, RuntimeError))
            and "IO error: No such file or directory: While open a file" in str(err))


def open_store(spec: StoreSpec) -> ox.Store:
    """Open the store the way ``spec`` says: a folder (read-only unless ``write``), or a dump in memory."""
    if spec.path is not None:
        return ox.Store(spec.path) if spec.write else ox.Store.read_only(spec.path)
    store = ox.Store()
    if spec.dump:
        store.load(path=spec.dump, format=ox.RdfFormat.N_QUADS)
    return store


class StoreView:
    """The store a worker reads, reopened when the writer has changed its files."""

    def __init__(self, spec: StoreSpec) -> None:
        self.spec = spec
        # Only a read-only view of a folder can go stale: a writer sees its own changes, and a
        # memory store is this process's own copy.
        self.reopenable = spec.path is not None and not spec.write
        self._stamp: int | None = None
        self.store: ox.Store | None = None
        self.reopen()

    def _folder_stamp(self) -> int | None:
        if not self.reopenable:
            return None
        assert self.spec.path is not None
        return os.stat(self.spec.path).st_mtime_ns

    def reopen(self) -> ox.Store:
        """Open the store afresh, reading its current file list."""
        # Stamp first: a file swapped while the store opens shows as a change at the next check.
        self._stamp = self._folder_stamp()
        self.store = None  # closes the old instance (and its file handles) before the new one opens
        attempt = 1
        while True:
            try:
                self.store = open_store(self.spec)
                return self.store
            except (OSError, RuntimeError) as err:
                # The writer deleted a file between the MANIFEST read and the file's open: the
                # next try reads the MANIFEST that no longer lists it.
                if not (self.reopenable and missing_file(err)) or attempt >= _OPEN_ATTEMPTS:
                    raise
            attempt += 1
            self._stamp = self._folder_stamp()

    def current(self) -> ox.Store:
        """The store, reopened first if files were added to or removed from its folder since it was opened."""
        if self.reopenable:
            try:
                changed = self._folder_stamp() != self._stamp
            except OSError:  # the folder is away (a rebuild swapping it): the open view reads its own files
                changed = False
            if changed:
                return self.reopen()
        assert self.store is not None
        return self.store
