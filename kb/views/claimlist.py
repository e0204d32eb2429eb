"""The claims explorer's listing: count the matches, run one page of them, enrich its rows."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from kb.derived import bitmaps as claimbitmaps
from kb.derived import claimindex, remoteindex
from kb.errors import QueryTimeout
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
    notice: str = ""  # why this view is not from the claim index (a SPARQL server's KB), or ""
    bound: int | None = None  # the view was read from the first that many claims (see notice)
    more: bool = False  # more claims than ``total`` may match (the bound was reached)


# A SPARQL server's KB without a current claim index (never built, stale after a write, or being
# read): each view reads at most this many claims, in the server's order, each query within a
# time limit, so that no request makes the server group every claim of the KB.
FALLBACK_CLAIMS = 2000
FALLBACK_TIMEOUT = 10.0  # seconds for the count and for the page's listing
READ_WAIT = 5.0  # seconds a request waits for a current index to be read into bitmaps
STALE = ("The claim index is missing or stale (a write since it was built, or never built): "
         "'ckb --endpoint … index', or a running 'ckb serve', builds it. Until then this view is "
         f"read from the first {FALLBACK_CLAIMS:,} matching claims the server returns.")
READING = ("The claim index is being read. Until then this view is read from the first "
           f"{FALLBACK_CLAIMS:,} matching claims the server returns.")


def held_or_notice(kb: Any, bitmaps: bool = True) -> tuple[Any, str]:
    """The claim index's bitmaps (unless ``bitmaps`` is False); else None and, for a SPARQL
    server's KB, why not (the page's notice; a view then reads at most FALLBACK_CLAIMS claims)."""
    if not bitmaps:  # the engine over the data, as asked
        return None, ""
    held = claimbitmaps.ready(kb)
    if held is not None or not remoteindex.is_remote(kb):
        return held, ""
    if claimindex.stamp(kb) is None:
        return None, STALE
    end = time.monotonic() + READ_WAIT  # current: a local file, read once per process
    while held is None and time.monotonic() < end:
        time.sleep(0.05)
        held = claimbitmaps.ready(kb)
    return held, "" if held is not None else READING


def count(kb: Any, f: Filters, bound: int | None = None, timeout: float | None = None) -> int:
    """How many claims match ``f`` (``bound``: among the first that many claims)."""
    rows = kb.query(classes.listed(kb, count_query(f, bound)), timeout=timeout).rows
    return int(rows[0]["n"].toPython()) if rows else 0


def run(kb: Any, f: Filters, limit: int | None = None, offset: int = 0, bitmaps: bool = True) -> Listing:
    """Count the matches, then list one page of them: through the claim index's bitmaps in
    memory (every view sorted by label) when they are ready, unless ``bitmaps`` is False; else
    by the engine over the data (sorted by label up to SORT_LIMIT). The SPARQL shown is the
    engine's, which gives the same page."""
    held, notice = held_or_notice(kb, bitmaps)
    if held is not None:
        mask = held.matching(f, lambda: supporting(kb, f))
        chosen = held.page(mask, limit, offset)
        listed = classes.listed(kb, build_query(f, claims=chosen)) if chosen else None
        result = kb.query(listed, limit=MAX_ROWS) if listed else None
        return Listing(build_query(f, limit, offset), _rows(result),
                       bool(result and result.truncated), len(mask), True)
    if notice:
        return _bounded(kb, f, limit, offset, notice)
    total = count(kb, f)
    sparql = build_query(f, limit, offset, sort=total <= SORT_LIMIT)
    result = kb.query(classes.listed(kb, sparql), limit=MAX_ROWS)
    return Listing(sparql, _rows(result), bool(result.truncated), total, total <= SORT_LIMIT)


def _bounded(kb: Any, f: Filters, limit: int | None, offset: int, notice: str) -> Listing:
    """One page read from the first FALLBACK_CLAIMS matching claims, each query within
    FALLBACK_TIMEOUT; past it, the page says so and lists nothing (not a 503)."""
    bound = FALLBACK_CLAIMS
    sparql = build_query(f, limit, offset, sort=True, bound=bound)
    try:
        total = count(kb, f, bound, FALLBACK_TIMEOUT)
        # as many as the bound (before the anonymity is decided): more may match
        read = count(kb, Filters(**{**vars(f), "anonymity": ""}), bound, FALLBACK_TIMEOUT) \
            if f.anonymity else total
        result = kb.query(classes.listed(kb, sparql), limit=MAX_ROWS, timeout=FALLBACK_TIMEOUT)
    except QueryTimeout:
        return Listing(sparql, [], False, 0, False, notice + f" Listing them took longer than "
                       f"{FALLBACK_TIMEOUT:g} s.", bound, True)
    more = read >= bound
    return Listing(sparql, _rows(result), bool(result.truncated), total, not more, notice, bound, more)


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
