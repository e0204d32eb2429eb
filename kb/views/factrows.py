"""The key-facts and claim-card queries of kb.views.facts and kb.views.provenance as pattern lookups.

Same datasets, caps and row shapes as the SELECTs they stand in for (see kb.views.pagerows).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import product
from typing import Any

import pyoxigraph as ox
from rdflib import Literal, URIRef

from kb.namespaces import CKB
from kb.views.lookups import RDF_TYPE, Reader, named_node, term, text

Row = dict[str, Any]
# as plain strings once: an rdflib Namespace attribute costs a lookup per use
SUPPORTS, HEDGE, HEDGE_TEXT, HAS_QUOTE = (str(CKB.supports), str(CKB.hedge), str(CKB.hedgeText),
                                          str(CKB.hasQuote))
REL_DETAILS = (str(CKB.supportKind), str(CKB.timeText), str(CKB.earliestDate))


def _opt(values: list[Any]) -> list[Any]:
    return values or [None]


def _t(value: Any) -> Any:
    return None if value is None else term(value)


def relation_rows(r: Reader, iri: str, roles: Sequence[tuple[str, str, str]],
                  limit: int) -> tuple[list[Row], bool]:
    """kb.views.facts.key_facts: the relation nodes bound to ``iri`` by role, with kind and time."""
    rows: dict[tuple, Row] = {}
    for key, mine, theirs in roles:
        for rel in r.subjects(mine, iri, False):
            if isinstance(rel, ox.Literal):
                continue
            others = [o for o in _objects(r, rel, theirs) if not (
                isinstance(o, ox.NamedNode) and o.value == iri)]
            if not others:
                continue
            kinds, times, froms = (_objects(r, rel, p) for p in REL_DETAILS)
            for other, kind, time, since in product(others, _opt(kinds), _opt(times), _opt(froms)):
                if len(rows) >= limit:
                    return list(rows.values()), True
                rows.setdefault((key, rel, other, kind, time, since), {
                    "key": Literal(key), "rel": term(rel), "other": term(other), "kind": _t(kind),
                    "time": _t(time), "from": _t(since)})
    return list(rows.values()), False


def _objects(r: Reader, node: Any, prop: str, inferred: bool = False) -> list[Any]:
    """Objects of a node (an IRI or a blank node) in the dataset."""
    return list(dict.fromkeys(q.object for q in r.store.quads_for_pattern(
        node, named_node(prop), None, None) if r._ok(q.graph_name, True, inferred)))


def _subjects(r: Reader, prop: str, node: Any, inferred: bool = False) -> list[Any]:
    return list(dict.fromkeys(q.subject for q in r.store.quads_for_pattern(
        None, named_node(prop), node, None) if r._ok(q.graph_name, True, inferred)))


def engagement_rows(r: Reader, iri: str, violent: str, attack: Sequence[str],
                    limit: int) -> tuple[list[Row], bool]:
    """kb.views.sides.engagements for one actor: the participations of the violent events ``iri``
    took part in (at most ``limit`` events), with role, side, status, time and attack class."""
    me = ox.NamedNode(iri)
    violent_classes = r.subclasses(violent, inferred=False)
    attack_classes = {c: a for a in attack for c in r.subclasses(a, inferred=False)}
    part, actor = str(CKB.hasParticipation), str(CKB.participationActor)
    events: dict[Any, str | None] = {}
    # read lazily: an actor of a big import takes part in tens of thousands of events, and the
    # loop stops at ``limit`` of them
    mine = (q.subject for q in r.store.quads_for_pattern(None, named_node(actor), me, None)
            if r._ok(q.graph_name, True, False))
    seen: set[Any] = set()
    for mp in mine:
        if mp in seen:
            continue
        seen.add(mp)
        for ev in _subjects(r, part, mp):
            types = [t.value for t in _objects(r, ev, RDF_TYPE) if isinstance(t, ox.NamedNode)]
            if ev in events or not violent_classes & set(types):
                continue
            if len(events) >= limit:
                return _participations(r, events), True
            events[ev] = next((attack_classes[t] for t in types if t in attack_classes), None)
    return _participations(r, events), False


def _participations(r: Reader, events: dict[Any, str | None]) -> list[Row]:
    rows: list[Row] = []
    for ev, attack in events.items():
        statuses, times = (_opt(_objects(r, ev, str(p))) for p in (CKB.eventStatus, CKB.timeText))
        for p in _objects(r, ev, str(CKB.hasParticipation)):
            actors, roles, sides = (_objects(r, p, str(prop)) for prop in (
                CKB.participationActor, CKB.participantRole, CKB.side))
            for actor, role, side, status, time in product(actors, _opt(roles), _opt(sides),
                                                           statuses, times):
                rows.append({"ev": term(ev), "p": term(p), "actor": term(actor), "role": _t(role),
                             "side": _t(side), "status": _t(status), "time": _t(time),
                             "attack": None if attack is None else URIRef(attack)})
    return rows


def support_rows(r: Reader, relations: Iterable[str]) -> list[Row]:
    """kb.views.facts.add_sources: the claims supporting each relation, with their hedges."""
    rows: list[Row] = []
    for rel in relations:
        for claim in _subjects(r, SUPPORTS, ox.NamedNode(rel)):
            hedges = _objects(r, claim, HEDGE_TEXT)
            kinds = _objects(r, claim, HEDGE)
            for h, hk in product(_opt(hedges), _opt(kinds)):
                rows.append({"rel": URIRef(rel), "claim": term(claim), "h": _t(h), "hk": _t(hk)})
    return rows


def claims_touching_rows(r: Reader, iri: str, near_limit: int) -> tuple[list[Row], list[Row], list[Row]]:
    """kb.views.provenance._claims_touching's three lookups: claims naming ``iri`` (with graph), the
    things next to it (with graph, capped) and the claims supporting those things."""
    node = ox.NamedNode(iri)
    direct = [{"claim": term(q.subject), "g": URIRef(text(q.graph_name))}
              for p in (CKB.supports, CKB.about, CKB.mentions)
              for q in r.quads(None, str(p), node, union=False)[0]]
    direct += [{"claim": URIRef(iri), "g": URIRef(text(q.graph_name))}
               for q in r.quads(iri, RDF_TYPE, str(CKB.Claim), union=False)[0]]
    near: dict[tuple[str, str], Row] = {}
    for quads in (r.quads(None, None, node, union=False, limit=near_limit)[0],
                  r.quads(iri, None, None, union=False, limit=near_limit)[0]):
        for q in quads:
            thing = q.subject if q.object == node else q.object
            if isinstance(thing, ox.NamedNode):
                if len(near) >= near_limit:
                    break
                near.setdefault((thing.value, text(q.graph_name)), {
                    "thing": URIRef(thing.value), "g": URIRef(text(q.graph_name))})
    things = sorted({str(row["thing"]) for row in near.values()})
    supporting = [{"claim": term(c), "thing": URIRef(t)} for t in things
                  for c in _subjects(r, SUPPORTS, ox.NamedNode(t), True)]
    return direct, list(near.values()), supporting


def claim_detail_rows(r: Reader, claims: Iterable[str]) -> list[Row]:
    """kb.views.provenance.claim_views: supports, hedges and quotes (with the quote's properties)."""
    rows: list[Row] = []
    for claim in claims:
        c = ox.NamedNode(claim)
        for p in (SUPPORTS, HEDGE, HEDGE_TEXT, HAS_QUOTE):
            for o in _objects(r, c, p, True):
                base = {"claim": URIRef(claim), "p": URIRef(p), "o": term(o)}
                details = [] if p != HAS_QUOTE or isinstance(o, ox.Literal) else [
                    (q.predicate, q.object) for q in r.store.quads_for_pattern(o, None, None, None)
                    if r._ok(q.graph_name, True, True)]
                if not details:
                    rows.append(base | {"qp": None, "qo": None})
                rows += [base | {"qp": term(qp), "qo": term(qo)} for qp, qo in dict.fromkeys(details)]
    return rows


__all__ = ["claim_detail_rows", "claims_touching_rows", "engagement_rows",
           "relation_rows", "support_rows"]
