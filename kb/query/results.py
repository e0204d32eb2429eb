"""Query results as the engine wrote them: bytes in a standard format, plus the caps that applied.

The worker has pyoxigraph serialise every answer (SPARQL JSON, XML, CSV, TSV, or
an RDF format), so what a client receives is the engine's own output, byte for
byte. The row cap is applied on the way out: the engine writes TSV (one
solution a line) or N-Triples (one triple a line) until the cap, and only what
fits is converted, by the engine again, into the asked-for format. Python code
that wants rows reads them back with the engine's parser; their terms keep their
exact lexical form.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import pyoxigraph as ox
from rdflib.term import Identifier

from kb.errors import KBError
from kb.terms import from_ox

Triple = tuple[Identifier, Identifier, Identifier]

RESULT_FORMATS: dict[str, ox.QueryResultsFormat] = {
    "json": ox.QueryResultsFormat.JSON,
    "xml": ox.QueryResultsFormat.XML,
    "csv": ox.QueryResultsFormat.CSV,
    "tsv": ox.QueryResultsFormat.TSV,
}
GRAPH_FORMATS: dict[str, ox.RdfFormat] = {
    "turtle": ox.RdfFormat.TURTLE,
    "nt": ox.RdfFormat.N_TRIPLES,
    "jsonld": ox.RdfFormat.JSON_LD,
    "xml": ox.RdfFormat.RDF_XML,
    "n3": ox.RdfFormat.N3,
    "nq": ox.RdfFormat.N_QUADS,
    "trig": ox.RdfFormat.TRIG,
}
_READABLE = ("tsv", "json", "xml")  # the results formats the engine can read back


class _Full(Exception):
    """Raised into the engine's serialiser once the cap is reached: it stops the evaluation too."""


class _CappedLines:
    """A byte sink that stops the writer after a number of lines."""

    def __init__(self, lines: int) -> None:
        self.lines = lines
        self.chunks: list[bytes] = []
        self.seen = 0
        self.full = False

    def write(self, data: bytes) -> int:
        self.chunks.append(bytes(data))
        self.seen += data.count(b"\n")
        if self.seen > self.lines:
            self.full = True
            raise _Full
        return len(data)

    def flush(self) -> None:
        """Nothing is buffered here."""

    def value(self) -> bytes:
        data = b"".join(self.chunks)
        if self.full:  # keep exactly the lines that fit
            end = -1
            for _ in range(self.lines):
                end = data.index(b"\n", end + 1)
            data = data[: end + 1]
        return data


def _capped(write: Callable[..., Any], fmt: Any, lines: int) -> tuple[bytes, bool]:
    sink = _CappedLines(lines)
    with contextlib.suppress(_Full):  # pyoxigraph hands the sink's exception back unchanged
        write(output=sink, format=fmt)
    return sink.value(), sink.full


def capture(answer: Any, limit: int, fmt: str | dict[str, str] | None = None,
            prefixes: dict[str, str] | None = None) -> dict:
    """Have the engine write a pyoxigraph answer in ``fmt`` (or ``fmt[kind]``), keeping ``limit`` rows."""
    if isinstance(fmt, dict):  # the caller negotiated one format per kind before knowing the kind
        fmt = fmt.get(_kind(answer))
    if isinstance(answer, ox.QueryBoolean):
        fmt = fmt or "json"
        body = answer.serialize(format=_results_format(fmt))
        return {"kind": "ask", "format": fmt, "body": body, "truncated": False}
    if isinstance(answer, ox.QuerySolutions):
        fmt = fmt or "tsv"
        target = _results_format(fmt)
        tsv, truncated = _capped(answer.serialize, ox.QueryResultsFormat.TSV, limit + 1)  # + header
        if fmt != "tsv":
            tsv = ox.parse_query_results(tsv, format=ox.QueryResultsFormat.TSV).serialize(format=target)
        return {"kind": "select", "format": fmt, "body": tsv, "truncated": truncated}
    fmt = fmt or "nt"
    target = _graph_format(fmt)
    nt, truncated = _capped(answer.serialize, ox.RdfFormat.N_TRIPLES, limit)
    if fmt != "nt":
        nt = ox.serialize(ox.parse(nt, format=ox.RdfFormat.N_TRIPLES), format=target, prefixes=prefixes)
    return {"kind": "graph", "format": fmt, "body": nt, "truncated": truncated}


def _kind(answer: Any) -> str:
    if isinstance(answer, ox.QueryBoolean):
        return "ask"
    return "select" if isinstance(answer, ox.QuerySolutions) else "graph"


def _results_format(fmt: str) -> ox.QueryResultsFormat:
    found = RESULT_FORMATS.get(fmt)
    if found is None:
        raise KBError(f"unknown results format {fmt!r}; use one of {', '.join(RESULT_FORMATS)}")
    return found


def _graph_format(fmt: str) -> ox.RdfFormat:
    found = GRAPH_FORMATS.get(fmt)
    if found is None:
        raise KBError(f"unknown RDF format {fmt!r}; use one of {', '.join(GRAPH_FORMATS)}")
    return found


@dataclass
class QueryResult:
    """What a query returned: the engine's bytes in ``format``, with the caps that applied."""

    kind: str  # "select", "ask" or "graph"
    body: bytes
    format: str
    truncated: bool = False
    elapsed: float = 0.0
    limit: int = 0

    @classmethod
    def from_answer(cls, answer: dict[str, Any], elapsed: float, limit: int) -> QueryResult:
        """Build a result from what ``capture`` returned."""
        return cls(answer["kind"], answer["body"], answer["format"], answer["truncated"], elapsed, limit)

    @cached_property
    def _solutions(self) -> tuple[list[str], list[tuple[Any, ...]]] | bool:
        if self.format not in _READABLE:
            raise KBError(f"rows cannot be read back from {self.format}; query with format='tsv'")
        parsed = ox.parse_query_results(self.body, format=RESULT_FORMATS[self.format])
        if isinstance(parsed, ox.QueryBoolean):
            return bool(parsed)
        names = [v.value for v in parsed.variables]
        # A solution iterates its values in the variables' order (None where unbound): 3-5x
        # faster than looking each one up by name, which was most of kb's cost over raw.
        return names, [tuple(solution) for solution in parsed]

    @property
    def boolean(self) -> bool | None:
        """The answer of an ASK query."""
        return self._solutions if self.kind == "ask" else None  # type: ignore[return-value]

    @property
    def variables(self) -> list[str]:
        """The SELECT variables, in order."""
        return self._solutions[0] if self.kind == "select" else []  # type: ignore[index]

    @property
    def values(self) -> list[tuple[Any, ...]]:
        """SELECT rows as tuples of pyoxigraph terms in ``variables`` order (None: unbound), unconverted."""
        return self._solutions[1] if self.kind == "select" else []  # type: ignore[index]

    @cached_property
    def rows(self) -> list[dict[str, Identifier]]:
        """SELECT rows as dicts of variable -> rdflib term, lexical forms kept (unbound left out)."""
        if self.kind != "select":
            return []
        names, values = self._solutions  # type: ignore[misc]
        terms: dict[Any, Identifier] = {}  # convert each distinct term once

        def term(value: Any) -> Identifier:
            found = terms.get(value)
            if found is None:
                found = terms[value] = from_ox(value)
            return found

        return [{n: term(v) for n, v in zip(names, row, strict=True) if v is not None} for row in values]

    @cached_property
    def triples(self) -> list[Triple]:
        """CONSTRUCT/DESCRIBE triples as rdflib terms."""
        if self.kind != "graph":
            return []
        fmt = GRAPH_FORMATS[self.format]
        parsed = ox.parse(self.body, format=fmt)
        return [(from_ox(t.subject), from_ox(t.predicate), from_ox(t.object)) for t in parsed]

    def serialize(self, fmt: str, prefixes: dict[str, str] | None = None) -> bytes:
        """The answer in another format, converted by the engine (the same bytes if ``fmt`` matches)."""
        if fmt == self.format and not (prefixes and self.kind == "graph"):
            return self.body
        if self.kind == "graph":
            parsed = ox.parse(self.body, format=GRAPH_FORMATS[self.format])
            return ox.serialize(parsed, format=_graph_format(fmt), prefixes=prefixes)
        target = _results_format(fmt)
        if self.format not in _READABLE:
            raise KBError(f"cannot convert {self.format} results; query with the format you need")
        return ox.parse_query_results(self.body, format=RESULT_FORMATS[self.format]).serialize(format=target)
