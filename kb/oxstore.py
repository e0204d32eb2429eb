"""The embedded store: Oxigraph on disk (default) or in memory."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pyoxigraph as ox

from .backend import QueryRequest, UpdateRequest
from .engine import StoreSpec
from .errors import KBError, ParseError, StoreError
from .namespaces import GRAPH_BASE
from .results import QueryResult
from .terms import iri_ref
from .worker import WorkerPool, run_update

STAGING = GRAPH_BASE + "staging/"

# Called with the store and [(staging graph, source file)] after parsing, before the
# swap; returns extra quads to add (e.g. source texts). Raising aborts the load.
Prepare = Callable[[ox.Store, list[tuple[str, Path]]], list[ox.Quad]]


def rdf_format(path: Path) -> ox.RdfFormat:
    """Guess the RDF format from a file name, or raise a clear error."""
    suffix = path.suffix.lstrip(".").lower()
    fmt = ox.RdfFormat.from_extension(suffix) if suffix else None
    if suffix in ("json", "jsonld"):
        fmt = ox.RdfFormat.JSON_LD
    if fmt is None:
        raise KBError(f"{path}: unknown RDF file extension {path.suffix!r}")
    return fmt


class _RWLock:
    """Many readers or one writer; writers wait for running queries to end."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writer = False

    @contextmanager
    def read(self) -> Iterator[None]:
        with self._cond:
            while self._writer:
                self._cond.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                self._cond.notify_all()

    @contextmanager
    def write(self) -> Iterator[None]:
        with self._cond:
            while self._writer or self._readers:
                self._cond.wait()
            self._writer = True
        try:
            yield
        finally:
            with self._cond:
                self._writer = False
                self._cond.notify_all()


class OxigraphBackend:
    """Oxigraph behind the Backend protocol; queries run in killable workers."""

    # Graphs outside these namespaces belong to someone else: a rebuild carries them over.
    graph_prefixes: tuple[str, ...] = (GRAPH_BASE,)

    def __init__(
        self, path: Path | None = None, workers: int = 2, read_only: bool = False, sandbox: bool = False
    ) -> None:
        self.path = path
        self.sandbox = sandbox  # True: refuse to run a job in a worker that is not fenced off the network
        self.read_only = read_only and path is not None
        try:
            if path is None:
                self.store = ox.Store()
            else:
                self.store = ox.Store.read_only(str(path)) if self.read_only else ox.Store(str(path))
        except OSError as err:
            raise StoreError(f"cannot open store at {path}: {err}") from err
        self._lock = _RWLock()
        self._pool = WorkerPool(workers, require_fence=sandbox)
        self._stale = True
        self._counts: dict[str, int] | None = None
        self._dump: weakref.finalize | None = None

    # -- reading ---------------------------------------------------------
    def graphs(self) -> dict[str, int]:
        """Return each named graph IRI with its number of triples."""
        with self._lock.read():
            if self._counts is None:
                rows = self.store.query(
                    "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
                )
                counts = {r["g"].value: int(r["n"].value) for r in rows}
                self._counts = {g: n for g, n in sorted(counts.items()) if not g.startswith(STAGING)}
            return dict(self._counts)

    def query(self, request: QueryRequest) -> QueryResult:
        """Check and evaluate a read-only query in a fenced worker, within time and row caps."""
        with self._lock.read():
            if self._stale:
                self._refresh_workers()
            start = time.monotonic()
            answer = self._pool.run(request)
        return QueryResult.from_answer(answer, time.monotonic() - start, request.limit)

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
        # Under the read lock several threads may get here; resetting twice is harmless.
        self._pool.reset(StoreSpec(path=str(self.path)) if self.path else StoreSpec(dump=self._write_dump()))
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
        if graph is None:  # the default graph holds what updates wrote without naming a graph
            yield from self.store.quads_for_pattern(None, None, None, ox.DefaultGraph())
        for name in [graph] if graph else list(self.graphs()):
            yield from self.store.quads_for_pattern(None, None, None, ox.NamedNode(name))

    # -- writing ---------------------------------------------------------
    @contextmanager
    def _writing(self) -> Iterator[None]:
        if self.read_only:
            raise StoreError(f"the store at {self.path} is open read-only; nothing was written")
        with self._lock.write():
            self._pool.close()  # no reader may hold the files while they change
            try:
                yield
            finally:
                if self.path is not None:
                    self.store.flush()
                self._stale = True
                self._counts = None

    def replace_graphs(
        self,
        files: Sequence[tuple[Path, str]],
        extra: Sequence[tuple[bytes, str]] = (),
        clear_others: bool = False,
        prepare: Prepare | None = None,
    ) -> None:
        """Load files into their graphs all-or-nothing; with clear_others, rebuild the store."""
        if clear_others:
            self._rebuild(files, extra, prepare)
            return
        loaded: list[tuple[str, str]] = []
        with self._writing():
            existing = {g.value for g in self.store.named_graphs() if isinstance(g, ox.NamedNode)}
            try:
                # On disk, bulk loading is ~4x faster than one big transaction. It is not atomic,
                # so every file is parsed first (errors with positions, nothing written), and it
                # only ever writes graphs that did not exist, which the except below drops.
                bulk = self.path is not None
                if bulk:
                    for path, _ in files:
                        check_file(path)
                stage(self.store, files, extra, prepare, loaded, existing, bulk=bulk)
                swaps = [(g, t) for g, t in loaded if g != t]
                if swaps:
                    self.store.update(_swap_update(swaps))
            except BaseException:
                # Every graph written so far was new (a target or a staging graph): drop them.
                for graph, _ in loaded:
                    self.store.remove_graph(ox.NamedNode(graph))
                raise

    def _rebuild(
        self, files: Sequence[tuple[Path, str]], extra: Sequence[tuple[bytes, str]], prepare: Prepare | None
    ) -> None:
        """Build a complete new store beside the old one, then swap it in (disk: by renaming)."""
        with self._writing():
            if self.path is None:
                new = ox.Store()
                stage(new, files, extra, prepare, [], set())
                new.extend(self._foreign_quads())
                self.store = new
                return
            tag = uuid.uuid4().hex[:8]
            fresh = self.path.with_name(f"{self.path.name}.rebuild-{tag}")
            try:
                new = ox.Store(str(fresh))
                stage(new, files, extra, prepare, [], set(), bulk=True)
                new.bulk_extend(self._foreign_quads())
                new.flush()
                del new  # closes the new RocksDB before its folder moves
            except BaseException:
                shutil.rmtree(fresh, ignore_errors=True)
                raise
            old = self.path.with_name(f"{self.path.name}.old-{tag}")
            self.store = None
            os.rename(self.path, old)
            os.rename(fresh, self.path)
            self.store = ox.Store(str(self.path))
            shutil.rmtree(old, ignore_errors=True)

    def _foreign_quads(self) -> Iterator[ox.Quad]:
        """The quads of named graphs that are not the KB's, to keep them through a rebuild."""
        for graph in self.store.named_graphs():
            if isinstance(graph, ox.NamedNode) and graph.value.startswith(self.graph_prefixes):
                continue
            yield from self.store.quads_for_pattern(None, None, None, graph)

    def update(self, request: UpdateRequest) -> None:
        """Apply an update in a fenced one-shot worker that holds the store for writing.

        The update is one Oxigraph transaction. If the engine crashes or the time limit
        kills it, nothing was committed: this process reopens the store as it was.
        """
        with self._writing():
            if self.path is None:
                fd, out = tempfile.mkstemp(prefix="ckb-updated-", suffix=".nq")
                os.close(fd)
                try:
                    run_update(StoreSpec(dump=self._write_dump(), write=True, dump_out=out), request,
                               self.sandbox)
                    fresh = ox.Store()
                    fresh.bulk_load(path=out, format=ox.RdfFormat.N_QUADS)
                    self.store = fresh
                finally:
                    _unlink(out)
                return
            self.store.flush()
            self.store = None  # RocksDB allows one writer: the worker takes the store meanwhile
            try:
                run_update(StoreSpec(path=str(self.path), write=True), request, self.sandbox)
            finally:
                self.store = ox.Store(str(self.path))

    # -- one graph at a time (the Graph Store Protocol, kb.graphstore) ----------
    def has_graph(self, graph: str | None) -> bool:
        """True if the named graph exists (even empty); the default graph (None) always does."""
        if graph is None:
            return True
        if graph.startswith(STAGING):
            return False
        with self._lock.read():
            return self.store.contains_named_graph(ox.NamedNode(graph))

    def graph_triples(self, graph: str | None) -> list[ox.Triple]:
        """Return the triples of one named graph, or of the store's own default graph (None)."""
        name = ox.DefaultGraph() if graph is None else ox.NamedNode(graph)
        with self._lock.read():
            return [q.triple for q in self.store.quads_for_pattern(None, None, None, name)]

    def write_graph(self, graph: str | None, triples: Sequence[ox.Triple], replace: bool) -> None:
        """Add triples to one graph (None: the default graph), or replace it; all-or-nothing.

        Only parsed triples and checked graph IRIs reach the store here, never a client's
        SPARQL text, so this runs in the server process with the store's own API.
        """
        target = ox.DefaultGraph() if graph is None else ox.NamedNode(graph)
        with self._writing():
            if not replace:
                # extend() is one transaction; an empty named graph still comes to exist.
                self.store.extend([ox.Quad(t.subject, t.predicate, t.object, target) for t in triples])
                if graph is not None:
                    self.store.add_graph(target)
                return
            # Staging graph first (one transaction), then one update swaps it in (another).
            staging = ox.NamedNode(f"{STAGING}{uuid.uuid4().hex}/gsp")
            try:
                self.store.extend([ox.Quad(t.subject, t.predicate, t.object, staging) for t in triples])
                into = "DEFAULT" if graph is None else f"GRAPH {iri_ref(graph)}"
                create = [] if graph is None else [f"CREATE SILENT GRAPH {iri_ref(graph)}"]
                self.store.update(" ;\n".join([
                    f"DROP SILENT {into}", *create,
                    f"ADD SILENT GRAPH {iri_ref(staging.value)} TO {into}",
                    f"DROP SILENT GRAPH {iri_ref(staging.value)}",
                ]))
            finally:
                self.store.remove_graph(staging)

    def drop_graph(self, graph: str | None) -> None:
        """Remove a named graph, or empty the default graph (None)."""
        with self._writing():
            if graph is None:
                self.store.clear_graph(ox.DefaultGraph())
            else:
                self.store.remove_graph(ox.NamedNode(graph))

    def close(self) -> None:
        """Stop the workers and release the store."""
        self._pool.close()
        self._drop_dump()
        if self.path is not None and not self.read_only:
            self.store.flush()
        self.store = None  # dropping the last reference closes RocksDB


def _unlink(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


def stage(
    store: ox.Store,
    files: Sequence[tuple[Path, str]],
    extra: Sequence[tuple[bytes, str]],
    prepare: Prepare | None,
    loaded: list[tuple[str, str]],
    existing: set[str],
    bulk: bool = False,
) -> None:
    """Load files and extra N-Triples, appending (graph written, target) to ``loaded``.

    A target graph that does not exist yet is written directly (each load is one
    transaction); one that exists is written to a staging graph, for a later swap.
    """
    run = STAGING + uuid.uuid4().hex + "/"
    into: dict[str, str] = {}
    for n, (_, target) in enumerate([*files, *extra]):
        if target not in into:
            into[target] = f"{run}{n}" if target in existing else target
            loaded.append((into[target], target))
    for path, target in files:
        load_file(store, path, into[target], bulk)
    for data, target in extra:
        store.load(data, format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(into[target]))
    if prepare is not None:
        store.extend(prepare(store, [(into[t], p) for p, t in files]))


def check_file(path: Path) -> None:
    """Parse a file without storing it, raising ParseError at its first error."""
    with _parse_errors(path):
        for _ in ox.parse(path=str(path), format=rdf_format(path), base_iri=path.resolve().as_uri()):
            pass


@contextmanager
def _parse_errors(path: Path) -> Iterator[None]:
    """Turn parser and file errors into ParseError (file:line:column) and KBError."""
    try:
        yield
    except SyntaxError as err:
        detail = str(err.msg if hasattr(err, "msg") else err)
        detail = detail.split(": ", 1)[1] if detail.startswith("Parser error") and ": " in detail else detail
        raise ParseError(str(path), err.lineno, err.offset, detail) from None
    except OSError as err:
        raise KBError(f"{path}: {err.strerror or err}") from None


def load_file(store: ox.Store, path: Path, graph: str, bulk: bool = False) -> None:
    """Load one file into a graph, turning parser errors into file:line:column."""
    fmt = rdf_format(path)
    load = store.bulk_load if bulk else store.load
    with _parse_errors(path):
        load(path=str(path), format=fmt, to_graph=ox.NamedNode(graph), base_iri=path.resolve().as_uri())


def _swap_update(swaps: list[tuple[str, str]]) -> str:
    """Build the single update that replaces each target graph by its staging graph."""
    ops: list[str] = []
    for staging, target in swaps:
        ops.append(f"DROP SILENT GRAPH {iri_ref(target)}")
        ops.append(f"ADD SILENT GRAPH {iri_ref(staging)} TO GRAPH {iri_ref(target)}")
        ops.append(f"DROP SILENT GRAPH {iri_ref(staging)}")
    return " ;\n".join(ops)
