"""Exports as files: built once per store generation in a worker, then sent from disk.

A request for a whole graph (an /export download, a Graph Store GET) asks for the file of the
store's current generation. The first request starts its build in a one-shot worker at low CPU
priority (kb.export.stream writes it; the server process never holds the statements); the same
file for the same generation is built once, whoever asks and however many at once, and at most
BUILDS builds run at a time (MAX_PENDING more wait; beyond: 503). A request waits for the file
only until its own deadline (then 503 with Retry-After while the build goes on).

The files live in a derived folder beside the store (``<store>.cache/exports``; a temporary
folder for a memory store). They are derived: the folder is emptied when a server starts (an
earlier run's generation numbers mean nothing now), older generations are removed once a newer
one is built, and deleting any of it costs only the time to build again.
"""

from __future__ import annotations

import contextlib
import hashlib
import shutil
import tempfile
import threading
import time
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kb.errors import KBError, QueryTimeout, StoreError
from kb.export.rdf import FORMATS
from kb.export.stream import PRETTY_LIMIT
from kb.query.scheduling import HEAVY_NICE, Overloaded
from kb.store.backend import ExportRequest

BUILD_TIMEOUT = 600.0  # seconds one build may take (a worker killed past it)
BUILDS = 1  # builds running at once
MAX_PENDING = 4  # builds waiting for their turn (503 beyond)


@dataclass(frozen=True)
class Scope:
    """What one export holds: graph IRIs ("" = the store's default graph) and N-Quads to append."""

    name: str  # a file-name stem
    graphs: tuple[str, ...]
    extra: bytes = b""
    size: int | None = None  # statements, when known (None: assume large)

    def key(self, fmt: str) -> str:
        """A file name for this scope in ``fmt``."""
        digest = hashlib.blake2b(repr((self.graphs, fmt)).encode() + self.extra, digest_size=10)
        stem = "".join(c if c.isalnum() or c in "-_" else "-" for c in self.name)[:40]
        return f"{stem}-{digest.hexdigest()}.{FORMATS[fmt].extension}"


@dataclass
class _Build:
    done: threading.Event = field(default_factory=threading.Event)
    path: Path | None = None
    error: Exception | None = None


class ExportFiles:
    """The export files of one KnowledgeBase over the embedded store."""

    def __init__(self, kb: Any, folder: Path | None = None, timeout: float = BUILD_TIMEOUT) -> None:
        self.kb = kb
        self.timeout = timeout
        store = getattr(kb.backend, "path", None)
        if folder is None and store is not None:
            folder = Path(str(store) + ".cache") / "exports"
            try:
                shutil.rmtree(folder, ignore_errors=True)  # derived, and of another run's generations
                folder.mkdir(parents=True, exist_ok=True)
            except OSError:  # a store beside which nothing may be written: a folder of our own
                folder = None
        if folder is None:
            folder = Path(tempfile.mkdtemp(prefix="ckb-exports-"))
            weakref.finalize(self, shutil.rmtree, folder, True)
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self._builds: dict[tuple[int, str], _Build] = {}
        self._failed: dict[tuple[int, str], Exception] = {}
        self._lock = threading.Lock()
        self._turn = threading.Semaphore(BUILDS)

    def file(self, scope: Scope, fmt: str, deadline: float) -> Path:
        """The file of ``scope`` in ``fmt`` at the current generation, waited for until ``deadline``."""
        generation = int(self.kb.generation() or 0)
        name = scope.key(fmt)
        path = self.folder / f"g{generation}" / name
        if path.is_file():
            return path
        key = (generation, name)
        with self._lock:
            if key in self._failed:
                raise self._failed[key]
            build = self._builds.get(key)
            if build is None:
                if len(self._builds) >= BUILDS + MAX_PENDING:
                    raise Overloaded("too many exports are being prepared; retry later", 30)
                build = self._builds[key] = _Build()
                threading.Thread(target=self._build, args=(key, scope, fmt, build), daemon=True,
                                 name="ckb-export").start()
        if not build.done.wait(max(0.0, deadline - time.monotonic())):
            raise Overloaded("the export is being prepared; retry in a little while", 10)
        if build.error is not None:
            raise build.error
        assert build.path is not None
        return build.path

    def _build(self, key: tuple[int, str], scope: Scope, fmt: str, build: _Build) -> None:
        try:
            with self._turn:
                build.path = self._write(scope, fmt, key[1])
        except Exception as err:  # every failure reaches the waiting requests as a clear answer
            build.error, remember = _failure(err, self.timeout)
            if remember:  # the same generation would fail the same way: not built again
                with self._lock:
                    self._failed = {k: v for k, v in self._failed.items() if k[0] >= key[0]}
                    self._failed[key] = build.error
        finally:
            with self._lock:
                self._builds.pop(key, None)
            build.done.set()

    def _write(self, scope: Scope, fmt: str, name: str) -> Path:
        generation, worker = self.kb.backend.start_reader(nice=HEAVY_NICE)
        folder = self.folder / f"g{generation}"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / name
        job = ExportRequest(list(scope.graphs), fmt, str(path), self.timeout, dict(self.kb.prefixes),
                            scope.extra, pretty=None if scope.size is None else scope.size <= PRETTY_LIMIT)
        try:
            answer = worker.ask(job, self.timeout)
        except (EOFError, OSError):
            raise KBError("export failed: the engine stopped without an answer") from None
        finally:
            worker.kill(wait=False)
        if "error" in answer:
            message = answer.get("message", "export failed")
            if answer["error"] == "KBError":  # the format cannot express the data: so it stays
                raise KBError(message)
            raise StoreError(message)  # the store or the disk: another try may work
        if self.kb.generation() != generation and getattr(self.kb.backend, "path", None) is not None:
            # A write came while the worker read a store on disk: it may have read some of it.
            with contextlib.suppress(OSError):
                path.unlink()
            raise Overloaded("the store changed while the export was written; retry", 2)
        for old in self.folder.glob("g*"):
            if old.name != folder.name and old.name[1:].isdigit() and int(old.name[1:]) < generation:
                shutil.rmtree(old, ignore_errors=True)  # an open file is still sent whole (POSIX)
        return path


def _failure(err: Exception, timeout: float) -> tuple[Exception, bool]:
    """What the requests waiting for a failed build are told, and whether it stays failed."""
    if isinstance(err, QueryTimeout):
        return Overloaded(f"this export takes longer than {timeout:g} s to prepare; ask for one "
                          "graph, or use 'ckb export'", 300), True
    if isinstance(err, Overloaded):
        return err, False
    if isinstance(err, StoreError):  # a worker that could not start: another try may work
        return Overloaded(f"the export could not be prepared: {err}", 10), False
    if isinstance(err, KBError):  # the format cannot express the data (RDF/XML)
        return err, True
    return Overloaded(f"the export could not be prepared: {err}", 10), False
