"""A backend on a SPARQL 1.1 server: Oxigraph server and Virtuoso tested, others by the protocol.

Only graphs under the KB's own prefixes are ever read, counted or dropped. Files are
parsed locally first (so errors keep file:line:column), streamed to staging graphs in
bounded chunks (Graph Store Protocol where the server has it, else INSERT DATA), and
switched in with one update at the end: all-or-nothing.
"""

from __future__ import annotations

import itertools
import json
import time
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path

import pyoxigraph as ox

from kb.errors import KBError
from kb.namespaces import GRAPH_BASE
from kb.query.engine import StoreSpec
from kb.query.results import QueryResult
from kb.query.worker import WorkerPool, check, syntax_error
from kb.store import protocol as p
from kb.store import registry, remotekeys, remotestream, xmlresults
from kb.store.backend import QueryRequest, UpdateRequest
from kb.store.remoteanswers import graph_answer, solutions_answer, urlencoded
from kb.store.remotecounts import RemoteCounts
from kb.store.remotegsp import RemoteGraphOps
from kb.store.staging import STAGING, Prepare, check_file, is_dataset, targets_of
from kb.terms import iri_ref

EMPTY = GRAPH_BASE + "empty"  # never written: stands for an empty default graph

CHUNK_TRIPLES = 20_000  # per upload request: a few MiB of N-Triples


class RemoteBackend(RemoteCounts, RemoteGraphOps):
    """The Backend protocol over HTTP, on the query (and update) endpoint of a SPARQL server."""

    def __init__(
        self,
        endpoint: str,
        update_endpoint: str | None = None,
        *,
        graph_prefixes: Sequence[str] = (GRAPH_BASE,),
        engine: str | None = None,
        write_timeout: float = 600,
        read_timeout: float = 60,
    ) -> None:
        self.endpoint = p.require_http(endpoint)
        self.update_endpoint = p.require_http(update_endpoint or endpoint)
        self.graph_prefixes = tuple(graph_prefixes)
        self.write_timeout = write_timeout
        self.read_timeout = read_timeout
        self._engine = p.ENGINES[engine] if engine else None
        self._counts: dict[str, registry.Counted] | None = None  # kb.store.remotecounts
        self._counted_at = 0.0
        self._pool: WorkerPool | None = None
        self.http = p.Pool()  # kept-alive connections to the server, shared by the threads

    def _checker(self) -> WorkerPool:
        # The server runs the queries; a local fenced worker with an empty store parses them first.
        if self._pool is None:
            self._pool = WorkerPool(1)
            self._pool.reset(StoreSpec())
        return self._pool

    @property
    def engine(self) -> p.Engine:
        """The server's engine, asked once (its Server header)."""
        if self._engine is None:
            self._engine = p.detect_engine(self.endpoint, self.read_timeout)
        return self._engine

    @property
    def bounds_queries(self) -> bool:
        """True if the server stops a query at the limit the KB sends with it."""
        return self.engine.bounds_queries

    def own(self, graph: str) -> bool:
        """True for graphs in the KB's namespace (never staging graphs, nor the graph registry)."""
        return (graph.startswith(self.graph_prefixes) and not graph.startswith(STAGING)
                and graph not in (registry.REGISTRY, remotekeys.KEYS))

    # -- reading ---------------------------------------------------------
    def _read(self, sparql: str, kind: str, timeout: float, dataset: Sequence[tuple[str, str]] = ()) -> bytes:
        """Send a query with its own limit; the answer as standard SPARQL JSON or N-Triples."""
        params = [("query", sparql), *dataset]
        if self.engine.timeout_param:
            params.append((self.engine.timeout_param, str(max(1, int(timeout * 1000)))))
        # The server stops at the limit; the client waits a little longer to hear it say so.
        wait = timeout + 5 if self.engine.bounds_queries else timeout
        xml = kind == "select" and self.engine.xml_results
        body = p.send(self.endpoint, params, p.ACCEPT["xml" if xml else kind], wait, limit=timeout,
                      pool=self.http)
        if xml:
            return xmlresults.to_json(body, p.blank_label)
        return body if kind == "graph" else p.clean_json(body, kind)

    def solutions(self, select: str, timeout: float) -> Iterator[ox.QuerySolution]:
        """A SELECT the KB wrote itself, sent as it is (no dataset, no row cap), read by the engine's
        parser: for derived state read in bulk (the event index at 1M triples: 500,000 rows)."""
        return p.solutions(self._read(select, "select", timeout))

    def _holds(self, graph: str) -> bool:
        """True if the server has triples in ``graph`` (one cheap ASK)."""
        return self._asks(f"ASK {{ GRAPH {iri_ref(graph)} {{ ?s ?p ?o }} }}")

    def _asks(self, ask: str) -> bool:
        """The server's answer to one ASK."""
        return bool(json.loads(self._read(ask, "ask", self.read_timeout))["boolean"])

    def query(self, request: QueryRequest) -> QueryResult:
        """Send a query with the KB's dataset and its own time limit; cap and format locally."""
        if request.check and not p.passes_check(request.query):
            # SERVICE and LOAD are refused (in a fenced local worker) before anything evaluates it.
            check(self._checker(), request.query, False, request.timeout)
        try:
            kind = p.query_kind(request.query, request.prefixes)
        except SyntaxError as err:
            raise syntax_error(str(err)) from None
        own = list(self.graphs())
        from_query = False
        if request.default_graphs is None:
            # Virtuoso lets a query's FROM win over default-graph-uri, so FROM must name own graphs.
            default, named, from_query = p.own_dataset(request.query, request.prefixes, own,
                                                       refuse=lambda g: not self.own(g))
            if not from_query and request.plain_default_graphs is not None:
                default = [g for g in request.plain_default_graphs if g in own]  # e.g. not inferred
        else:
            # The store's unnamed default graph ("") is never sent: on a server it is not the KB's.
            default = [g for g in request.default_graphs if g in own]
            named = own
        if request.named_graphs is not None:
            named = [g for g in request.named_graphs if g in own]
        dataset = [("default-graph-uri", g) for g in default] + [("named-graph-uri", g) for g in named]
        if from_query:
            dataset = []  # the query's own FROM / FROM NAMED, all of them the KB's graphs
        elif not default:
            # No default-graph-uri would mean "the server's default"; a graph nobody has is empty.
            dataset.append(("default-graph-uri", EMPTY))
        prologue = " ".join(f"PREFIX {k}: {iri_ref(v)}" for k, v in request.prefixes.items())
        start = time.monotonic()
        body = self._read(prologue + "\n" + request.query, kind, request.timeout, dataset)
        answer = graph_answer(body, request) if kind == "graph" else solutions_answer(body, request)
        return QueryResult.from_answer(answer, time.monotonic() - start, request.limit)

    def quads(self, graph: str | None = None) -> Iterator[ox.Quad]:
        """Iterate the quads of one graph, or of every graph of the KB's own."""
        for name in [graph] if graph else list(self.graphs()):
            g = ox.NamedNode(name)
            # N-Triples, not SPARQL JSON: the engine's own parser reads it, fastest of all.
            body = self._read(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH {iri_ref(name)} {{ ?s ?p ?o }} }}",
                              "graph", self.write_timeout)
            for t in ox.parse(body, format=ox.RdfFormat.N_TRIPLES):
                yield ox.Quad(t.subject, t.predicate, t.object, g)

    # -- writing ---------------------------------------------------------
    def replace_graphs(
        self,
        files: Sequence[tuple[Path, str]],
        extra: Sequence[tuple[bytes, str]] = (),
        clear_others: bool = False,
        prepare: Prepare | None = None,
    ) -> None:
        """Parse locally, upload in chunks, then switch all at once; on failure nothing changes.

        A graph the server does not hold yet is written in place (dropped again if anything
        fails); one that exists is written to a staging graph and moved over it by the one
        update at the end, as the embedded store does.
        """
        # Quads in a dataset file's named graphs keep their names; on a shared server only
        # graphs in the KB's namespaces may be written (the rest belong to other users).
        named = {p: check_file(p) for p, _ in files if p.is_file() and is_dataset(p)}
        for path, graphs in named.items():
            for graph in graphs:
                if not self.own(graph):
                    raise KBError(f"{path}: <{graph}> is outside the KB's graph namespaces "
                                  f"({', '.join(self.graph_prefixes)}); a shared server keeps only those")
        # Streamed: each file is parsed once, lazily, and sent in bounded chunks (an in-memory
        # staging store held 0.8 GB at 1M triples), so the client's memory does not grow with the file.
        targets = targets_of(files, extra, named)
        if clear_others:
            # A load replaces all the KB's graphs: those on the server, known to the registry or not.
            existing = set(self._listed())
        else:
            # A graph written on the server directly is not in the registry; it is replaced all the same.
            held = self.graphs()
            existing = {t for t in targets if t in held or self._holds(t)}
        run = f"{STAGING}{uuid.uuid4().hex}/"
        into = {t: f"{run}{n}" if t in existing else t for n, t in enumerate(targets)}
        written: dict[str, None] = {}
        side = ox.Store()
        try:
            for target, batch in remotestream.batches(remotestream.quads(files, extra), CHUNK_TRIPLES, side):
                written[into[target]] = None
                self._upload(into[target], batch)
            if prepare is not None:
                texts = prepare(side, [(t, path) for path, t in files])
                for target, group in itertools.groupby(texts, key=lambda q: q.graph_name.value):
                    written[into[target]] = None
                    self._upload(into[target], [q.triple for q in group])
            drops = [g for g in existing if g not in into] if clear_others else []
            ops = [f"DROP SILENT GRAPH {iri_ref(g)}" for g in drops]
            for target, graph in into.items():
                if graph != target:
                    ops.append(f"DROP SILENT GRAPH {iri_ref(target)}")
                    ops.append(f"MOVE SILENT GRAPH {iri_ref(graph)} TO GRAPH {iri_ref(target)}")
            # The registry changes in the same request as the graphs (kb.store.registry); the
            # server counts them, as a file may repeat a triple the server keeps once.
            ops += (registry.rebuild({}) if clear_others else []) + registry.recount(targets)
            self._send_update(" ;\n".join(ops))
        except BaseException:
            # Every graph written so far was new (a target or a staging graph): drop them.
            if written:
                self._send_update(" ;\n".join(f"DROP SILENT GRAPH {iri_ref(g)}" for g in written))
            raise
        finally:
            self._counts = None

    def _upload(self, graph: str, triples: list[ox.Triple]) -> None:
        # Through the engine's own store, one chunk at a time: the server then holds the values as
        # the embedded store does (Oxigraph keeps "1"^^xsd:positiveInteger as an xsd:integer).
        chunk = ox.Store()
        chunk.extend(ox.Quad(t.subject, t.predicate, t.object) for t in triples)
        data = ox.serialize((q.triple for q in chunk), format=ox.RdfFormat.N_TRIPLES)
        url = p.store_url(self.update_endpoint, self.engine, graph)
        if url is not None:
            p.send(url, [], "*/*", self.write_timeout, body=data, content_type="application/n-triples",
                   pool=self.http)
        else:
            self._send_update(f"INSERT DATA {{ GRAPH {iri_ref(graph)} {{\n{data.decode('utf-8')}}} }}")

    def update(self, request: UpdateRequest) -> None:
        """Send an update as one request (atomic where the server makes requests atomic).

        It must name the KB's own graphs: the server's default graph is not the KB's, and on
        Virtuoso it is the union of every graph on the server.
        """
        from kb.store.updates import check_update

        if request.check:
            check(self._checker(), request.update, True, request.timeout)
        written = check_update(request.update, request.prefixes, self.own)
        if request.key and self._asks(remotekeys.ask(request.key)):
            return  # this key's update already committed: a retry writes nothing
        held = self.counts()  # the registry exists before an update records its counts in it
        # Virtuoso drops or clears only graphs "explicitly created" (not loaded ones): "does not
        # exist" for a graph that does. CREATE SILENT first, only for graphs that exist.
        create = [f"CREATE SILENT GRAPH {iri_ref(g)} ;\n" for g in dict.fromkeys(written)
                  if g in held and self.engine is p.VIRTUOSO]
        # The written graphs are recounted on the server in the same request, after the update.
        # A trailing comment or ";" must not swallow or break the operations appended.
        update = request.update.rstrip().rstrip(";")
        ops = registry.recount(written) + ([remotekeys.record(request.key)] if request.key else [])
        self._send_update("".join(create) + update + "\n;\n" + " ;\n".join(ops), request.prefixes)

    def _send_update(self, sparql: str, prefixes: dict[str, str] | None = None) -> None:
        self._counts = None  # graph sizes change with every write
        prologue = " ".join(f"PREFIX {k}: {iri_ref(v)}" for k, v in (prefixes or {}).items())
        body = (prologue + "\n" + sparql) if prologue else sparql
        p.send(self.update_endpoint, [], "*/*", self.write_timeout, body=urlencoded(body),
               content_type="application/x-www-form-urlencoded", pool=self.http)

    def close(self) -> None:
        """Stop the local check worker and close the idle connections."""
        self.http.close()
        if self._pool is not None:
            self._pool.close()
