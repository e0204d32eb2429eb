"""Compiling who and where a sheet names: the document, its agents (minted ones described, matched
ones only referred to), places, the statements of its chains, a coalition's infighting class, and
the agents' distinctness (owl:AllDifferent)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import DCTERMS, OWL, PROV, RDF, RDFS, SKOS, XSD

from kb.namespaces import CKB, CKBR

from .facts import ORG, _label

if TYPE_CHECKING:
    from .check import Checked

OUTLETS = ("mediaoutlet", "newsagency", "outletgroup")


def compile_document(g: Graph, c: Checked, doc: URIRef, publisher: URIRef) -> None:
    """The document: title, publisher, text file, and what else the sheet says of it."""
    d = c.sheet.data["document"]  # type: ignore[union-attr]
    g.add((doc, RDF.type, CKB.Document))
    for p in (RDFS.label, DCTERMS.title):
        g.add((doc, p, Literal(d["title"], lang="en")))
    g.add((doc, PROV.wasAttributedTo, publisher))
    assert c.text_path is not None
    g.add((doc, CKB.textFile, Literal(c.text_path.name)))
    if "url" in d:
        g.add((doc, DCTERMS.source, URIRef(d["url"])))
    if "date" in d:
        g.add((doc, DCTERMS.created, Literal(d["date"])))
    if "note" in d:
        g.add((doc, SKOS.note, Literal(d["note"], lang="en")))
    if "headline" in d:
        g.add((doc, CKB.headline, Literal(d["headline"])))
    if "subheadline" in d:
        g.add((doc, CKB.subheadline, Literal(d["subheadline"])))
    if "subheadline_by" in d:
        g.add((doc, CKB.subheadlineCredit, URIRef(c.agents[d["subheadline_by"]])))


def compile_agents(g: Graph, c: Checked, doc: URIRef) -> list[str]:
    """Describe the agents this sheet mints (a matched KB actor is only referred to); return their labels."""
    assert c.sheet is not None
    agents = c.sheet.data["agents"]
    publisher = c.agents[c.sheet.data["document"]["publisher"]]
    minted = []
    for key, a in agents.items():  # in the sheet's order
        if key not in c.new_agents:
            continue
        node = URIRef(c.agents[key])
        g.add((node, RDF.type, URIRef(c.vocab.actor_classes[a["type"].lower()])))
        if a.get("unnamed"):
            g.add((node, RDF.type, CKB.UnnamedAgent))
        g.add((node, RDFS.label, Literal(a["actor"], lang="en")))
        for alt in a.get("also", []):
            g.add((node, SKOS.altLabel, Literal(alt, lang="en")))
        if "descriptor" in a:
            g.add((node, CKB.descriptor, Literal(a["descriptor"])))
        if "note" in a:
            g.add((node, SKOS.note, Literal(a["note"], lang="en")))
        if "member_of" in a:  # a group's standing membership, not a claimed camp membership
            g.add((node, ORG.memberOf, URIRef(c.name(("agents", key, "member_of"), a["member_of"]) or "")))
        if "infighting" in a:
            _infighting(g, node, a["infighting"])
        minted.append(a["actor"])
    for key, a in agents.items():
        if c.agents[key] != publisher and a.get("type", "").lower() in OUTLETS:
            g.add((doc, CKB.namesOutlet, URIRef(c.agents[key])))
    if c.sheet.data["document"].get("distinct"):
        # no unique-name assumption in OWL: "at least two participants" needs the actors distinct
        members = BNode()
        Collection(g, members, [URIRef(c.agents[k]) for k in agents if k in c.new_agents])
        whole = BNode()
        g.add((whole, RDF.type, OWL.AllDifferent))
        g.add((whole, OWL.distinctMembers, members))
    return minted


def _infighting(g: Graph, coalition: URIRef, spec: dict[str, Any]) -> None:
    """A coalition's infighting class (see ckb:IntraCoalitionClash): a clash that happened or goes
    on, with at least two participants that are members of the coalition."""
    cls = CKBR[spec["id"]]
    g.add((cls, RDF.type, OWL.Class))
    g.add((cls, RDFS.subClassOf, CKB.IntraCoalitionClash))
    g.add((cls, RDFS.label, Literal(spec["label"], lang="en")))
    if "definition" in spec:
        g.add((cls, SKOS.definition, Literal(spec["definition"], lang="en")))
    member = _restriction(g, ORG.memberOf, OWL.hasValue, coalition)
    two = _restriction(g, CKB.participant, OWL.minQualifiedCardinality, Literal(2, datatype=XSD.integer))
    g.add((two, OWL.onClass, member))
    statuses, one_of = BNode(), BNode()
    g.add((statuses, RDF.type, OWL.Class))
    Collection(g, one_of, [CKB.Occurred, CKB.Ongoing])
    g.add((statuses, OWL.oneOf, one_of))
    status = _restriction(g, CKB.eventStatus, OWL.someValuesFrom, statuses)
    both, parts = BNode(), BNode()
    g.add((both, RDF.type, OWL.Class))
    Collection(g, parts, [CKB.Clash, two, status])
    g.add((both, OWL.intersectionOf, parts))
    g.add((cls, OWL.equivalentClass, both))


def _restriction(g: Graph, prop: URIRef, kind: URIRef, value: Any) -> BNode:
    r = BNode()
    g.add((r, RDF.type, OWL.Restriction))
    g.add((r, OWL.onProperty, prop))
    g.add((r, kind, value))
    return r


def compile_places(g: Graph, c: Checked) -> list[str]:
    """The places the sheet adds; return their labels."""
    minted = []
    for key, p in (c.sheet.data.get("places") or {}).items():  # type: ignore[union-attr]
        place = URIRef(c.places[key])
        g.add((place, RDF.type, URIRef(c.vocab.place_classes[p["type"].lower()])))
        g.add((place, RDFS.label, Literal(p["place"], lang="en")))
        for alt in p.get("also", []):
            g.add((place, SKOS.altLabel, Literal(alt, lang="en")))
        if "note" in p:
            g.add((place, SKOS.note, Literal(p["note"], lang="en")))
        if "in" in p:
            g.add((place, CKB.partOfPlace, URIRef(c.name(("places", key, "in"), p["in"], "place") or "")))
        minted.append(p["place"])
    return minted


def compile_statements(g: Graph, c: Checked, skip: set[str] | None = None) -> None:
    """The upstream statements (but ``skip``): who made each, when, from which other one, in which role."""
    data = c.sheet.data  # type: ignore[union-attr]
    for key, s in (data.get("statements") or {}).items():
        if skip and key in skip:
            continue
        node = c.mint("stmt", key)
        g.add((node, RDF.type, CKB.SourceStatement))
        by = _label(c, c.agents[s["by"]])
        g.add((node, RDFS.label, Literal(s.get("label") or f"statement by {by}", lang="en")))
        g.add((node, PROV.wasAttributedTo, URIRef(c.agents[s["by"]])))
        if "when" in s:
            g.add((node, CKB.timeText, Literal(s["when"])))
        if "quoting" in s:
            g.add((node, PROV.wasQuotedFrom, c.mint("stmt", s["quoting"])))
        if "from" in s:
            g.add((node, PROV.wasDerivedFrom, c.mint("stmt", s["from"])))
        if "at" in s:
            g.add((node, PROV.atLocation, URIRef(c.name(("statements", key, "at"), s["at"], "place") or "")))
        if "descriptor" in s:
            g.add((node, CKB.descriptor, Literal(s["descriptor"])))
        for agent, role in (s.get("roles") or {}).items():
            q = BNode(f"attribution-{key}-{agent}")  # named for the sheet's keys: the same on each compile
            g.add((node, PROV.qualifiedAttribution, q))
            g.add((q, RDF.type, PROV.Attribution))
            g.add((q, PROV.agent, URIRef(c.agents[agent])))
            g.add((q, PROV.hadRole, URIRef(c.vocab.individuals("role")[role.lower()])))
