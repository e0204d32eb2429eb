"""Compiling a checked sheet into the KB's claim model (as data/russia-iran-infighting-syria.ttl
writes it by hand): document, agents, statements, claims, quotes with offsets, relation nodes with
their shortcuts, and each stated fact reified (ckb:FactStatement) with the claims that state it.
Every IRI is minted from the sheet's keys and the resolved actors, so compiling again gives the
same graph."""

from __future__ import annotations

import hashlib
from typing import Any

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, PROV, RDF, RDFS, SKOS, XSD

from kb.imports.common import slug
from kb.namespaces import CKB, CKBR

from .check import Checked
from .facts import Node, _label, local, relation
from .vocab import KINDS


def quote_iri(doc: str, claim: str) -> URIRef:
    """The IRI of a claim's quote (also how check finds the offsets of the last import)."""
    return CKBR[f"quote-{doc}-{claim}"]


def compile_sheet(c: Checked) -> tuple[Graph, list[str], list[tuple[str, str]]]:
    """The sheet's triples, the labels of the actors and places it mints, and those whose type no
    claim would state (as ("agents" or "places", key)): a checked sheet without problems."""
    assert c.sheet is not None and not c.problems
    data = c.sheet.data
    d = data["document"]
    doc_id = d["id"]
    g = Graph()
    doc = CKBR[f"doc-{doc_id}"]
    publisher = URIRef(c.agents[d["publisher"]])
    _add(g, doc, RDF.type, CKB.Document)
    for p in (RDFS.label, DCTERMS.title):
        _add(g, doc, p, Literal(d["title"], lang="en"))
    _add(g, doc, PROV.wasAttributedTo, publisher)
    assert c.text_path is not None
    _add(g, doc, CKB.textFile, Literal(c.text_path.name))
    if "url" in d:
        _add(g, doc, DCTERMS.source, URIRef(d["url"]))
    if "date" in d:
        _add(g, doc, DCTERMS.created, Literal(d["date"]))
    if "note" in d:
        _add(g, doc, SKOS.note, Literal(d["note"], lang="en"))
    minted = _agents(g, c, data["agents"], doc)
    # what each new actor or place is (its types) must be stated by a claim that names it
    new: dict[URIRef, tuple[tuple[str, str], list[URIRef]]] = {
        URIRef(c.agents[k]): (("agents", k), [URIRef(c.vocab.actor_classes[agent["type"].lower()])])
        for k, agent in data["agents"].items() if k in c.new_agents and URIRef(c.agents[k]) != publisher}
    for key, p in (data.get("places") or {}).items():
        place = URIRef(c.places[key])
        new[place] = (("places", key), [URIRef(c.vocab.place_classes[p["type"].lower()])])
        _add(g, place, RDF.type, URIRef(c.vocab.place_classes[p["type"].lower()]))
        _add(g, place, RDFS.label, Literal(p["place"], lang="en"))
        if "in" in p:
            _add(g, place, CKB.partOfPlace, URIRef(c.name(("places", key, "in"), p["in"], "place") or ""))
        minted.append(p["place"])
    stmts = data.get("statements") or {}
    # a statement that only withdrawn claims came through is gone with them (the sheet keeps it)
    live = {k for cl in data["claims"] if "withdrawn" not in cl for k in _chain_keys(stmts, cl.get("via"))}
    gone = {k for cl in data["claims"] if "withdrawn" in cl for k in _chain_keys(stmts, cl.get("via"))} - live
    for key, s in stmts.items():
        if key in gone:
            continue
        node = CKBR[f"stmt-{doc_id}-{key}"]
        _add(g, node, RDF.type, CKB.SourceStatement)
        by = _label(c, c.agents[s["by"]])
        _add(g, node, RDFS.label, Literal(s.get("label") or f"statement by {by}", lang="en"))
        _add(g, node, PROV.wasAttributedTo, URIRef(c.agents[s["by"]]))
        if "when" in s:
            _add(g, node, CKB.timeText, Literal(s["when"]))
        if "quoting" in s:
            _add(g, node, PROV.wasQuotedFrom, CKBR[f"stmt-{doc_id}-{s['quoting']}"])
        if "from" in s:
            _add(g, node, PROV.wasDerivedFrom, CKBR[f"stmt-{doc_id}-{s['from']}"])
    facts: dict[tuple[Any, Any, Any], set[URIRef]] = {}
    for i, cl in enumerate(data["claims"]):
        claim = CKBR[f"claim-{doc_id}-{cl['id']}"]
        if "withdrawn" in cl:  # a record of the withdrawal, stating nothing
            _withdrawn(g, claim, cl, doc_id)
            continue
        _claim(g, c, i, cl, claim, doc, publisher)
        forecast = cl["kind"] == "forecast"  # a forecast is about its subject, never support for it
        named = _chain(c, stmts, cl.get("via"))
        if cl["kind"] == "characterisation":
            named.add(URIRef(c.name(("claims", i, "characterises"), cl["characterises"]) or ""))
        for j, fact in enumerate(cl.get("states") or []):
            node = relation(c, ("claims", i, "states", j), fact, doc_id)
            assert node is not None  # checked
            _add(g, claim, CKB.about if forecast else CKB.supports, node.iri)
            for n in (node, *node.parts):
                _node(g, n)
                named |= {o for _p, o in n.props if isinstance(o, URIRef)}
                if not forecast:
                    for p, o in n.props:
                        facts.setdefault((n.iri, p, o), set()).add(claim)
        if not forecast:
            for x in named & set(new):
                for cls in new[x][1]:
                    facts.setdefault((x, RDF.type, cls), set()).add(claim)
    unstated = [new[x][0] for x in new if not any((x, RDF.type, cls) in facts for cls in new[x][1])]
    for (s, p, o), claims in facts.items():
        f = CKBR["fact-" + hashlib.sha1(f"{s} {p} {o.n3()}".encode()).hexdigest()[:16]]
        _add(g, f, RDF.type, CKB.FactStatement)
        _add(g, f, RDFS.label, Literal(f"{local(s)} {local(p)} {local(str(o))}"))
        _add(g, f, CKB.factSubject, s)
        _add(g, f, CKB.factPredicate, p)
        _add(g, f, CKB.factObject, o)
        for claim in claims:
            _add(g, f, CKB.statedBy, claim)
    return g, minted, unstated


def _chain(c: Checked, stmts: dict[str, Any], via: str | None) -> set[URIRef]:
    """The agents of a claim's chain of statements, from ``via`` up to its first statement."""
    out: set[URIRef] = set()
    seen: set[str] = set()
    while via is not None and via in stmts and via not in seen:
        seen.add(via)
        out.add(URIRef(c.agents[stmts[via]["by"]]))
        via = stmts[via].get("quoting") or stmts[via].get("from")
    return out


def _chain_keys(stmts: dict[str, Any], via: str | None) -> list[str]:
    """The keys of a claim's chain of statements, from ``via`` up to its first statement."""
    out: list[str] = []
    while via is not None and via in stmts and via not in out:
        out.append(via)
        via = stmts[via].get("quoting") or stmts[via].get("from")
    return out


def _withdrawn(g: Graph, claim: URIRef, cl: dict[str, Any], doc_id: str) -> None:
    """A withdrawn claim: no type, quote or facts, only who withdrew it and when (PROV)."""
    w = cl["withdrawn"]
    act, agent = CKBR[f"withdrawal-{doc_id}-{cl['id']}"], CKBR["annotator-" + slug(w["by"])]
    at = Literal(w["at"], datatype=XSD.dateTime)
    _add(g, claim, RDF.type, PROV.Entity)
    _add(g, claim, RDFS.label, Literal("withdrawn claim: " + " ".join(cl["quote"].split())[:80], lang="en"))
    _add(g, claim, PROV.invalidatedAtTime, at)
    _add(g, claim, PROV.wasInvalidatedBy, act)
    _add(g, act, RDF.type, PROV.Activity)
    _add(g, act, RDFS.label, Literal(f"withdrawal of the claim {cl['id']} by {w['by']}", lang="en"))
    _add(g, act, PROV.endedAtTime, at)
    _add(g, act, PROV.wasAssociatedWith, agent)
    if "reason" in w:
        _add(g, act, RDFS.comment, Literal(w["reason"], lang="en"))
    _add(g, agent, RDF.type, PROV.Agent)
    _add(g, agent, RDFS.label, Literal(w["by"]))


def _add(g: Graph, s: Any, p: Any, o: Any) -> None:
    g.add((s, p, o))


def _agents(g: Graph, c: Checked, agents: dict[str, Any], doc: URIRef) -> list[str]:
    """Describe the agents this sheet mints; a matched KB actor is only referred to."""
    minted = []
    for key, a in agents.items():  # in the sheet's order
        if key not in c.new_agents:
            continue
        node = URIRef(c.agents[key])
        _add(g, node, RDF.type, URIRef(c.vocab.actor_classes[a["type"].lower()]))
        if a.get("unnamed"):
            _add(g, node, RDF.type, CKB.UnnamedAgent)
        _add(g, node, RDFS.label, Literal(a["actor"], lang="en"))
        for alt in a.get("also", []):
            _add(g, node, SKOS.altLabel, Literal(alt, lang="en"))
        if "descriptor" in a:
            _add(g, node, CKB.descriptor, Literal(a["descriptor"]))
        minted.append(a["actor"])
    for key, a in agents.items():
        if URIRef(c.agents[key]) != URIRef(c.agents[c.sheet.data["document"]["publisher"]]) and \
                a.get("type", "").lower() in ("mediaoutlet", "newsagency", "outletgroup"):
            _add(g, doc, CKB.namesOutlet, URIRef(c.agents[key]))
    return minted


def _claim(g: Graph, c: Checked, i: int, cl: dict[str, Any], claim: URIRef, doc: URIRef,
           publisher: URIRef) -> None:
    doc_id = c.sheet.data["document"]["id"]  # type: ignore[union-attr]
    _add(g, claim, RDF.type, KINDS[cl["kind"]])
    words = " ".join(cl["quote"].split())
    _add(g, claim, RDFS.label, Literal(cl.get("label") or (words if len(words) <= 90 else words[:87] + "..."),
                                       lang="en"))
    _add(g, claim, PROV.wasAttributedTo, publisher)
    if "hedge" in cl:
        _add(g, claim, CKB.hedge, URIRef(c.vocab.hedges[cl["hedge"].lower()]))
        _add(g, claim, CKB.hedgeText, Literal(cl.get("hedge_text", cl["hedge"])))
    if "via" in cl:
        _add(g, claim, PROV.wasDerivedFrom, CKBR[f"stmt-{doc_id}-{cl['via']}"])
        _add(g, claim, PROV.hadPrimarySource, CKBR[f"stmt-{doc_id}-{c.roots[cl['via']]}"])
    if cl["kind"] == "characterisation":
        target = c.name(("claims", i, "characterises"), cl["characterises"])
        _add(g, claim, CKB.characterises, URIRef(target or ""))
        _add(g, claim, CKB.characterisationText, Literal(cl["words"]))
    q = quote_iri(doc_id, cl["id"])
    a = c.anchors[i]
    _add(g, claim, CKB.hasQuote, q)
    _add(g, q, RDF.type, CKB.Quote)
    _add(g, q, CKB.inDocument, doc)
    _add(g, q, CKB.exact, Literal(cl["quote"]))
    _add(g, q, CKB.startOffset, Literal(a.start, datatype=XSD.integer))
    _add(g, q, CKB.endOffset, Literal(a.end, datatype=XSD.integer))
    # the TextQuoteSelector's context, so that a corrected text can be re-anchored
    _add(g, q, CKB["prefix"], Literal(a.prefix))
    _add(g, q, CKB["suffix"], Literal(a.suffix))


def _node(g: Graph, n: Node) -> None:
    _add(g, n.iri, RDF.type, n.cls)
    if (n.iri, RDFS.label, None) not in g:  # one label: the first claim that states the node gives it
        _add(g, n.iri, RDFS.label, Literal(n.label, lang="en"))
    for p, o in n.props + n.links:
        _add(g, n.iri, p, o)
    for s, p, o in n.shortcuts:
        _add(g, s, p, o)
