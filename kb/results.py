"""Query results: one data structure, then renderers (Datasette-style).

Rows arrive from the worker as small encoded tuples. They become rdflib terms
only when someone reads ``rows`` or ``triples``: building rdflib Literals is the
slowest step of a large answer, and the JSON, CSV and TSV renderers never need it.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from rdflib import Variable
from rdflib.query import Result
from rdflib.term import Identifier

from .errors import KBError
from .terms import XSD_STRING, Encoded, decode

Triple = tuple[Identifier, Identifier, Identifier]

RESULT_FORMATS = ("json", "xml", "csv", "tsv")


@dataclass
class QueryResult:
    """What a query returned, with the caps that applied to it."""

    kind: str  # "select", "ask" or "graph"
    variables: list[str] = field(default_factory=list)
    encoded_rows: list[list[Encoded | None]] = field(default_factory=list, repr=False)
    boolean: bool | None = None
    encoded_triples: list[tuple[Encoded, Encoded, Encoded]] = field(default_factory=list, repr=False)
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
            return cls(kind, answer["variables"], answer["rows"], truncated=answer["truncated"],
                       elapsed=elapsed, limit=limit)
        return cls(kind, encoded_triples=answer["triples"], truncated=answer["truncated"],
                   elapsed=elapsed, limit=limit)

    @cached_property
    def rows(self) -> list[dict[str, Identifier]]:
        """SELECT rows as dicts of variable -> rdflib term (unbound variables left out)."""
        names = self.variables
        terms: dict[Encoded, Identifier] = {}  # rdflib terms are immutable: build each one once

        def term(enc: Encoded) -> Identifier:
            found = terms.get(enc)
            if found is None:
                found = terms[enc] = decode(enc)
            return found

        return [
            {n: term(v) for n, v in zip(names, row, strict=True) if v is not None}
            for row in self.encoded_rows
        ]

    @cached_property
    def triples(self) -> list[Triple]:
        """CONSTRUCT/DESCRIBE triples as rdflib terms."""
        return [(decode(s), decode(p), decode(o)) for s, p, o in self.encoded_triples]

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON APIs and templates: terms as SPARQL JSON bindings."""
        return {
            "kind": self.kind,
            "variables": self.variables,
            "rows": [
                {n: _binding(v) for n, v in zip(self.variables, row, strict=True) if v is not None}
                for row in self.encoded_rows
            ],
            "boolean": self.boolean,
            "triples": [[_binding(t) for t in tr] for tr in self.encoded_triples],
            "truncated": self.truncated,
            "elapsed": self.elapsed,
        }

    def serialize(self, fmt: str, prefixes: dict[str, str] | None = None) -> bytes:
        """Render in a SPARQL results format (SELECT/ASK) or an RDF format (graphs)."""
        if self.kind == "graph":
            from .export import serialize_triples  # late: export is the graph writer

            return serialize_triples(self.triples, fmt, prefixes=prefixes or {})
        renderer = _RENDERERS.get(fmt)
        if renderer is None:
            raise KBError(f"unknown results format {fmt!r}; use one of {', '.join(RESULT_FORMATS)}")
        return renderer(self)


def _binding(enc: Encoded) -> dict[str, str]:
    """One term in the SPARQL 1.1 JSON results form."""
    kind = enc[0]
    if kind == "u":
        return {"type": "uri", "value": enc[1]}
    if kind == "b":
        return {"type": "bnode", "value": enc[1]}
    d = {"type": "literal", "value": enc[1]}
    if enc[3]:
        d["xml:lang"] = enc[3]
    elif enc[2] != XSD_STRING:
        d["datatype"] = enc[2]
    return d


def _json(result: QueryResult) -> bytes:
    if result.kind == "ask":
        doc: dict[str, Any] = {"head": {}, "boolean": bool(result.boolean)}
    else:
        bindings = [
            {n: _binding(v) for n, v in zip(result.variables, row, strict=True) if v is not None}
            for row in result.encoded_rows
        ]
        doc = {"head": {"vars": result.variables}, "results": {"bindings": bindings}}
    return json.dumps(doc, ensure_ascii=False).encode("utf-8")


def _xml(result: QueryResult) -> bytes:
    out = io.BytesIO()
    rdf = Result("ASK" if result.kind == "ask" else "SELECT")
    if result.kind == "ask":
        rdf.askAnswer = bool(result.boolean)
    else:
        rdf.vars = [Variable(v) for v in result.variables]
        rdf.bindings = [{Variable(k): v for k, v in r.items()} for r in result.rows]
    rdf.serialize(out, encoding="utf-8", format="xml")
    return out.getvalue()


def _csv(result: QueryResult) -> bytes:
    """SPARQL 1.1 CSV: plain lexical values, CRLF line ends."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    if result.kind == "ask":
        writer.writerows([["_askResult"], ["true" if result.boolean else "false"]])
    else:
        writer.writerow(result.variables)
        for row in result.encoded_rows:
            writer.writerow(["" if v is None else ("_:" + v[1] if v[0] == "b" else v[1]) for v in row])
    return out.getvalue().encode("utf-8")


def _tsv(result: QueryResult) -> bytes:
    """SPARQL 1.1 TSV: terms in N-Triples syntax, variables with '?'."""
    if result.kind == "ask":
        return b"?_askResult\n" + (b"true\n" if result.boolean else b"false\n")
    lines = ["\t".join("?" + v for v in result.variables)]
    lines += ["\t".join("" if v is None else _nt(v) for v in row) for row in result.encoded_rows]
    return ("\n".join(lines) + "\n").encode("utf-8")


_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"})


def _nt(enc: Encoded) -> str:
    """One encoded term in N-Triples syntax."""
    if enc[0] == "u":
        return f"<{enc[1]}>"
    if enc[0] == "b":
        return f"_:{enc[1]}"
    text = '"' + enc[1].translate(_ESCAPES) + '"'
    if enc[3]:
        return f"{text}@{enc[3]}"
    return text if enc[2] == XSD_STRING else f"{text}^^<{enc[2]}>"


_RENDERERS = {"json": _json, "xml": _xml, "csv": _csv, "tsv": _tsv}
