"""A backend on a SPARQL 1.1 server: Oxigraph server and Virtuoso tested, others by the protocol.

Only graphs under the KB's own prefixes are ever read, counted or dropped. Files are
parsed locally first (so errors keep file:line:column), streamed to staging graphs in
bounded chunks (Graph Store Protocol where the server has it, else INSERT DATA), and
switched in with one update at the end: all-or-nothing.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path

import pyoxigraph as ox

from . import protocol as p
from .backend import QueryRequest
from .namespaces import GRAPH_BASE, PREFIXES
from .oxstore import STAGING, Prepare, stage
from .results import QueryResult
from .terms import iri_ref
from .worker import syntax_error

CHUNK_TRIPLES = 20_000  # per upload request: a few MiB of N-Triples
GRAPHS_TTL = 5.0  # seconds a graph list is trusted (other clients may write meanwhile)


class RemoteBackend:
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
        self._counts: dict[str, int] | None = None
        self._counted_at = 0.0

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
        """True for graphs in the KB's namespace (never staging graphs)."""
        return graph.startswith(self.graph_prefixes) and not graph.startswith(STAGING)

    # -- reading ---------------------------------------------------------
    def _read(self, sparql: str, kind: str, limit: int, timeout: float,
              dataset: list[tuple[str, str]] = ()) -> dict:
        params = [("query", sparql), *dataset]
        if self.engine.timeout_param:
            params.append((self.engine.timeout_param, str(max(1, int(timeout * 1000)))))
        # The server stops at the limit; the client waits a little longer to hear it say so.
        wait = timeout + 5 if self.engine.bounds_queries else timeout
        body = p.send(self.endpoint, params, p.ACCEPT[kind], wait, limit=timeout)
        return p.parse_graph(body, limit) if kind == "graph" else p.parse_select(body, kind, limit)

    def graphs(self) -> dict[str, int]:
        """Return each of the KB's own graphs with its number of triples (cached a few seconds)."""
        if self._counts is None or time.monotonic() - self._counted_at > GRAPHS_TTL:
            own = " || ".join(f"STRSTARTS(STR(?g), {_literal(x)})" for x in self.graph_prefixes)
            answer = self._read(
                f"SELECT ?g (COUNT(*) AS ?n) WHERE {{ GRAPH ?g {{ ?s ?p ?o }} FILTER({own}) }} GROUP BY ?g",
                "select", 1_000_000, self.read_timeout,
            )
            counts = {row[0][1]: int(row[1][1]) for row in answer["rows"] if row[0] and row[1]}
            self._counts = {g: n for g, n in sorted(counts.items()) if self.own(g)}
            self._counted_at = time.monotonic()
        return dict(self._counts)

    def query(self, request: QueryRequest) -> QueryResult:
        """Send a checked query with its dataset and its own time limit; cap rows locally."""
        prologue = " ".join(f"PREFIX {k}: {iri_ref(v)}" for k, v in request.prefixes.items())
        try:
            kind = p.query_kind(request.query, request.prefixes)
        except SyntaxError as err:
            raise syntax_error(str(err)) from None
        named = request.named_graphs
        if request.default_graphs and named is None:
            named = list(self.graphs())  # GRAPH ?g sees the KB's graphs, and only those
        dataset = [("default-graph-uri", g) for g in request.default_graphs or []]
        dataset += [("named-graph-uri", g) for g in named or []]
        start = time.monotonic()
        answer = self._read(prologue + "\n" + request.query, kind, request.limit, request.timeout,
                            dataset)
        return QueryResult.from_answer(answer, time.monotonic() - start, request.limit)

    def quads(self, graph: str | None = None) -> Iterator[ox.Quad]:
        """Iterate the quads of one graph, or of every graph of the KB's own."""
        for name in [graph] if graph else list(self.graphs()):
            g = ox.NamedNode(name)
            answer = self._read(f"SELECT ?s ?p ?o WHERE {{ GRAPH {iri_ref(name)} {{ ?s ?p ?o }} }}",
                                "select", 1 << 62, self.write_timeout)
            for s, pr, o in answer["rows"]:
                yield ox.Quad(p.to_ox_term(s), p.to_ox_term(pr), p.to_ox_term(o), g)

    # -- writing ---------------------------------------------------------
    def replace_graphs(
        self,
        files: Sequence[tuple[Path, str]],
        extra: Sequence[tuple[bytes, str]] = (),
        clear_others: bool = False,
        prepare: Prepare | None = None,
    ) -> None:
        """Parse locally, upload each graph to a staging graph in chunks, then switch all at once."""
        local = ox.Store()
        loaded: list[tuple[str, str]] = []
        stage(local, files, extra, prepare, loaded, set())
        targets = list(dict.fromkeys(t for _, t in loaded))
        run = f"{STAGING}{uuid.uuid4().hex}/"
        staging = {t: f"{run}{n}" for n, t in enumerate(targets)}
        try:
            for target, into in staging.items():
                triples = [q.triple for q in local.quads_for_pattern(None, None, None, ox.NamedNode(target))]
                for batch in p.chunks(triples, CHUNK_TRIPLES):
                    self._upload(into, batch)
            drops = [g for g in self.graphs() if g not in staging] if clear_others else []
            ops = [f"DROP SILENT GRAPH {iri_ref(g)}" for g in drops]
            for target, into in staging.items():
                ops.append(f"DROP SILENT GRAPH {iri_ref(target)}")
                ops.append(f"MOVE SILENT GRAPH {iri_ref(into)} TO GRAPH {iri_ref(target)}")
            if ops:
                self._send_update(" ;\n".join(ops))
        finally:
            # Whatever happened, no staging graph stays behind (after a switch they are empty).
            if staging:
                self._send_update(" ;\n".join(f"DROP SILENT GRAPH {iri_ref(g)}" for g in staging.values()))

    def _upload(self, graph: str, triples: list[ox.Triple]) -> None:
        data = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES)
        url = p.store_url(self.update_endpoint, self.engine, graph)
        if url is not None:
            p.send(url, [], "*/*", self.write_timeout, body=data, content_type="application/n-triples")
        else:
            self._send_update(f"INSERT DATA {{ GRAPH {iri_ref(graph)} {{\n{data.decode('utf-8')}}} }}")

    def update(self, sparql: str, prefixes: dict[str, str] = PREFIXES, default_as: str | None = None) -> None:
        """Send a checked update as one request (atomic where the server makes requests atomic).

        It must name the KB's own graphs: the server's default graph is not the KB's, and on
        Virtuoso it is the union of every graph on the server.
        """
        from .updates import check_update

        check_update(sparql, prefixes, self.own)
        self._send_update(sparql, prefixes)

    def _send_update(self, sparql: str, prefixes: dict[str, str] | None = None) -> None:
        self._counts = None  # graph sizes change with every write
        prologue = " ".join(f"PREFIX {k}: {iri_ref(v)}" for k, v in (prefixes or {}).items())
        body = (prologue + "\n" + sparql) if prologue else sparql
        p.send(self.update_endpoint, [], "*/*", self.write_timeout, body=urlencoded(body),
               content_type="application/x-www-form-urlencoded")

    def close(self) -> None:
        """Nothing to release: each request is its own connection."""


def urlencoded(update: str) -> bytes:
    """An update as a form body (Virtuoso never answers a direct application/sparql-update POST)."""
    import urllib.parse

    return urllib.parse.urlencode([("update", update)]).encode("ascii")


def _literal(text: str) -> str:
    return ox.Literal(text).__str__()
