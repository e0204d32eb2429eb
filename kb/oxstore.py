"""The embedded store: Oxigraph on disk (default) or in memory."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from .errors import KBError, ParseError, StoreError
from .namespaces import GRAPH_BASE
from .results import QueryResult
from .terms import iri_ref
from .worker import Job, StoreSpec, WorkerPool, syntax_error

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

    def __init__(self, path: Path | None = None, workers: int = 2) -> None:
        self.path = path
        try:
            self.store = ox.Store(str(path)) if path is not None else ox.Store()
        except OSError as err:
            raise StoreError(f"cannot open store at {path}: {err}") from err
        self._lock = _RWLock()
        self._pool = WorkerPool(workers)
        self._stale = True
        self._counts: dict[str, int] | None = None

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

    def query(
        self,
        sparql: str,
        *,
        default_graphs: list[str] | None,
        named_graphs: list[str] | None,
        timeout: float,
        limit: int,
        prefixes: dict[str, str],
    ) -> QueryResult:
        """Evaluate a checked read-only query in a worker, within time and row caps."""
        job = Job(sparql, default_graphs, named_graphs, limit, prefixes)
        with self._lock.read():
            if self._stale:
                self._refresh_workers()
            start = time.monotonic()
            answer = self._pool.run(job, timeout)
        return QueryResult.from_answer(answer, time.monotonic() - start, limit)

    def _refresh_workers(self) -> None:
        # Under the read lock several threads may get here; resetting twice is harmless.
        if self.path is not None:
            spec = StoreSpec(path=str(self.path))
        else:
            spec = StoreSpec(dump=self.store.dump(format=ox.RdfFormat.N_QUADS))
        self._pool.reset(spec)
        self._stale = False

    def quads(self, graph: str | None = None) -> Iterator[ox.Quad]:
        """Iterate the quads of one graph, or of every named graph."""
        g = ox.NamedNode(graph) if graph else None
        for quad in self.store.quads_for_pattern(None, None, None, g):
            if not isinstance(quad.graph_name, ox.DefaultGraph) and not quad.graph_name.value.startswith(
                STAGING
            ):
                yield quad

    # -- writing ---------------------------------------------------------
    @contextmanager
    def _writing(self) -> Iterator[None]:
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
        """Parse every file into a staging graph, then swap all in one transaction."""
        staged: list[tuple[str, str]] = []
        with self._writing():
            try:
                stage(self.store, files, extra, prepare, staged)
                self.store.update(_swap_update(self.store, staged, clear_others))
            except BaseException:
                for staging, _ in staged:
                    self.store.remove_graph(ox.NamedNode(staging))
                raise

    def update(self, sparql: str, prefixes: dict[str, str], default_as: str | None = None) -> None:
        """Apply a checked SPARQL update; ``default_as`` stands in for the unnamed default graph."""
        with self._writing():
            try:
                if default_as:
                    # ADD, not MOVE: anything a crash left in the default graph is kept, not lost.
                    self.store.update(f"ADD SILENT GRAPH {iri_ref(default_as)} TO DEFAULT")
                self.store.update(sparql, prefixes=prefixes)
            except SyntaxError as err:
                raise syntax_error(str(err)) from None
            finally:
                if default_as:
                    self.store.update(f"MOVE SILENT DEFAULT TO GRAPH {iri_ref(default_as)}")

    def close(self) -> None:
        """Stop the workers and release the store."""
        self._pool.close()
        if self.path is not None:
            self.store.flush()
        self.store = None  # dropping the last reference closes RocksDB


def stage(
    store: ox.Store,
    files: Sequence[tuple[Path, str]],
    extra: Sequence[tuple[bytes, str]],
    prepare: Prepare | None,
    staged: list[tuple[str, str]],
) -> None:
    """Parse files and extra N-Triples into fresh staging graphs, appending (staging, target) to staged."""
    run = STAGING + uuid.uuid4().hex + "/"
    for i, (path, target) in enumerate(files):
        load_file(store, path, f"{run}{i}")
        staged.append((f"{run}{i}", target))
    for j, (data, target) in enumerate(extra):
        store.load(data, format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(f"{run}x{j}"))
        staged.append((f"{run}x{j}", target))
    if prepare is not None:
        store.extend(prepare(store, [(s, p) for (s, _), (p, _) in zip(staged, files, strict=False)]))


def load_file(store: ox.Store, path: Path, graph: str) -> None:
    """Load one file into a graph, turning parser errors into file:line:column."""
    fmt = rdf_format(path)
    try:
        store.load(path=str(path), format=fmt, to_graph=ox.NamedNode(graph), base_iri=path.resolve().as_uri())
    except SyntaxError as err:
        detail = str(err.msg if hasattr(err, "msg") else err)
        detail = detail.split(": ", 1)[1] if detail.startswith("Parser error") and ": " in detail else detail
        raise ParseError(str(path), err.lineno, err.offset, detail) from None
    except OSError as err:
        raise KBError(f"{path}: {err.strerror or err}") from None


def _swap_update(store: ox.Store, staged: list[tuple[str, str]], clear_others: bool) -> str:
    """Build the single update that drops old graphs and moves staged ones in."""
    targets = list(dict.fromkeys(t for _, t in staged))
    ops: list[str] = []
    if clear_others:
        staging = {s for s, _ in staged}
        for g in store.named_graphs():
            if isinstance(g, ox.NamedNode) and g.value not in staging and g.value not in targets:
                ops.append(f"DROP SILENT GRAPH {iri_ref(g.value)}")
    ops += [f"DROP SILENT GRAPH {iri_ref(t)}" for t in targets]
    for staging, target in staged:
        ops.append(f"ADD SILENT GRAPH {iri_ref(staging)} TO GRAPH {iri_ref(target)}")
        ops.append(f"DROP SILENT GRAPH {iri_ref(staging)}")
    return " ;\n".join(ops) if ops else "CLEAR SILENT GRAPH <" + GRAPH_BASE + "none>"


def any_quad(store: Any) -> bool:
    """Return True if the store holds at least one quad."""
    return next(iter(store.quads_for_pattern(None, None, None, None)), None) is not None
