"""Query results: one data structure, then renderers (Datasette-style)."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

from rdflib import BNode, Literal, URIRef, Variable
from rdflib.query import Result
from rdflib.term import Identifier

from .errors import KBError
from .terms import decode

Triple = tuple[Identifier, Identifier, Identifier]

RESULT_FORMATS = ("json", "xml", "csv", "tsv")
GRAPH_FORMATS = ("turtle", "nt", "jsonld", "xml")


@dataclass
class QueryResult:
    """What a query returned, with the caps that applied to it."""

    kind: str  # "select", "ask" or "graph"
    variables: list[str] = field(default_factory=list)
    rows: list[dict[str, Identifier]] = field(default_factory=list)
    boolean: bool | None = None
    triples: list[Triple] = field(default_factory=list)
    truncated: bool = False
    elapsed: float = 0.0
    limit: int = 0

    @classmethod
    def from_answer(cls, answer: dict[str, Any], elapsed: float, limit: int) -> QueryResult:
        """Build a result from a worker's encoded answer."""
        kind = answer["kind"]
        if kind == "ask":
            return cls(kind, boolean=answer["boolean"], elapsed=elapsed, limit=limit)
        if kind == "select":
            names = answer["variables"]
            rows = [
                {n: decode(v) for n, v in zip(names, row, strict=True) if v is not None}
                for row in answer["rows"]
            ]
            return cls(kind, names, rows, truncated=answer["truncated"], elapsed=elapsed, limit=limit)
        triples = [(decode(s), decode(p), decode(o)) for s, p, o in answer["triples"]]
        return cls(kind, triples=triples, truncated=answer["truncated"], elapsed=elapsed, limit=limit)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON APIs and templates: terms as N-Triples-ish strings."""
        return {
            "kind": self.kind,
            "variables": self.variables,
            "rows": [{k: _plain(v) for k, v in r.items()} for r in self.rows],
            "boolean": self.boolean,
            "triples": [[_plain(t) for t in tr] for tr in self.triples],
            "truncated": self.truncated,
            "elapsed": self.elapsed,
        }

    def serialize(self, fmt: str, prefixes: dict[str, str] | None = None) -> bytes:
        """Render in a SPARQL results format (SELECT/ASK) or an RDF format (graphs)."""
        if self.kind == "graph":
            from .export import serialize_triples  # late: export is the graph writer

            return serialize_triples(self.triples, fmt, prefixes=prefixes or {})
        if fmt == "tsv":
            return _tsv(self)
        if fmt not in RESULT_FORMATS:
            raise KBError(f"unknown results format {fmt!r}; use one of {', '.join(RESULT_FORMATS)}")
        result = Result("ASK" if self.kind == "ask" else "SELECT")
        if self.kind == "ask":
            result.askAnswer = bool(self.boolean)
        else:
            result.vars = [Variable(v) for v in self.variables]
            result.bindings = [{Variable(k): v for k, v in r.items()} for r in self.rows]
        out = io.BytesIO()
        result.serialize(out, encoding="utf-8", format=fmt)
        return out.getvalue()


def _plain(term: Identifier) -> dict[str, str]:
    if isinstance(term, URIRef):
        return {"type": "uri", "value": str(term)}
    if isinstance(term, BNode):
        return {"type": "bnode", "value": str(term)}
    assert isinstance(term, Literal)
    d = {"type": "literal", "value": str(term)}
    if term.language:
        d["xml:lang"] = term.language
    elif term.datatype is not None:
        d["datatype"] = str(term.datatype)
    return d


def _tsv(result: QueryResult) -> bytes:
    """SPARQL 1.1 TSV: terms in Turtle/N-Triples syntax, variables with '?'."""
    if result.kind == "ask":
        return b"?_askResult\n" + (b"true\n" if result.boolean else b"false\n")
    lines = ["\t".join("?" + v for v in result.variables)]
    for row in result.rows:
        lines.append("\t".join(row[v].n3() if v in row else "" for v in result.variables))
    return ("\n".join(lines) + "\n").encode("utf-8")
