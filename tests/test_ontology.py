"""The OWL ontology: it parses, carries its metadata, documents every term, and HermiT accepts it."""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

import owlready2
import pytest
from rdflib import RDF, RDFS, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, OWL, SKOS

ROOT = Path(__file__).resolve().parent.parent
ONTOLOGY = ROOT / "ontology" / "conflict.ttl"
ALIGNMENTS = ROOT / "ontology" / "alignments.ttl"
DATA = ROOT / "data" / "russia-iran-infighting-syria.ttl"
CKB = Namespace("https://w3id.org/conflict-kb/ontology#")
CKBR = Namespace("https://w3id.org/conflict-kb/id/")
ONTOLOGY_IRI = URIRef("https://w3id.org/conflict-kb/ontology")
PROPERTY_KINDS = (OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty)

needs_java = pytest.mark.skipif(shutil.which("java") is None, reason="no Java runtime for HermiT")


def parse(*paths: Path) -> Graph:
    """Parse Turtle files into one rdflib graph."""
    g = Graph()
    for p in paths:
        g.parse(p, format="turtle")
    return g


@pytest.fixture(scope="module")
def onto() -> Graph:
    return parse(ONTOLOGY, ALIGNMENTS)


def ckb_terms(g: Graph) -> set[URIRef]:
    """Every ckb: IRI declared as a class, property or named individual."""
    kinds = (OWL.Class, *PROPERTY_KINDS, OWL.NamedIndividual)
    return {
        s for k in kinds for s in g.subjects(RDF.type, k)
        if isinstance(s, URIRef) and str(s).startswith(str(CKB))
    }


def test_files_parse() -> None:
    for path in (ONTOLOGY, ALIGNMENTS, ROOT / "ontology" / "shapes.ttl", DATA):
        assert len(parse(path)) > 100, path


def test_header_metadata(onto: Graph) -> None:
    assert (ONTOLOGY_IRI, RDF.type, OWL.Ontology) in onto
    for prop in (OWL.versionIRI, OWL.versionInfo, DCTERMS.creator, DCTERMS.license,
                 DCTERMS.created, DCTERMS.modified, RDFS.label):
        assert onto.value(ONTOLOGY_IRI, prop) is not None, f"ontology header lacks {prop}"
    assert str(onto.value(ONTOLOGY_IRI, OWL.versionIRI)).startswith(str(ONTOLOGY_IRI) + "/")


def test_every_term_has_label_and_definition(onto: Graph) -> None:
    terms = ckb_terms(onto)
    assert len(terms) > 150
    missing = sorted(
        str(t) for t in terms
        if onto.value(t, RDFS.label) is None or onto.value(t, SKOS.definition) is None
    )
    assert missing == []


def test_declared_external_terms_are_documented(onto: Graph) -> None:
    declared = {s for k in (OWL.Class, *PROPERTY_KINDS) for s in onto.subjects(RDF.type, k)}
    external = [t for t in declared if isinstance(t, URIRef) and not str(t).startswith(str(CKB))]
    assert len(external) > 30
    assert [str(t) for t in external if onto.value(t, RDFS.label) is None] == []


def test_naming_conventions(onto: Graph) -> None:
    for cls in onto.subjects(RDF.type, OWL.Class):
        if isinstance(cls, URIRef) and str(cls).startswith(str(CKB)):
            assert re.fullmatch(r"[A-Z][A-Za-z0-9]*", cls.fragment), cls
    for kind in (OWL.ObjectProperty, OWL.DatatypeProperty):
        for prop in onto.subjects(RDF.type, kind):
            if str(prop).startswith(str(CKB)):
                assert re.fullmatch(r"[a-z][A-Za-z0-9]*", prop.fragment), prop


def test_properties_have_domain_and_range(onto: Graph) -> None:
    for kind in (OWL.ObjectProperty, OWL.DatatypeProperty):
        for prop in onto.subjects(RDF.type, kind):
            if str(prop).startswith(str(CKB)):
                assert onto.value(prop, RDFS.domain) is not None, f"{prop} has no rdfs:domain"
                assert onto.value(prop, RDFS.range) is not None, f"{prop} has no rdfs:range"


def test_no_term_is_both_kinds_of_property(onto: Graph) -> None:
    # OWL 2 DL forbids one IRI being an object, datatype and/or annotation property at once.
    for a, b in ((0, 1), (0, 2), (1, 2)):
        both = set(onto.subjects(RDF.type, PROPERTY_KINDS[a])) & set(
            onto.subjects(RDF.type, PROPERTY_KINDS[b]))
        assert both == set(), both


def test_contract_names_exist(onto: Graph) -> None:
    """The names the web UI, source reader and reasoner rely on."""
    xsd = "http://www.w3.org/2001/XMLSchema#"
    contract = {
        "earliestDate": (OWL.DatatypeProperty, xsd + "dateTime"),
        "latestDate": (OWL.DatatypeProperty, xsd + "dateTime"),
        "startOffset": (OWL.DatatypeProperty, xsd + "nonNegativeInteger"),
        "endOffset": (OWL.DatatypeProperty, xsd + "nonNegativeInteger"),
        "exact": (OWL.DatatypeProperty, xsd + "string"),
        "hedgeText": (OWL.DatatypeProperty, xsd + "string"),
        "textFile": (OWL.DatatypeProperty, xsd + "string"),
        "fullText": (OWL.DatatypeProperty, xsd + "string"),
        "fatalitiesLow": (OWL.DatatypeProperty, xsd + "nonNegativeInteger"),
        "fatalitiesBest": (OWL.DatatypeProperty, xsd + "nonNegativeInteger"),
        "fatalitiesHigh": (OWL.DatatypeProperty, xsd + "nonNegativeInteger"),
        "datePrecision": (OWL.ObjectProperty, str(CKB.DatePrecision)),
        "hasQuote": (OWL.ObjectProperty, str(CKB.Quote)),
        "inDocument": (OWL.ObjectProperty, str(CKB.Document)),
        "hedge": (OWL.ObjectProperty, str(CKB.Hedge)),
        "place": (OWL.ObjectProperty, str(CKB.Place)),
    }
    for name, (kind, rng) in contract.items():
        assert (CKB[name], RDF.type, kind) in onto, name
        assert (CKB[name], RDFS.range, URIRef(rng)) in onto, name
    for name in ("supports", "participant", "backs", "backedBy", "alliedWith"):
        assert (CKB[name], RDF.type, OWL.ObjectProperty) in onto, name
    assert (CKB.backs, OWL.inverseOf, CKB.backedBy) in onto
    assert (CKB.alliedWith, RDF.type, OWL.SymmetricProperty) in onto
    assert (CKB.partOfPlace, RDF.type, OWL.TransitiveProperty) in onto
    for cls, parent in (("Claim", "http://www.w3.org/ns/prov#Entity"),
                        ("Assessment", str(CKB.Claim)), ("Forecast", str(CKB.Assessment)),
                        ("CampMembership", "http://www.w3.org/ns/org#Membership"),
                        ("Reinforcement", str(CKB.Deployment)), ("Summit", str(CKB.Meeting))):
        assert (CKB[cls], RDFS.subClassOf, URIRef(parent)) in onto, cls
    for ind, cls in (("DayPrecision", "DatePrecision"), ("MonthPrecision", "DatePrecision"),
                     ("YearPrecision", "DatePrecision"), ("Reportedly", "Hedge"),
                     ("Unlikely", "Hedge"), ("AtLeast", "Hedge"), ("Likely", "Hedge"),
                     ("Could", "Hedge"), ("AirSupport", "SupportKind")):
        assert (CKB[ind], RDF.type, CKB[cls]) in onto, ind
    for cls in ("Clash", "Strike", "ForcedWithdrawal", "Deployment", "SupportCampaign", "Summit",
                "State", "Government", "ArmedForce", "MilitaryUnit", "Division", "Guard",
                "ArmedGroup", "Militia", "ProxyForce", "ForeignFighterContingent", "Coalition",
                "Person", "MediaOutlet", "Backing", "Alliance", "Leadership", "Loyalty",
                "TerritorialControl", "Rivalry", "Participation", "Quote", "Document"):
        assert (CKB[cls], RDF.type, OWL.Class) in onto, cls


def test_alignments_map_to_external_codes(onto: Graph) -> None:
    assert (CKB.Clash, SKOS.closeMatch, CKBR["acled-armed-clash"]) in onto
    assert (CKBR["acled-armed-clash"], SKOS.broader, CKBR["acled-battles"]) in onto
    assert (CKB.Event, RDFS.subClassOf, URIRef("http://semanticweb.cs.vu.nl/2009/11/sem/Event")) in onto
    assert (CKB.Claim, RDFS.subClassOf, URIRef("http://schema.org/Claim")) in onto
    assert (CKB.HeavyWeapons, SKOS.closeMatch, CKBR["cameo-194"]) in onto
    schemes = set(onto.objects(None, SKOS.inScheme))
    assert len(schemes) == 8
    assert len(list(onto.subjects(SKOS.inScheme, CKBR["acled-sub-event-types"]))) == 25
    assert onto.value(CKBR["ucdp-violence-2"], SKOS.notation) == Literal("2")


# --- OWL reasoning with owlready2 + HermiT -------------------------------------------------

def hermit(graph: Graph) -> owlready2.World:
    """Load an rdflib graph into a fresh owlready2 world (via N-Triples) and run HermiT on it."""
    with tempfile.NamedTemporaryFile(suffix=".nt", delete=False) as tmp:
        path = Path(tmp.name)
    try:
        graph.serialize(path, format="nt", encoding="utf-8")
        world = owlready2.World()
        onto = world.get_ontology(path.as_uri()).load(format="ntriples")
        with onto:
            # strict: every datatype used is in the OWL 2 datatype map (dates are xsd:dateTime)
            owlready2.sync_reasoner_hermit(world, infer_property_values=True, debug=0,
                                           ignore_unsupported_datatypes=False)
        return world
    finally:
        path.unlink(missing_ok=True)


def instances(world: owlready2.World, cls: str) -> set[str]:
    """Names of the inferred instances of a ckb class."""
    return {i.name for i in world.search_one(iri=str(CKB[cls])).instances()}


@needs_java
def test_hermit_finds_ontology_and_data_consistent() -> None:
    world = hermit(parse(ONTOLOGY, ALIGNMENTS, DATA))
    assert list(world.inconsistent_classes()) == []
    # defined classes are inferred, not asserted
    # only where a source says "proxy" (issue 11): backing alone no longer makes one
    assert instances(world, "ProxyForce") == {"Hezbollah"}
    assert instances(world, "IntraCoalitionClash") == {"event-infighting"}
    assert instances(world, "AnonymousPerson") == {"AnonymousSyrianOfficial", "AlNasrArmySpokesman"}
    hezbollah = world.search_one(iri=str(CKBR.Hezbollah))
    assert {b.name for b in hezbollah.backedBy} == {"Iran"}  # inverse of ckb:backs


@needs_java
def test_hermit_rejects_a_disjointness_violation() -> None:
    g = parse(ONTOLOGY, ALIGNMENTS, DATA)
    # a state's own division cannot also be a non-state armed group
    g.add((CKBR.RussianBackedRegimeDivisions, RDF.type, CKB.ArmedGroup))
    with pytest.raises(owlready2.OwlReadyInconsistentOntologyError):
        hermit(g)
