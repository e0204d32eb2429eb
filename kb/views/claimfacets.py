"""Facet counts for the claims explorer: per facet, the matching claims per value (GROUP BY in
the engine), cheapest facet first, within a time budget as Datasette's facet time limit."""

from __future__ import annotations

import time
from typing import Any

from kb.views import claimlist, classes
from kb.views.claimlist import held_or_notice, supporting
from kb.views.claims import FACET_PATTERNS, KINDS, PREFIXES, Filters, anonymity_of_claims, kind_in, where


def facet_query(f: Filters, name: str, bound: int | None = None) -> str:
    """The SELECT counting the claims matching ``f`` per value of facet ``name`` (``bound``:
    among the first that many claims, kb.views.claims.where)."""
    pattern = FACET_PATTERNS[name]
    if name == "kind" and f.kind:
        # every kind of the matching claims, not only the one filtered on (as the index counts)
        pattern = kind_in().replace("?kindClass", "?v")
    if "__ANONYMITY__" in pattern:
        pattern = pattern.replace("__ANONYMITY__", "" if f.anonymity else anonymity_of_claims(f, bound=bound))
    return f"""{PREFIXES}SELECT ?v (COUNT(DISTINCT ?claim) AS ?n) WHERE {{
  {where(f, bound)}
  {pattern}
}} GROUP BY ?v ORDER BY DESC(?n) ?v LIMIT 30"""


# Facets are counted cheapest first, so the budget goes to the ones most likely to finish.
_COST_ORDER = ("kind", "hedge", "coding", "speaker", "document", "anonymity", "event", "via", "actor")


def facet_counts(kb: Any, f: Filters, timeout: float | None = None, budget: float | None = None,
                 bitmaps: bool = True) -> tuple[dict[str, list[tuple[str, int]]], list[str]]:
    """Per facet, its values with the number of matching claims, most frequent first; and the
    facets left out, each because it took longer than ``timeout`` or the facets' ``budget`` of
    seconds was spent (as Datasette's facet time limit). Through the claim index's bitmaps when
    they are ready unless ``bitmaps`` is False; else by the engine over the data (a SPARQL
    server's KB: over the first claims, kb.views.claimlist.FALLBACK_CLAIMS)."""
    from kb.errors import QueryTimeout

    held, notice = held_or_notice(kb, bitmaps)
    if held is not None:
        return held.facets(held.matching(f, lambda: supporting(kb, f))), []
    bound = claimlist.FALLBACK_CLAIMS if notice else None
    out: dict[str, list[tuple[str, int]]] = {}
    slow: list[str] = []
    end = None if budget is None else time.monotonic() + budget
    for name in _COST_ORDER:
        left = None if end is None else end - time.monotonic()
        if left is not None and left < 0.05:
            slow.append(name)
            continue
        limit = left if timeout is None else timeout if left is None else min(timeout, left)
        try:
            rows = kb.query(classes.listed(kb, facet_query(f, name, bound)), timeout=limit).rows
        except QueryTimeout:
            slow.append(name)  # the next, cheaper-looking facets may still fit
            continue
        out[name] = [(KINDS.get(str(r["v"]), str(r["v"])) if name == "kind" else str(r["v"]),
                      int(r["n"].toPython())) for r in rows if r.get("v") is not None]
    return out, slow
