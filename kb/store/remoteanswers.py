"""Answers read back from a SPARQL server: capped and written locally by the engine, in the asked format."""

from __future__ import annotations

import itertools
import urllib.parse

import pyoxigraph as ox

from kb.query.results import GRAPH_FORMATS, capture
from kb.store.backend import QueryRequest


def solutions_answer(body: bytes, request: QueryRequest) -> dict:
    """SPARQL JSON from the server, capped and written by the engine in the asked format.

    The parsed solutions live only in this frame: pyoxigraph's are bound to their thread, and
    the caller's frame, when a traceback keeps it, is freed by the garbage collector on whichever
    thread runs it, which logged "unsendable PyQuerySolutions" on every remote page.
    """
    parsed = ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON)
    return capture(parsed, request.limit, request.format, request.prefixes)


def graph_answer(body: bytes, request: QueryRequest) -> dict:
    """N-Triples from the server, capped at the row limit and written by the engine in the asked format."""
    triples = list(itertools.islice(ox.parse(body, format=ox.RdfFormat.N_TRIPLES), request.limit + 1))
    # One format per kind (kb.query.results.capture) or one for all.
    fmt = (request.format.get("graph") if isinstance(request.format, dict) else request.format) or "nt"
    kept = triples[: request.limit]
    prefixes = request.prefixes if fmt != "nt" else None
    out = ox.serialize(kept, format=GRAPH_FORMATS[fmt], prefixes=prefixes) if kept else b""
    return {"kind": "graph", "format": fmt, "body": out or b"", "truncated": len(triples) > request.limit}


def urlencoded(update: str) -> bytes:
    """An update as a form body (Virtuoso never answers a direct application/sparql-update POST)."""
    return urllib.parse.urlencode([("update", update)]).encode("ascii")
