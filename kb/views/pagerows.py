"""The page queries of kb.views.browse, chains, facts and provenance as pattern lookups.

Each function here answers one of those modules' short bounded SELECTs, with the same
dataset (named graphs for ``GRAPH ?g``, the union otherwise; ``inferred=False`` leaves the
inferred graph out), the same row caps and rows of the same shape, so the page code does
not change with the path. Every lookup starts from an IRI the page already holds.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import product
from typing import Any

import pyoxigraph as ox
from rdflib import URIRef

from kb.namespaces import CKB
from kb.views.lookups import RDF_TYPE, Reader, term, text

Row = dict[str, Any]
PROV = "http://www.w3.org/ns/prov#"
QUALIFIED, AGENT, ROLE = PROV + "qualifiedAttribution", PROV + "agent", PROV + "hadRole"
ATTRIBUTED = PROV + "wasAttributedTo"


def _opt(values: list[Any]) -> list[Any]:
    """An OPTIONAL's bindings: the values found, or one unbound."""
    return values or [None]


def _t(value: Any) -> Any:
    return None if value is None else term(value)


def labels_rows(r: Reader, iris: Sequence[str], props: Sequence[str]) -> list[Row]:
    """``VALUES ?s VALUES ?p GRAPH ?g { ?s ?p ?l } FILTER(isLiteral(?l))``, except that a later
    property is looked up only when the earlier ones gave no label (they would rank first)."""
    rows: list[Row] = []
    for s in iris:
        for p in props:
            found = [{"s": URIRef(s), "p": URIRef(p), "l": term(q.object)} for q in r.quads(
                s, p, None, union=False)[0] if isinstance(q.object, ox.Literal)]
            if found:
                rows += found
                break
    return rows


def types_rows(r: Reader, iris: Iterable[str]) -> list[Row]:
    """``SELECT DISTINCT ?s ?t { VALUES ?s GRAPH ?g { ?s a ?t } FILTER(isIRI(?t)) }``."""
    return [{"s": URIRef(s), "t": URIRef(t)} for s in iris for t in dict.fromkeys(
        text(q.object) for q in r.quads(s, RDF_TYPE, None, union=False)[0]
        if isinstance(q.object, ox.NamedNode))]


def statements(r: Reader, iri: str, outgoing: bool, limit: int) -> tuple[list[Row], bool]:
    """``GRAPH ?g { <iri> ?a ?b }`` (or ``?b ?a <iri>``) as rows a, b, g, cut at ``limit``."""
    quads, cut = (r.quads(iri, None, None, union=False, limit=limit) if outgoing else
                  r.quads(None, None, iri, union=False, limit=limit))
    return [{"a": term(q.predicate), "b": term(q.object if outgoing else q.subject),
             "g": URIRef(text(q.graph_name))} for q in quads], cut


def blank_details(r: Reader, iri: str, limit: int) -> list[Row]:
    """``SELECT DISTINCT ?b ?p ?o { GRAPH ?g { <iri> ?x ?b . ?b ?p ?o } FILTER(isBlank(?b)) }``."""
    rows: dict[tuple, Row] = {}
    for q in r.quads(iri, None, None, union=False)[0]:
        if isinstance(q.object, ox.BlankNode):
            for d in r.store.quads_for_pattern(q.object, None, None, q.graph_name):
                rows.setdefault((q.object, d.predicate, d.object), {
                    "b": term(q.object), "p": term(d.predicate), "o": term(d.object)})
                if len(rows) >= limit:
                    return list(rows.values())
    return list(rows.values())


def used_as_property(r: Reader, iri: str) -> bool:
    """``ASK { GRAPH ?g { ?s <iri> ?o } }``."""
    return bool(r.quads(None, iri, None, union=False, limit=1)[0])


def walk_rows(r: Reader, frontier: Sequence[str], props: Sequence[str]) -> list[Row]:
    """kb.views.chains.walk's level: each node's ``props`` and its qualified attributions (asserted)."""
    rows: list[Row] = []
    for s in frontier:
        subject = URIRef(s)
        # one lookup per property: a claim's other quads (its quote, its kinds) would each be
        # decoded only to be dropped
        rows += [{"s": subject, "p": URIRef(p), "o": term(o)} for p in props
                 for o in r.objects(s, p, inferred=False)]
        for q in r.objects(s, QUALIFIED, inferred=False):
            if isinstance(q, ox.Literal):
                continue
            roles = [o for o in _objects(r, q, ROLE)]
            for agent, role in product(_objects(r, q, AGENT), _opt(roles)):
                rows.append({"s": subject, "p": URIRef(QUALIFIED), "o": term(agent), "role": _t(role)})
    return rows


def _objects(r: Reader, node: Any, prop: str, inferred: bool = False) -> list[Any]:
    """Objects of a node that may be blank (qualified attributions usually are)."""
    return list(dict.fromkeys(q.object for q in r.store.quads_for_pattern(
        node, ox.NamedNode(prop), None, None) if r._ok(q.graph_name, True, inferred)))


def typed(r: Reader, iris: Iterable[str], cls: str) -> set[str]:
    """Those of ``iris`` with ``?a a <cls>`` (any graph of the dataset)."""
    return {i for i in iris if r.quads(i, RDF_TYPE, cls, limit=1)[0]}


def supported_rows(r: Reader, claims: Iterable[str]) -> list[Row]:
    """``?c ckb:supports ?x`` for each claim, ordered by ?c ?x."""
    pairs = sorted({(c, text(x)) for c in claims for x in r.objects(c, str(CKB.supports))})
    return [{"c": URIRef(c), "x": URIRef(x)} for c, x in pairs]


def said_by(r: Reader, agent: str) -> list[str]:
    """Statements attributed to ``agent``, plainly or by a qualified attribution."""
    direct = [text(s) for s in r.subjects(ATTRIBUTED, agent, False) if isinstance(s, ox.NamedNode)]
    qualified = [text(q.subject) for node in r.subjects(AGENT, agent, False)
                 for q in r.store.quads_for_pattern(None, ox.NamedNode(QUALIFIED), node, None)
                 if r._ok(q.graph_name, True, False) and isinstance(q.subject, ox.NamedNode)]
    return list(dict.fromkeys(direct + qualified))


def downstream(r: Reader, frontier: Sequence[str], props: Sequence[str]) -> set[str]:
    """``?d ?p ?u`` for ``?u`` in the frontier and ``?p`` in ``props``."""
    wanted = {ox.NamedNode(p) for p in props}
    # one lookup per node (a statement is cited by a handful of others), filtered here
    return {text(q.subject) for u in frontier for q in r.quads(None, None, u)[0]
            if q.predicate in wanted and isinstance(q.subject, ox.NamedNode)}


def claims_among(r: Reader, iris: Iterable[str]) -> set[str]:
    """Those of ``iris`` typed with a subclass of ckb:Claim."""
    return r.of_class(iris, str(CKB.Claim))
