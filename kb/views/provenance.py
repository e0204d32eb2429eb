"""Claims with their chain of sources, hedging and quote; documents with quote spans."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from kb.namespaces import CKB, GRAPH_INFERRED
from kb.terms import iri_ref
from kb.views import factrows
from kb.views.browse import labels
from kb.views.chains import ATTRIBUTED, PROV, Chain, Node, source_chains, walk
from kb.views.lookups import reader

# Links shown in the full PROV detail of a chain, in the order a reader walks them.
CHAIN_PROPERTIES = (
    PROV + "wasQuotedFrom", PROV + "wasDerivedFrom", PROV + "hadPrimarySource",
    PROV + "wasAttributedTo", PROV + "qualifiedAttribution", PROV + "hadRole",
    str(CKB.timeText),
)


@dataclass
class Link:
    """One step in a chain of sources: ``subject --prop--> target``."""

    subject: str
    prop: str
    target: str
    target_label: str = ""
    is_literal: bool = False
    is_blank: bool = False  # e.g. a prov:Attribution node: shown by its own links, not linked
    subject_label: str = ""
    subject_blank: bool = False


@dataclass
class Quote:
    """A verbatim quote: its text and where it sits in a document (code points, end exclusive)."""

    iri: str
    exact: str
    start: int | None
    end: int | None
    document: str | None
    document_label: str = ""


@dataclass
class ClaimView:
    """A claim as a reader sees it: what it supports, how hedged, who said it, in what words."""

    iri: str
    label: str
    supports: list[tuple[str, str]] = field(default_factory=list)  # (iri, label)
    hedges: list[str] = field(default_factory=list)
    hedge_texts: list[str] = field(default_factory=list)
    quotes: list[Quote] = field(default_factory=list)
    chain: list[Link] = field(default_factory=list)
    inferred: bool = False  # the claim reaches the entity only through inferred triples
    source: Chain | None = None  # the readable chain: first speaker -> ... -> this article


def _n3(iri: str) -> str:
    """Write an IRI for SPARQL, refusing anything that is not a valid IRI."""
    return iri_ref(iri)


_MAX_NEIGHBOURS = 5000  # things next to an entity whose claims its page counts
_MAX_SUPPORTING = 50_000  # (claim, neighbour, graph) rows read from a server in one query
_SORT_BY_LABEL = 300  # claims of one entity sorted by label; more are sorted by IRI


def _claims_touching(kb: Any, iri: str) -> dict[str, bool]:
    """Claims that support ``iri`` or support something that names ``iri``; value = inferred.

    Two pattern lookups: the things next to ``iri`` (bounded), then the claims supporting
    them (a VALUES block), so no join runs over every claim in the store.
    """
    node = _n3(iri)
    found: dict[str, bool] = {}

    def add(rows: Any) -> None:
        for row in rows:
            claim, inferred = str(row["claim"]), str(row.get("g")) == GRAPH_INFERRED
            found[claim] = found.get(claim, True) and inferred

    with reader(kb) as r:
        if r is not None:
            direct, near, supporting = factrows.claims_touching_rows(r, iri, _MAX_NEIGHBOURS)
            add(direct)
            graph_of = _graph_of(near)
            add({"claim": row["claim"], "g": GRAPH_INFERRED if graph_of[str(row["thing"])] else ""}
                for row in supporting)
            return found
    add(kb.query(f"""SELECT DISTINCT ?claim ?g WHERE {{
      {{ GRAPH ?g {{ ?claim <{CKB.supports}>|<{CKB.about}>|<{CKB.mentions}> {node} }} }}
      UNION {{ GRAPH ?g {{ {node} a <{CKB.Claim}> }} BIND({node} AS ?claim) }} }}""").rows)
    # On a server the things next to the entity (at most _MAX_NEIGHBOURS, as embedded: an outlet
    # at 10M has 81,000 statements) and the claims supporting them in one query: a list of the
    # neighbours, then one VALUES query per 300 of them, cost an outlet at 1M 19 round trips; and
    # Virtuoso took 0.3-2 s over DISTINCT with FILTER(isIRI) on the incoming side, where the
    # same pattern without them takes 10 ms (the filter is applied here).
    rows = kb.query(f"""SELECT ?claim ?thing ?g WHERE {{ {{ SELECT ?thing ?g WHERE {{
      {{ GRAPH ?g {{ ?thing ?p {node} }} }} UNION {{ GRAPH ?g {{ {node} ?p ?thing }} }}
      }} LIMIT {_MAX_NEIGHBOURS} }}
      ?claim <{CKB.supports}> ?thing }} LIMIT {_MAX_SUPPORTING + 1}""", limit=_MAX_SUPPORTING).rows
    rows = [r for r in rows if type(r["thing"]).__name__ == "URIRef"]
    graph_of = _graph_of(rows)
    add({"claim": r["claim"], "g": GRAPH_INFERRED if graph_of[str(r["thing"])] else ""} for r in rows)
    return found


def _graph_of(near: Any) -> dict[str, bool]:
    """Each thing next to the entity -> whether it is next to it only by inferred triples."""
    graph_of: dict[str, bool] = {}
    for row in near:
        thing = str(row["thing"])
        graph_of[thing] = graph_of.get(thing, True) and str(row["g"]) == GRAPH_INFERRED
    return graph_of


def claim_views(kb: Any, claims: dict[str, bool]) -> list[ClaimView]:
    """Build a ClaimView for each claim IRI (value: reached only through inferred triples)."""
    if not claims:
        return []
    values = " ".join(_n3(c) for c in claims)
    views = {c: ClaimView(iri=c, label="", inferred=inf) for c, inf in claims.items()}
    with reader(kb) as r:
        found = factrows.claim_detail_rows(r, claims) if r else None
    # FILTER IN, not a VALUES of properties: see kb.views.chains._listed
    rows = found if found is not None else kb.query(f"""
    SELECT ?claim ?p ?o ?qp ?qo WHERE {{
      VALUES ?claim {{ {values} }}
      ?claim ?p ?o .
      FILTER(?p IN (<{CKB.supports}>, <{CKB.hedge}>, <{CKB.hedgeText}>, <{CKB.hasQuote}>))
      OPTIONAL {{ ?o ?qp ?qo . FILTER(?p = <{CKB.hasQuote}>) }}
    }}""").rows
    quotes: dict[tuple[str, str], dict[str, str]] = {}
    for row in rows:
        view, prop, obj = views[str(row["claim"])], str(row["p"]), row["o"]
        if prop == str(CKB.supports) and (str(obj), "") not in view.supports:
            view.supports.append((str(obj), ""))
        elif prop == str(CKB.hedge) and str(obj) not in view.hedges:
            view.hedges.append(str(obj))
        elif prop == str(CKB.hedgeText) and str(obj) not in view.hedge_texts:
            view.hedge_texts.append(str(obj))
        elif prop == str(CKB.hasQuote):
            fields = quotes.setdefault((view.iri, str(obj)), {})
            if row.get("qp") is not None:
                fields[str(row["qp"])] = str(row["qo"])
    for (claim, quote_iri), fields in sorted(quotes.items()):
        views[claim].quotes.append(_quote(quote_iri, fields))
    _add_chains(kb, views)
    _label_everything(kb, views)
    return sorted(views.values(), key=lambda v: (v.inferred, v.label.lower(), v.iri))


def _as_int(value: str | None) -> int | None:
    """Parse an offset, or None when absent or malformed (shown as 'no position')."""
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _quote(iri: str, fields: dict[str, str]) -> Quote:
    """Make a Quote from the properties of a ckb:Quote node."""
    return Quote(
        iri=iri,
        exact=fields.get(str(CKB.exact), ""),
        start=_as_int(fields.get(str(CKB.startOffset))),
        end=_as_int(fields.get(str(CKB.endOffset))),
        document=fields.get(str(CKB.inDocument)),
    )


def _add_chains(kb: Any, views: dict[str, ClaimView]) -> None:
    """Attach to each claim its readable source chain and the PROV steps behind it.

    The steps come from the bounded breadth-first walk in kb.views.chains (asserted links only),
    never from a property path over the store.
    """
    walked = walk(kb, list(views))
    chains = source_chains(kb, list(views), walked)
    by_subject: dict[str, list[Link]] = {}
    # sorted once, most specific property first; each view gets its own copies (labelled per view)
    for link in sorted(_links(walked[0]), key=lambda x: (CHAIN_PROPERTIES.index(x.prop), x.target)):
        by_subject.setdefault(link.subject, []).append(link)
    for iri, view in views.items():
        view.source = chains.get(iri)
        view.chain = _order_chain(iri, by_subject)


def _links(nodes: dict[str, Node]) -> list[Link]:
    """The PROV statements of walked nodes, as chain Links."""
    links: list[Link] = []
    for node in nodes.values():
        for prop, up in node.up:
            links.append(Link(node.iri, prop, up))
        for agent in node.agents:
            links.append(Link(node.iri, ATTRIBUTED, agent))
        for agent, role in node.roles:
            links.append(Link(node.iri, PROV + "qualifiedAttribution", agent))
            if role:
                links.append(Link(node.iri, PROV + "hadRole", role))
        for text in node.time_text:
            links.append(Link(node.iri, str(CKB.timeText), text, is_literal=True))
    return links


def _order_chain(root: str, by_subject: dict[str, list[Link]]) -> list[Link]:
    """Order links breadth-first from the claim, so the chain reads claim -> ... -> origin."""
    ordered: list[Link] = []
    shown: set[tuple[str, str]] = set()  # one step per (subject, target): the most specific
    frontier, seen = [root], {root}
    while frontier:
        nxt: list[str] = []
        for node in frontier:
            for link in by_subject.get(node, []):
                if (link.subject, link.target) not in shown:
                    shown.add((link.subject, link.target))
                    ordered.append(replace(link))
                    if not link.is_literal and link.target not in seen:
                        seen.add(link.target)
                        nxt.append(link.target)
        frontier = nxt
    return ordered


def _label_everything(kb: Any, views: dict[str, ClaimView]) -> None:
    """Fill in labels of claims, supported things, chain targets and quoted documents."""
    iris: set[str] = set(views)
    for v in views.values():
        iris.update(link.subject for link in v.chain)
        iris.update(s for s, _ in v.supports)
        iris.update(link.target for link in v.chain if not (link.is_literal or link.is_blank))
        iris.update(q.document for q in v.quotes if q.document)
        iris.update(v.hedges)
    names = labels(kb, iris)
    for v in views.values():
        v.label = names.get(v.iri, v.iri)
        # sorted: the engine's row order is no order, and both read paths must agree
        v.supports = sorted(((s, names.get(s, s)) for s, _ in v.supports),
                            key=lambda sl: (sl[1].lower(), sl[0]))
        v.hedges = sorted(names.get(h, h) for h in v.hedges)
        v.hedge_texts.sort()
        blanks = {link.target for link in v.chain if link.is_blank}
        for link in v.chain:
            link.subject_blank = link.subject in blanks
            link.subject_label = "qualified node" if link.subject_blank else names.get(
                link.subject, link.subject)
            if link.is_blank:
                link.target_label = "(qualified node)"
            elif not link.is_literal:
                link.target_label = names.get(link.target, link.target)
            else:
                link.target_label = link.target
        for q in v.quotes:
            q.document_label = names.get(q.document or "", q.document or "")


def claims_about(kb: Any, iri: str) -> list[ClaimView]:
    """Claims that support ``iri`` or something that involves it, with chain, hedge and quote."""
    return claim_views(kb, _claims_touching(kb, iri))


def claims_page(kb: Any, iri: str, page: int = 1, per_page: int = 10) -> tuple[list[ClaimView], int]:
    """One page of the claims about ``iri`` (asserted first, then by label) and their total."""
    found = _claims_touching(kb, iri)
    # Sorted by label when there are few enough to label cheaply; else by IRI.
    names = labels(kb, found) if len(found) <= _SORT_BY_LABEL else {}
    order = sorted(found, key=lambda c: (found[c], names.get(c, c).lower(), c))
    start = max(page - 1, 0) * per_page
    chosen = order[start:start + per_page]
    return claim_views(kb, {c: found[c] for c in chosen}), len(order)
