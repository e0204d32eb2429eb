"""IRIs and prefixes shared by every part of conflict-kb."""

from __future__ import annotations

from urllib.parse import quote

from rdflib import Namespace

BASE = "https://w3id.org/conflict-kb/"
CKB = Namespace(BASE + "ontology#")
CKBR = Namespace(BASE + "id/")

GRAPH_BASE = BASE + "graph/"
GRAPH_ONTOLOGY = GRAPH_BASE + "ontology"
GRAPH_SHAPES = GRAPH_BASE + "shapes"
GRAPH_DATA = GRAPH_BASE + "data"
GRAPH_INFERRED = GRAPH_BASE + "inferred"
# The matching decisions people made (kb.matching.decisions), loaded from data/matches/
GRAPH_MATCHES = GRAPH_BASE + "matches"
# Where releases before the sidecar kept the claim index, inside the store (every query saw it);
# kb.derived.claimindex removes that graph on its next build. The index now lives beside the store.
GRAPH_CLAIM_INDEX = GRAPH_BASE + "claim-index"
IMPORT_BASE = GRAPH_BASE + "import/"

# Short names accepted wherever a graph is chosen (CLI, web UI, export).
GRAPH_NAMES = {
    "ontology": GRAPH_ONTOLOGY,
    "shapes": GRAPH_SHAPES,
    "data": GRAPH_DATA,
    "inferred": GRAPH_INFERRED,
    "matches": GRAPH_MATCHES,
}

PREFIXES: dict[str, str] = {
    "ckb": str(CKB),
    "ckbr": str(CKBR),
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "dcterms": "http://purl.org/dc/terms/",
    "prov": "http://www.w3.org/ns/prov#",
    "org": "http://www.w3.org/ns/org#",
    "sem": "http://semanticweb.cs.vu.nl/2009/11/sem/",
    "schema": "http://schema.org/",
    "sh": "http://www.w3.org/ns/shacl#",
    "oa": "http://www.w3.org/ns/oa#",
    "time": "http://www.w3.org/2006/time#",
}


def import_graph(name: str) -> str:
    """Return the graph IRI for an imported source called ``name``."""
    return IMPORT_BASE + quote(name, safe="-_.~")


def graph_iri(name_or_iri: str) -> str:
    """Map a short graph name (``data``) or a full IRI to a graph IRI."""
    return GRAPH_NAMES.get(name_or_iri, name_or_iri)
