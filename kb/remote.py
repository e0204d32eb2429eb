"""A backend on any SPARQL 1.1 server (Oxigraph, Fuseki, Virtuoso, GraphDB...).

It speaks only the SPARQL 1.1 Protocol, so the same KnowledgeBase code runs on
a server when one machine is no longer enough. Files are parsed locally first
(so errors keep file:line:column) and sent as one update request, which the
server applies atomically.
"""

from __future__ import annotations

import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from .backend import QueryRequest, UpdateRequest
from .engine import DEFAULT_GRAPH, StoreSpec
from .errors import KBError, QuerySyntaxError, QueryTimeout, StoreError
from .namespaces import GRAPH_BASE
from .oxstore import Prepare, stage
from .results import QueryResult, capture
from .terms import iri_ref
from .worker import WorkerPool, check, syntax_error

UPDATES = GRAPH_BASE + "updates"  # stands in for the server's default graph during an update
_ACCEPT = "application/sparql-results+json, application/n-triples;q=0.9"
_CHUNK = 1 << 16


class _Triples:
    """Parsed triples, with the ``serialize`` a CONSTRUCT answer has (what ``capture`` calls)."""

    def __init__(self, triples: Iterator[ox.Triple]) -> None:
        self.triples = triples

    def serialize(self, output: Any = None, format: Any = None) -> bytes | None:
        """Write the triples with the engine's serialiser."""
        return ox.serialize(self.triples, output, format=format)


class RemoteBackend:
    """The Backend protocol over HTTP: query and update endpoints of a SPARQL 1.1 server."""

    def _checker(self) -> WorkerPool:
        # The server runs the queries; a local fenced worker with an empty store parses them first.
        if self._pool is None:
            self._pool = WorkerPool(1)
            self._pool.reset(StoreSpec())
        return self._pool

    def __init__(self, endpoint: str, update_endpoint: str | None = None, write_timeout: float = 600) -> None:
        if urllib.parse.urlsplit(endpoint).scheme not in ("http", "https"):
            raise KBError(f"endpoint must be an http(s) URL: {endpoint!r}")
        self.endpoint = endpoint
        self.update_endpoint = update_endpoint or endpoint
        self.write_timeout = write_timeout
        self._counts: dict[str, int] | None = None
        self._pool: WorkerPool | None = None

    # -- HTTP --------------------------------------------------------------
    def _post(self, url: str, body: str, content_type: str, timeout: float) -> tuple[str, bytes]:
        """POST and read the whole answer before the deadline, or raise QueryTimeout."""
        deadline = time.monotonic() + timeout
        request = urllib.request.Request(
            url, data=body.encode("utf-8"), headers={"Content-Type": content_type, "Accept": _ACCEPT}
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                chunks = []
                while chunk := response.read(_CHUNK):
                    chunks.append(chunk)
                    if time.monotonic() > deadline:
                        raise QueryTimeout(timeout)
                return response.headers.get_content_type(), b"".join(chunks)
        except urllib.error.HTTPError as err:
            message = err.read().decode("utf-8", "replace").strip()
            if err.code == 400:
                raise syntax_error(message, line_shift=1) from None
            raise StoreError(f"SPARQL server answered {err.code}: {message[:300]}") from None
        except TimeoutError:
            raise QueryTimeout(timeout) from None
        except urllib.error.URLError as err:
            if isinstance(err.reason, TimeoutError):
                raise QueryTimeout(timeout) from None
            raise StoreError(f"cannot reach SPARQL server {url}: {err.reason}") from None

    def _select(self, sparql: str, timeout: float, limit: int, params: str = "") -> dict[str, Any]:
        url = self.endpoint + ("&" if "?" in self.endpoint else "?") + params if params else self.endpoint
        ctype, body = self._post(url, sparql, "application/sparql-query", timeout)
        if ctype == "application/n-triples":
            # The server's triples, re-written by the local engine up to the row cap.
            return capture(_Triples(ox.parse(body, format=ox.RdfFormat.N_TRIPLES)), limit)
        return capture(ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON), limit)

    # -- Backend protocol --------------------------------------------------
    def graphs(self) -> dict[str, int]:
        """Return each named graph IRI with its number of triples."""
        if self._counts is None:
            answer = self._select(
                "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g",
                self.write_timeout,
                1_000_000,
            )
            rows = QueryResult.from_answer(answer, 0.0, 1_000_000).rows
            self._counts = {str(row["g"]): int(row["n"]) for row in rows}
        return dict(sorted(self._counts.items()))

    def query(self, request: QueryRequest) -> QueryResult:
        """Parse-check the query in a fenced local worker, then send it with the dataset as protocol
        parameters (the KB's default, all its graphs, unless the query or the caller names one)."""
        own_dataset = check(self._checker(), request.query, False, request.timeout)
        default, named = request.default_graphs, request.named_graphs
        if default is None and not own_dataset:
            default = list(self.graphs())
        # The protocol cannot name a server's default graph: the KB's graphs are all named.
        params = [("default-graph-uri", g) for g in default or [] if g != DEFAULT_GRAPH]
        params += [("named-graph-uri", g) for g in named or []]
        # One prologue line: server positions are shifted back by exactly one line.
        prologue = " ".join(f"PREFIX {p}: {iri_ref(i)}" for p, i in request.prefixes.items())
        start = time.monotonic()
        answer = self._select(
            prologue + "\n" + request.query, request.timeout, request.limit, urllib.parse.urlencode(params)
        )
        return QueryResult.from_answer(answer, time.monotonic() - start, request.limit)

    def quads(self, graph: str | None = None) -> Iterator[ox.Quad]:
        """Iterate the quads of one graph, or of every named graph."""
        where = f"GRAPH {iri_ref(graph)} {{ ?s ?p ?o }} BIND({iri_ref(graph)} AS ?g)" if graph else (
            "GRAPH ?g { ?s ?p ?o }"
        )
        _, body = self._post(
            self.endpoint, f"SELECT ?s ?p ?o ?g WHERE {{ {where} }}", "application/sparql-query",
            self.write_timeout,
        )
        for row in ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON):
            yield ox.Quad(row["s"], row["p"], row["o"], row["g"])

    def replace_graphs(
        self,
        files: Sequence[tuple[Path, str]],
        extra: Sequence[tuple[bytes, str]] = (),
        clear_others: bool = False,
        prepare: Prepare | None = None,
    ) -> None:
        """Parse locally (file:line:column errors), then swap graphs in with one update request."""
        local = ox.Store()
        loaded: list[tuple[str, str]] = []
        stage(local, files, extra, prepare, loaded, set())
        targets = [t for _, t in loaded]
        drops = [g for g in self.graphs() if g not in targets] if clear_others else []
        ops = [f"DROP SILENT GRAPH {iri_ref(g)}" for g in drops + targets]
        for target in targets:
            triples = [q.triple for q in local.quads_for_pattern(None, None, None, ox.NamedNode(target))]
            body = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES).decode("utf-8")
            ops.append(f"INSERT DATA {{ GRAPH {iri_ref(target)} {{\n{body}}} }}")
        if ops:
            self._send_update(" ;\n".join(ops), {})

    def update(self, request: UpdateRequest) -> None:
        """Parse-check the update in a fenced local worker, then send it to the server.

        A server's default graph is not part of the KB's default graph (that is the KB's named
        graphs), so the updates graph stands in for it while the update runs.
        """
        check(self._checker(), request.update, True, request.timeout)
        self._send_update(f"ADD SILENT GRAPH {iri_ref(UPDATES)} TO DEFAULT", {})
        try:
            self._send_update(request.update, request.prefixes)
        finally:
            self._send_update(f"MOVE SILENT DEFAULT TO GRAPH {iri_ref(UPDATES)}", {})

    def _send_update(self, sparql: str, prefixes: dict[str, str]) -> None:
        self._counts = None  # graph sizes change with every write
        prologue = " ".join(f"PREFIX {p}: {iri_ref(i)}" for p, i in prefixes.items())
        try:
            body = prologue + "\n" + sparql
            self._post(self.update_endpoint, body, "application/sparql-update", self.write_timeout)
        except QuerySyntaxError as err:
            if err.line is None:
                raise
            raise QuerySyntaxError(err.line - 1, err.column, err.detail) from None

    def close(self) -> None:
        """Stop the local check worker; each request is its own connection."""
        if self._pool is not None:
            self._pool.close()
