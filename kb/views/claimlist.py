"""The claims explorer's listing: count the matches, run one page of them, enrich its rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kb.derived import bitmaps as claimbitmaps
from kb.namespaces import CKB
from kb.terms import iri_ref
from kb.views import classes
from kb.views.browse import labels
from kb.views.claims import CODING, KINDS, MAX_ROWS, SORT_LIMIT, Filters, build_query, count_query
from kb.views.lookups import reader, text


@dataclass
class ClaimRow:
    """One claim in the explorer."""

    iri: str
    label: str
    quote: str
    quote_iri: str
    document: str
    kinds: list[str]
    hedges: list[str]  # ckb:Hedge individuals (IRIs)
    speakers: list[str]
    anonymity: str
    coding: list[str] = field(default_factory=list)  # a dataset coder's judgements (IRIs)
    supports: list[str] = field(default_factory=list)
    chain: Any = None  # kb.views.chains.Chain, filled in for the rows shown


def _split(value: Any, sep: str = " ") -> list[str]:
    return sorted({v for v in str(value or "").split(sep) if v})


@dataclass
class Listing:
    """One page of the explorer: the query that ran, its rows, and how they were chosen."""

    sparql: str
    rows: list[ClaimRow]
    truncated: bool
    total: int
    sorted: bool  # by label across all matches (False: more than SORT_LIMIT, store order)


def count(kb: Any, f: Filters) -> int:
    """How many claims match ``f``."""
    rows = kb.query(classes.listed(kb, count_query(f))).rows
    return int(rows[0]["n"].toPython()) if rows else 0


def run(kb: Any, f: Filters, limit: int | None = None, offset: int = 0, bitmaps: bool = True) -> Listing:
    """Count the matches, then list one page of them: through the claim index's bitmaps in
    memory (every view sorted by label) when they are ready, unless ``bitmaps`` is False; else
    by the engine over the data (sorted by label up to SORT_LIMIT). The SPARQL shown is the
    engine's, which gives the same page."""
    held = claimbitmaps.ready(kb) if bitmaps else None
    if held is not None:
        mask = held.matching(f, lambda: supporting(kb, f))
        chosen = held.page(mask, limit, offset)
        listed = classes.listed(kb, build_query(f, claims=chosen)) if chosen else None
        result = kb.query(listed, limit=MAX_ROWS) if listed else None
        return Listing(build_query(f, limit, offset), _rows(result),
                       bool(result and result.truncated), len(mask), True)
    total = count(kb, f)
    sparql = build_query(f, limit, offset, sort=total <= SORT_LIMIT)
    result = kb.query(classes.listed(kb, sparql), limit=MAX_ROWS)
    return Listing(sparql, _rows(result), bool(result.truncated), total, total <= SORT_LIMIT)


def _rows(result: Any) -> list[ClaimRow]:
    """The listing query's rows as ClaimRows."""
    rows = []
    for r in [] if result is None else result.rows:
        hedges = _split(r.get("hedges"), "|")
        quote_iri, _, quote = str(r.get("quotePair") or "").partition(" ")  # an IRI has no space
        rows.append(ClaimRow(
            iri=str(r["claim"]), label=str(r.get("label") or r["claim"]),
            quote=quote, quote_iri=quote_iri,
            document=str(r.get("document") or ""),
            kinds=[KINDS[k] for k in _split(r.get("kinds")) if k in KINDS],
            hedges=[h for h in hedges if h not in CODING], speakers=_split(r.get("speakers")),
            anonymity=str(r.get("anonymity") or ""), coding=[h for h in hedges if h in CODING]))
    return rows


def supporting(kb: Any, f: Filters) -> list[str]:
    """The subjects of ``?s ckb:supports <f.supports>`` (none asked for: an empty list)."""
    if not f.supports:
        return []
    with reader(kb) as look:
        if look is not None:
            return [text(s) for s in look.subjects(str(CKB.supports), f.supports)]
    rows = kb.query(f"SELECT DISTINCT ?s WHERE {{ ?s <{CKB.supports}> {iri_ref(f.supports)} }}").rows
    return [str(r["s"]) for r in rows]


def enrich(kb: Any, rows: list[ClaimRow]) -> dict[str, str]:
    """Add readable chains and supported things to a page of rows; return IRI labels."""
    from kb.views.chains import source_chains, supported

    iris = [r.iri for r in rows]
    chains = source_chains(kb, iris)
    supports = supported(kb, iris)
    for row in rows:
        row.chain = chains.get(row.iri)
        row.supports = supports.get(row.iri, [])
    return labels(kb, {v for r in rows for v in (*r.speakers, *r.supports, *r.hedges, *r.coding, r.document)
                       if v})
