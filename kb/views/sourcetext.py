"""A source document's text cut into segments, each knowing which quotes cover it."""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from rdflib import Literal

from kb.derived.memo import memo
from kb.errors import NotFound
from kb.namespaces import CKB
from kb.terms import iri_ref
from kb.views.browse import labels


@dataclass
class Span:
    """One quote's place in the text, with the claims that cite it and what they support."""

    number: int
    quote: str
    start: int
    end: int
    exact: str
    matches: bool  # the text at [start, end) is the quote's ckb:exact, character for character
    claims: list[tuple[str, str]] = field(default_factory=list)
    supports: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Segment:
    """A run of text; ``spans`` are the numbers of the quotes that cover it (empty = plain)."""

    text: str
    spans: list[int]
    ends: list[int] = field(default_factory=list)  # spans that end here (footnote marks)


@dataclass
class DocumentView:
    """A document's text with its quotes placed, and any quote that could not be placed."""

    iri: str
    label: str
    text: str
    spans: list[Span]
    segments: list[Segment]
    unplaced: list[Span]


DOCS_LISTED = 200  # past this many documents with text, the list keeps the most quoted


class DocList(list):
    """The reader's documents with text, as (iri, label, quotes placed) by label; ``total`` counts
    every document with text and ``truncated`` says the list kept only the most quoted."""

    total: int = 0
    truncated: bool = False


def documents(kb: Any) -> DocList:
    """List documents with text as (iri, label, number of quotes placed in them)."""
    held = memo(kb, "reader-documents")  # each document's page lists them all again
    if held is not None and "list" in held:
        return held["list"]
    text, doc = f"<{CKB.fullText}>", f"<{CKB.Document}>"
    total = int(kb.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ ?doc {text} ?text }}").rows[0]["n"].toPython())
    if total <= DOCS_LISTED:
        rows = kb.query(f"""
        SELECT ?doc (COUNT(DISTINCT ?q) AS ?n) WHERE {{
          # only what the reader can show: a dataset's row documents have no text. The documents
          # with text first, then their quotes: with the text as a FILTER EXISTS, the quotes of
          # every document were counted before the filter (1.1-1.7 s at 1M on Oxigraph, embedded
          # or server; 1,001 documents, one with text)
          {{ SELECT DISTINCT ?doc WHERE {{ ?doc {text} ?text . ?doc a {doc} }} }}
          OPTIONAL {{ ?q <{CKB.inDocument}> ?doc }}
        }} GROUP BY ?doc""").rows
    else:
        # A dataset's per-event sources each have a line of text and one quote (300,602 at 300k
        # GED events: listing them all took 44 s and a 432,431 px page); the reports analysts
        # read hold many quotes, so the most quoted are listed, the rest opened from their page.
        top = kb.query(f"""SELECT ?doc (COUNT(?q) AS ?n) WHERE {{ ?q <{CKB.inDocument}> ?doc }}
          GROUP BY ?doc ORDER BY DESC(?n) LIMIT {DOCS_LISTED}""").rows
        counts = {str(r["doc"]): r["n"] for r in top}
        listed = " ".join(iri_ref(d) for d in counts)
        shown = kb.query(f"""SELECT DISTINCT ?doc WHERE {{ VALUES ?doc {{ {listed} }}
          ?doc {text} ?text . ?doc a {doc} }}""").rows
        rows = [{"doc": r["doc"], "n": counts[str(r["doc"])]} for r in shown]
        if not rows:  # text everywhere and quotes nowhere: any of them, rather than none
            rows = [{**r, "n": Literal(0)} for r in kb.query(
                f"SELECT ?doc WHERE {{ ?doc {text} ?text . ?doc a {doc} }} LIMIT {DOCS_LISTED}").rows]
    names = labels(kb, [str(r["doc"]) for r in rows])
    docs = DocList(sorted(((str(r["doc"]), names[str(r["doc"])], int(r["n"].toPython())) for r in rows),
                          key=lambda d: d[1].lower()))
    docs.total, docs.truncated = total, total > DOCS_LISTED
    if held is not None:
        held["list"] = docs
    return docs


def _fetch_spans(kb: Any, node: str, text: str) -> list[Span]:
    """Every quote in the document with its offsets and the claims citing it."""
    rows = kb.query(f"""
    SELECT ?q ?exact ?start ?end ?claim ?thing WHERE {{
      ?q <{CKB.inDocument}> {node} .
      OPTIONAL {{ ?q <{CKB.exact}> ?exact }}
      OPTIONAL {{ ?q <{CKB.startOffset}> ?start }}
      OPTIONAL {{ ?q <{CKB.endOffset}> ?end }}
      OPTIONAL {{ ?claim <{CKB.hasQuote}> ?q . OPTIONAL {{ ?claim <{CKB.supports}> ?thing }} }}
    }}""").rows
    by_quote: dict[str, Span] = {}
    for row in rows:
        quote = str(row["q"])
        if quote not in by_quote:
            start, end = _int(row.get("start")), _int(row.get("end"))
            exact = str(row.get("exact") or "")
            ok = start is not None and end is not None and 0 <= start < end <= len(text)
            by_quote[quote] = Span(0, quote, start if ok else -1, end if ok else -1, exact,
                                   ok and text[start:end] == exact)
        span = by_quote[quote]
        for key, target in (("claim", span.claims), ("thing", span.supports)):
            value = row.get(key)
            if value is not None and (str(value), "") not in target:
                target.append((str(value), ""))
    spans = sorted(by_quote.values(), key=lambda s: (s.start, s.end, s.quote))
    for number, span in enumerate(spans, start=1):
        span.number = number
    return spans


def _int(term: Any) -> int | None:
    """An xsd:integer term as int, or None when missing or not a number."""
    try:
        return int(str(term)) if term is not None else None
    except ValueError:
        return None


def segment(text: str, spans: list[Span]) -> list[Segment]:
    """Cut ``text`` at every span boundary; each piece lists the spans covering it."""
    placed = [s for s in spans if s.start >= 0]
    cuts = sorted({0, len(text), *(s.start for s in placed), *(s.end for s in placed)})
    pieces = []
    for left, right in pairwise(cuts):
        covering = [s.number for s in placed if s.start <= left and right <= s.end]
        ends = [s.number for s in placed if s.end == right and s.number in covering]
        pieces.append(Segment(text[left:right], covering, ends))
    return pieces


def document_view(kb: Any, iri: str) -> DocumentView:
    """The text of document ``iri`` (ckb:fullText) with every quote placed by its offsets."""
    node = iri_ref(iri)
    rows = kb.query(f"SELECT ?t WHERE {{ {node} <{CKB.fullText}> ?t }} LIMIT 1").rows
    if not rows:
        raise NotFound(f"no document with text: {iri}")
    text = str(rows[0]["t"])
    spans = _fetch_spans(kb, node, text)
    names = labels(kb, [iri, *(i for s in spans for i, _ in s.claims + s.supports)])
    for s in spans:
        s.claims = [(i, names.get(i, i)) for i, _ in s.claims]
        s.supports = [(i, names.get(i, i)) for i, _ in s.supports]
    return DocumentView(
        iri=iri,
        label=names.get(iri, iri),
        text=text,
        spans=[s for s in spans if s.start >= 0],
        segments=segment(text, spans),
        unplaced=[s for s in spans if s.start < 0],
    )
