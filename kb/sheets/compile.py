"""Compiling a checked sheet into the KB's claim model (as data/russia-iran-infighting-syria.ttl,
itself compiled from data/russia-iran-infighting-syria.sheet.yaml): document, agents, statements,
claims, quotes with offsets, relation and event nodes with their shortcuts, and each stated fact
reified (ckb:FactStatement) with the claims that state it. Every IRI is minted from the sheet's keys
and the resolved actors, so compiling again gives the same graph."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import PROV, RDF, RDFS, SKOS, XSD

from kb.namespaces import CKB, CKBR

from .agents import compile_agents, compile_document, compile_places, compile_statements
from .check import Checked
from .claimcheck import hedges
from .events import compile_events
from .facts import Node, local, relation
from .vocab import KINDS
from .withdraw import gone_statements, withdrawal

Triple = tuple[Any, Any, Any]


def quote_iri(doc: str, claim: str) -> URIRef:
    """The IRI of a claim's quote in a sheet without short ids (how check finds the last import's offsets)."""
    return CKBR[f"quote-{doc}-{claim}"]


def compile_sheet(c: Checked) -> tuple[Graph, list[str], list[tuple[str, str]]]:
    """The sheet's triples, the labels of the actors and places it mints, and those whose type no
    claim would state (as ("agents" or "places", key)): a checked sheet without problems."""
    assert c.sheet is not None and not c.problems
    data = c.sheet.data
    d = data["document"]
    g = Graph()
    doc = CKBR[f"doc-{d['id']}"]
    publisher = URIRef(c.agents[d["publisher"]])
    compile_document(g, c, doc, publisher)
    minted = compile_agents(g, c, doc) + compile_places(g, c)
    stmts = data.get("statements") or {}
    compile_statements(g, c, skip=gone_statements(stmts, data["claims"]))
    compile_events(g, c)
    listed = d.get("types") == "listed"
    # what each new actor or place is (its type) is stated by the claims that name it
    new: dict[URIRef, tuple[tuple[str, str], URIRef]] = {
        URIRef(c.agents[k]): (("agents", k), URIRef(c.vocab.actor_classes[a["type"].lower()]))
        for k, a in data["agents"].items() if k in c.new_agents and URIRef(c.agents[k]) != publisher}
    for key, p in (data.get("places") or {}).items():
        new[URIRef(c.places[key])] = (("places", key), URIRef(c.vocab.place_classes[p["type"].lower()]))
    facts: dict[Triple, list[URIRef]] = {}
    for i, cl in enumerate(data["claims"]):
        claim = c.mint("claim", cl["id"])
        if "withdrawn" in cl:  # a record of the withdrawal, stating nothing
            withdrawal(g, claim, cl, d["id"])
            continue
        _claim(g, c, i, cl, claim, doc, publisher)
        forecast = cl["kind"] == "forecast"  # a forecast is about its subject, never support for it
        named = _chain(c, stmts, cl.get("via") or cl.get("quoting"))
        if cl["kind"] == "characterisation":
            named.add(URIRef(c.name(("claims", i, "characterises"), cl["characterises"]) or ""))
        for j, fact in enumerate(cl.get("states") or []):
            node = relation(c, ("claims", i, "states", j), fact, d["id"])
            assert node is not None  # checked
            if node.supported or forecast:
                g.add((claim, CKB.about if forecast else CKB.supports, node.iri))
            for n in (node, *node.parts):
                _node(g, n)
                named |= {o for _p, o in n.props if isinstance(o, URIRef)}
                if not forecast:
                    for p, o in n.props:
                        _stated(facts, (n.iri, p, o), claim)
        if forecast:
            continue
        for key in cl.get("names") or []:
            x = URIRef(c.agents.get(key) or c.places[key])
            if x in new:
                _stated(facts, (x, RDF.type, new[x][1]), claim)
        if not listed:
            for x in named & set(new):
                _stated(facts, (x, RDF.type, new[x][1]), claim)
    unstated = [] if listed else [new[x][0] for x in new if (x, RDF.type, new[x][1]) not in facts]
    _reify(g, facts)
    return g, minted, unstated


def _stated(facts: dict[Triple, list[URIRef]], triple: Triple, claim: URIRef) -> None:
    if claim not in facts.setdefault(triple, []):
        facts[triple].append(claim)


def fact_iri(s: Any, p: Any, o: Any) -> URIRef:
    """A fact's IRI, readable: fact-SUBJECT-PREDICATE-OBJECT from their local names (a literal's
    words joined by dashes)."""
    words = local(str(o)) if isinstance(o, URIRef) else re.sub(r"[^A-Za-z0-9]+", "-", str(o)).strip("-")
    return CKBR[f"fact-{local(str(s))}-{local(str(p))}-{words}"]


def _reify(g: Graph, facts: dict[Triple, list[URIRef]]) -> None:
    """Each stated fact as a ckb:FactStatement with the claims that state it."""
    taken: dict[URIRef, Triple] = {}
    for (s, p, o), claims in facts.items():
        f = fact_iri(s, p, o)
        if taken.setdefault(f, (s, p, o)) != (s, p, o):  # two facts, one readable name: tell them apart
            f = URIRef(f"{f}-{hashlib.sha1(f'{s} {p} {o.n3()}'.encode()).hexdigest()[:8]}")
        g.add((f, RDF.type, CKB.FactStatement))
        g.add((f, CKB.factSubject, s))
        g.add((f, CKB.factPredicate, p))
        g.add((f, CKB.factObject, o))
        for claim in claims:
            g.add((f, CKB.statedBy, claim))


def _chain(c: Checked, stmts: dict[str, Any], via: str | None) -> set[URIRef]:
    """The agents of a claim's chain of statements, from ``via`` up to its first statement."""
    out: set[URIRef] = set()
    seen: set[str] = set()
    while via is not None and via in stmts and via not in seen:
        seen.add(via)
        out.add(URIRef(c.agents[stmts[via]["by"]]))
        via = stmts[via].get("quoting") or stmts[via].get("from")
    return out


def _claim(g: Graph, c: Checked, i: int, cl: dict[str, Any], claim: URIRef, doc: URIRef,
           publisher: URIRef) -> None:
    g.add((claim, RDF.type, KINDS[cl["kind"]]))
    words = " ".join(cl["quote"].split())
    g.add((claim, RDFS.label, Literal(cl.get("label") or (words if len(words) <= 90 else words[:87] + "..."),
                                      lang="en")))
    g.add((claim, PROV.wasAttributedTo, publisher))
    said = hedges(cl)
    texts = cl.get("hedge_text", said)
    for h, text in zip(said, texts if isinstance(texts, list) else [texts], strict=True):
        g.add((claim, CKB.hedge, URIRef(c.vocab.hedges[h.lower()])))
        g.add((claim, CKB.hedgeText, Literal(text)))
    if "condition" in cl:
        g.add((claim, CKB.conditionText, Literal(cl["condition"])))
    for field, prop in (("via", PROV.wasDerivedFrom), ("quoting", PROV.wasQuotedFrom)):
        if field in cl:
            g.add((claim, prop, c.mint("stmt", cl[field])))
            g.add((claim, PROV.hadPrimarySource, c.mint("stmt", c.roots[cl[field]])))
    if cl["kind"] == "characterisation":
        target = c.name(("claims", i, "characterises"), cl["characterises"])
        g.add((claim, CKB.characterises, URIRef(target or "")))
        g.add((claim, CKB.characterisationText, Literal(cl["words"])))
    if "part_of" in cl:
        g.add((claim, CKB.partOfClaim, c.mint("claim", cl["part_of"])))
    if "ordinal" in cl:
        g.add((claim, CKB.ordinal, Literal(cl["ordinal"], datatype=XSD.positiveInteger)))
    if "note" in cl:
        g.add((claim, SKOS.note, Literal(cl["note"], lang="en")))
    for field, prop in (("supports", CKB.supports), ("about", CKB.about), ("mentions", CKB.mentions)):
        for j, value in enumerate(cl.get(field) or []):
            g.add((claim, prop, c.ref(("claims", i, field, j), value) or URIRef("")))
    _quote(g, c, claim, doc, cl.get("quote_id", cl["id"]), cl["quote"], c.anchors[i])
    for j, more in enumerate(cl.get("more_quotes") or []):
        _quote(g, c, claim, doc, more["id"], more["quote"], c.anchors[(i, j)])


def _quote(g: Graph, c: Checked, claim: URIRef, doc: URIRef, key: str, exact: str, a: Any) -> None:
    q = c.mint("quote", key)
    g.add((claim, CKB.hasQuote, q))
    g.add((q, RDF.type, CKB.Quote))
    g.add((q, CKB.inDocument, doc))
    g.add((q, CKB.exact, Literal(exact)))
    g.add((q, CKB.startOffset, Literal(a.start, datatype=XSD.integer)))
    g.add((q, CKB.endOffset, Literal(a.end, datatype=XSD.integer)))
    if c.sheet.data["document"].get("quote_context", True):  # type: ignore[union-attr]
        # the TextQuoteSelector's context, so that a corrected text can be re-anchored after an import
        g.add((q, CKB["prefix"], Literal(a.prefix)))
        g.add((q, CKB["suffix"], Literal(a.suffix)))


def _node(g: Graph, n: Node) -> None:
    if n.cls is not None:
        g.add((n.iri, RDF.type, n.cls))
        # one label: the sheet's own, else the first claim that states the node gives it
        if n.label_given:
            g.set((n.iri, RDFS.label, Literal(n.label, lang="en")))
        elif (n.iri, RDFS.label, None) not in g:
            g.add((n.iri, RDFS.label, Literal(n.label, lang="en")))
    for p, o in n.props + n.links:
        g.add((n.iri, p, o))
    for s, p, o in n.shortcuts:
        g.add((s, p, o))
