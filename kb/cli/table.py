"""Plain-text tables for the terminal: aligned columns, IRIs shortened with the KB prefixes."""

from __future__ import annotations

import unicodedata
from typing import Any

from rdflib import BNode, Literal, URIRef

MAX_CELL = 60  # display columns per cell; longer values end in an ellipsis
_WIDE = {"W", "F"}  # East Asian wide/fullwidth characters take two terminal columns


def compact(iri: str, prefixes: dict[str, str]) -> str:
    """Return ``prefix:local`` for the longest matching namespace, else ``<iri>``."""
    best = ""
    for prefix, ns in prefixes.items():
        if iri.startswith(ns) and len(ns) > len(prefixes.get(best, "")):
            local = iri[len(ns):]
            if local and all(c.isalnum() or c in "_-." for c in local):
                best = prefix
    return f"{best}:{iri[len(prefixes[best]):]}" if best else f"<{iri}>"


def cell(term: Any, prefixes: dict[str, str]) -> str:
    """Render one RDF term (rdflib) for a table cell."""
    if term is None:
        return ""
    if isinstance(term, URIRef):
        return compact(str(term), prefixes)
    if isinstance(term, BNode):
        return f"_:{term}"
    if isinstance(term, Literal):
        return str(term)  # the lexical form: tags and datatypes would clutter the table
    return str(term)


def width(text: str) -> int:
    """Terminal columns ``text`` occupies."""
    return sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in _WIDE
               else 1 for c in text)


def _fit(text: str, limit: int = MAX_CELL) -> str:
    # Control characters would break the alignment (and could drive the terminal).
    text = "".join("⏎" if c == "\n" else " " if unicodedata.category(c)[0] == "C" else c
                   for c in text)
    if width(text) <= limit:
        return text
    out, used = [], 0
    for c in text:
        w = width(c)
        if used + w > limit - 1:
            break
        out.append(c)
        used += w
    return "".join(out) + "…"


def _pad(text: str, cols: int) -> str:
    return text + " " * (cols - width(text))


def table(headers: list[str], rows: list[list[str]]) -> str:
    """Align ``rows`` under ``headers``; every value is already text.

    Cells are capped at MAX_CELL columns except in the last column, which nothing follows.
    """
    last = len(headers) - 1
    fitted = [[_fit(v, MAX_CELL if i < last else 10_000) for i, v in enumerate(row)]
              for row in rows]
    cols = [max([width(h), *(width(r[i]) for r in fitted)]) for i, h in enumerate(headers)]
    lines = ["  ".join(_pad(h, c) for h, c in zip(headers, cols, strict=True)).rstrip(),
             "  ".join("-" * c for c in cols)]
    lines += ["  ".join(_pad(v, c) for v, c in zip(r, cols, strict=True)).rstrip() for r in fitted]
    return "\n".join(lines)


def render_rows(rows: list[dict[str, str]], prefixes: dict[str, str]) -> str:
    """A table of plain dicts (same keys); IRI-looking values are shortened."""
    if not rows:
        return "(no rows)"
    headers = list(rows[0])

    def show(value: str) -> str:
        if value.startswith(("http://", "https://", "urn:")) and " " not in value:
            return compact(value, prefixes)
        return value

    return table(headers, [[show(r.get(h, "")) for h in headers] for r in rows])


def render_result(result: Any, prefixes: dict[str, str]) -> str:
    """A QueryResult as an aligned table (ASK: true/false) with a row count."""
    if result.kind == "ask":
        return "true" if result.boolean else "false"
    if result.kind == "graph":
        headers = ["subject", "predicate", "object"]
        rows = [[cell(t, prefixes) for t in triple] for triple in result.triples]
    else:
        headers = [f"?{v}" for v in result.variables]
        rows = [[cell(r.get(v), prefixes) for v in result.variables] for r in result.rows]
    n = len(rows)
    noun = "triple" if result.kind == "graph" else "row"
    footer = f"({n} {noun}{'' if n == 1 else 's'}{', truncated' if result.truncated else ''}, " \
             f"{result.elapsed:.2f} s)"
    return table(headers, rows) + "\n" + footer


def render_description(desc: Any, prefixes: dict[str, str]) -> str:
    """An entity's description: header, then outgoing and incoming statements."""
    lines = [f"{desc.label}  {compact(desc.iri, prefixes)}"]
    if desc.types:
        lines.append("type: " + ", ".join(f"{t.label} ({compact(t.iri, prefixes)})"
                                          for t in desc.types))
    if desc.alt_labels:
        lines.append("also known as: " + "; ".join(desc.alt_labels))
    if desc.definition:
        lines.append("definition: " + " ".join(desc.definition.split()))
    for title, groups in (("statements", desc.outgoing), ("referenced by", desc.incoming)):
        rows = [[g.label, _value(v, prefixes)] for g in groups for v in g.values]
        if rows:
            lines += ["", f"{title}:", table(["property", "value"], rows)]
    if desc.truncated:
        lines.append("(truncated: the entity has more statements than shown)")
    return "\n".join(lines)


def _value(value: Any, prefixes: dict[str, str]) -> str:
    text = value.label if value.is_iri else cell(value.term, prefixes)
    if value.is_iri and value.label != str(value.term):
        text = f"{value.label} ({compact(str(value.term), prefixes)})"
    if value.details:
        text += " [" + "; ".join(f"{k}: {v}" for k, v in value.details) + "]"
    return text + ("  (inferred)" if value.inferred else "")
