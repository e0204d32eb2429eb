"""KnowledgeBase: the one entry point to conflict-kb."""

from __future__ import annotations

import hmac
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from rdflib import Graph

from kb.errors import ForbiddenQuery, KBError
from kb.namespaces import (
    GRAPH_BASE,
    GRAPH_INFERRED,
    GRAPH_SHAPES,
    PREFIXES,
    import_graph,
)
from kb.query.engine import DEFAULT_GRAPH
from kb.query.results import QueryResult
from kb.reasoning.facade import Reasoning
from kb.store import loader
from kb.store.backend import MAX_QUERY_LENGTH, QueryRequest, UpdateRequest
from kb.store.oxstore import OxigraphBackend
from kb.store.shapes import Shapes
from kb.store.staging import STAGING, check_file
from kb.terms import check_iri, from_ox
from kb.views.facade import Browsing

Progress = Callable[[str], None]


def default_store_path() -> Path:
    """Return $CKB_STORE, else the per-user data folder."""
    if os.environ.get("CKB_STORE"):
        return Path(os.environ["CKB_STORE"])
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "conflict-kb" / "store"


class KnowledgeBase(Reasoning, Browsing):
    """Load, validate, reason over, query and export the conflict knowledge base."""

    def __init__(
        self,
        backend: Any,
        *,
        timeout: float = 10.0,
        row_limit: int = 10_000,
        update_token: str | None = None,
        max_query_length: int = MAX_QUERY_LENGTH,
        own_graphs_only: bool = False,
    ) -> None:
        self.backend = backend
        self.timeout = timeout
        self.row_limit = row_limit
        self.update_token = update_token
        self.max_query_length = max_query_length
        # True: writes may name only graphs in the KB's namespace (kb.store.updates.check_own_graphs).
        self.own_graphs_only = own_graphs_only
        self.prefixes = dict(PREFIXES)
        self.shapes = Shapes(getattr(backend, "path", None), not getattr(backend, "read_only", True))

    @classmethod
    def open(
        cls,
        path: str | Path | None = None,
        *,
        memory: bool = False,
        endpoint: str | None = None,
        update_endpoint: str | None = None,
        workers: int = 2,
        read_only: bool = False,
        sandbox: bool = False,
        graph_prefixes: Sequence[str] = (),
        engine: str | None = None,
        **options: Any,
    ) -> KnowledgeBase:
        """Open a store on disk (default $CKB_STORE), in memory, or on a SPARQL server ($CKB_ENDPOINT).

        ``sandbox=True`` refuses to run queries in workers the kernel has not fenced off the
        network (``ckb serve`` sets it unless --no-sandbox); otherwise the fence is used if it can be.
        ``graph_prefixes`` adds graph namespaces the KB treats as its own, besides
        ``https://w3id.org/conflict-kb/graph/``. On a SPARQL server every other graph is another
        user's and left alone; on the embedded store every graph is the KB's, and the namespace
        only matters with ``own_graphs_only=True`` (writes outside it are refused).
        """
        prefixes = (GRAPH_BASE, *graph_prefixes)
        endpoint = endpoint or (None if memory or path else os.environ.get("CKB_ENDPOINT"))
        if endpoint:
            from kb.store.remote import RemoteBackend

            backend: Any = RemoteBackend(endpoint, update_endpoint, graph_prefixes=prefixes, engine=engine)
        elif memory:
            backend = OxigraphBackend(None, workers, sandbox=sandbox)
        else:
            # No mkdir here: the backend recovers a swap a crash interrupted before it creates anything.
            store = Path(path) if path is not None else default_store_path()
            backend = OxigraphBackend(store, workers, read_only=read_only, sandbox=sandbox)
        backend.graph_prefixes = prefixes
        return cls(backend, **options)

    def require_sandbox(self) -> None:
        """Run no query or update outside the kernel's network fence; KBError if it cannot be set."""
        require = getattr(self.backend, "require_fence", None)
        if require is not None:  # a remote server fences itself, or not: nothing runs here
            require()

    def __enter__(self) -> KnowledgeBase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the query workers and release the store."""
        self.backend.close()

    # -- loading ---------------------------------------------------------
    def ensure_loaded(self) -> bool:
        """Load the bundled ontology and data into an empty store; True if it did."""
        if self.graphs():
            return False
        self.load()
        return True

    def load(
        self, files: Sequence[str | Path] | None = None, progress: Progress | None = None, force: bool = False
    ) -> dict[str, int]:
        """Rebuild the store from ``files`` (default: the bundle), all-or-nothing.

        Files that hold no triples would empty the store: refused unless ``force``.
        """
        paths = loader.expand(Path(f) for f in files) if files else loader.bundled_files()
        if progress:
            progress(f"loading {len(paths)} files")
        pairs = [(p, loader.graph_for(p)) for p in paths]
        shapes = [p for p, g in pairs if g == GRAPH_SHAPES]
        for p in shapes:
            check_file(p)  # before anything is replaced: a bad shapes file changes nothing
        if files and not force and not loader.hold_triples([p for p, g in pairs if g != GRAPH_SHAPES]):
            names = ", ".join(str(p) for p in paths) or "no files"
            raise KBError(f"{names}: no triples to load; loading them would empty the store "
                          "(use --force to empty it)")
        self.backend.replace_graphs([(p, g) for p, g in pairs if g != GRAPH_SHAPES], clear_others=True,
                                    prepare=loader.attach_texts)
        self.shapes.replace(shapes)
        set_bundle = getattr(self.backend, "set_bundle", None)
        if set_bundle is not None:
            # The store's metadata remembers which bundle it holds (None: other files).
            set_bundle(None if files else loader.bundle_fingerprint())
        return self.graphs()

    def bundle_is_stale(self) -> bool:
        """True if this store was built from the bundled files and they have changed since."""
        held = getattr(self.backend, "bundle", None)
        return held is not None and held != loader.bundle_fingerprint()

    def import_file(self, path: str | Path, name: str | None = None) -> str:
        """Load one file into its own graph (replacing an earlier import of it); return the graph."""
        return next(iter(self.import_rdf(path, name)))

    def import_rdf(self, path: str | Path, name: str | None = None) -> dict[str, int]:
        """Import one RDF file as import_file does; return each graph written (its own graph first)
        with its triple count. A dataset file (N-Quads, TriG) also replaces the named graphs it holds."""
        p = Path(path)
        if not p.is_file():
            raise KBError(f"{p}: no such file")
        graph = import_graph(name or p.stem)
        written = self.backend.replace_graphs([(p, graph)], prepare=loader.attach_texts) or [graph]
        counts = self.backend.graphs()
        return {g: counts.get(g, 0) for g in written}

    def graphs(self) -> dict[str, int]:
        """Return each of the KB's named graphs with its triple count.

        On the embedded store that is every graph it holds, whoever wrote it (a graph written
        through the KB's own endpoint is the KB's data); a SPARQL server's backend lists only
        the graphs in the KB's namespace (kb.store.remote: the others are other users').
        """
        return {g: n for g, n in self.backend.graphs().items() if not g.startswith(STAGING)}

    def generation(self) -> int | None:
        """A number that changes with every write to the store; None if others may write to it."""
        return getattr(self.backend, "generation", None)

    def _own_prefixes(self) -> tuple[str, ...]:
        return tuple(getattr(self.backend, "graph_prefixes", (GRAPH_BASE,)))

    def in_namespace(self, graph: str) -> bool:
        """True if ``graph`` is under the KB's graph namespace (its own prefix and --graph-prefix)."""
        return graph.startswith(self._own_prefixes()) and not graph.startswith(STAGING)

    def exportable_graphs(self) -> dict[str, int]:
        """The queryable graphs plus the SHACL shapes kept beside the store, with their sizes."""
        return {**self.graphs(), GRAPH_SHAPES: self.shapes.count()}

    # -- querying --------------------------------------------------------
    def default_graphs(self, inferred: bool = True) -> list[str] | None:
        """The default graph's parts: None is every graph (the engine's union), else a list."""
        if inferred:
            return None
        return [DEFAULT_GRAPH, *(g for g in self.graphs() if g != GRAPH_INFERRED)]

    def query(
        self,
        sparql: str,
        *,
        inferred: bool = True,
        timeout: float | None = None,
        limit: int | None = None,
        default_graphs: list[str] | None = None,
        named_graphs: list[str] | None = None,
        base_iri: str | None = None,
        format: str | dict[str, str] | None = None,
    ) -> QueryResult:
        """Run a read-only SPARQL query safely: parsed and checked, fenced, time-limited and row-capped.

        ``default_graphs``/``named_graphs`` follow the SPARQL Protocol: a list overrides the
        query's FROM / FROM NAMED, an empty list is an empty dataset part, and a graph the
        store lacks is an empty graph. ``format`` names the bytes the engine writes.
        """
        if len(sparql) > self.max_query_length:
            raise ForbiddenQuery(f"the query is {len(sparql)} characters long; "
                                 f"the limit is {self.max_query_length}")
        for g in (default_graphs or []) + (named_graphs or []):
            if g != DEFAULT_GRAPH:
                check_iri(g)
        # Without the inferred graph only where neither the request nor the query names a
        # dataset: the protocol's default-graph-uri and the query's own FROM always win.
        plain = None if inferred or default_graphs is not None else self.default_graphs(inferred=False)
        return self.backend.query(
            QueryRequest(
                sparql,
                default_graphs=default_graphs,
                named_graphs=named_graphs,
                limit=self.row_limit if limit is None else limit,
                timeout=timeout or self.timeout,
                prefixes=self.prefixes,
                base_iri=base_iri,
                format=format,
                plain_default_graphs=plain,
            )
        )

    def update(self, sparql: str, token: str | None = None, *, base_iri: str | None = None,
               timeout: float | None = None, using_graphs: Sequence[str] = (),
               using_named_graphs: Sequence[str] = (), idempotency_key: str | None = None) -> None:
        """Apply a SPARQL update; refused unless the KB has an update token and it matches.

        Operations that name no graph work on the store's own default graph, which the
        KB's default graph (the union of all graphs) includes. ``using_graphs`` and
        ``using_named_graphs`` are the SPARQL Protocol's using-graph-uri / using-named-graph-uri.
        ``idempotency_key``: an update whose key already committed returns at once, writing nothing
        (a client retrying after a lost answer writes once; kb.store.commits).
        """
        from kb.errors import UpdateRefused

        if not self.update_token:
            raise UpdateRefused("updates are disabled: this knowledge base is read-only")
        if not token or not hmac.compare_digest(token.encode(), self.update_token.encode()):
            raise UpdateRefused("updates need the right token (Authorization: Bearer ...)")
        if len(sparql) > self.max_query_length:
            raise ForbiddenQuery(f"the update is {len(sparql)} characters long; "
                                 f"the limit is {self.max_query_length}")
        # The protocol's update dataset, as USING clauses where a full parse finds each WHERE.
        from kb.store.using import with_using  # rdflib's SPARQL grammar: loaded only when an update comes

        sparql = with_using(sparql, using_graphs, using_named_graphs)
        if self.own_graphs_only:
            from kb.store.updates import check_own_graphs

            check_own_graphs(sparql, self.prefixes, base_iri, self.in_namespace)
        self.backend.update(UpdateRequest(sparql, timeout or self.timeout, self.prefixes, base_iri,
                                          key=idempotency_key))

    # -- graphs as rdflib ------------------------------------------------
    def rdflib_graph(self, graphs: Sequence[str] | None = None) -> Graph:
        """Return the union of some graphs (default: all) as an rdflib Graph."""
        g = Graph()
        for name in graphs if graphs is not None else list(self.graphs()):
            for quad in self.backend.quads(name):
                g.add((from_ox(quad.subject), from_ox(quad.predicate), from_ox(quad.object)))
        for prefix, iri in self.prefixes.items():
            g.bind(prefix, iri)
        return g

    # -- export ----------------------------------------------------------
    def export(
        self, format: str = "turtle", graph: str = "all", entity: str | None = None, query: str | None = None,
        timeout: float | None = None,
    ) -> bytes:
        """Serialise the whole KB, one graph, one entity or a CONSTRUCT/DESCRIBE result."""
        from kb.export.scope import export

        return export(self, format, graph, entity, query, timeout)
