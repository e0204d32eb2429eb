"""Web UI fixtures: real KnowledgeBase stores (memory) behind the Flask test client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
from flask import Flask
from flask.testing import FlaskClient
from rdflib import Graph

from kb import KnowledgeBase
from kb.terms import from_ox
from webui import create_app

ONTOLOGY = """\
@prefix ckb: <https://w3id.org/conflict-kb/ontology#> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
ckb:Actor a owl:Class ; rdfs:label "Actor" ; skos:definition "Anyone who acts."@en .
ckb:ArmedGroup a owl:Class ; rdfs:subClassOf ckb:Actor ; rdfs:label "Armed group" .
ckb:State a owl:Class ; rdfs:subClassOf ckb:Actor ; rdfs:label "State" .
ckb:backedBy a owl:ObjectProperty ; rdfs:label "backed by" .
ckb:fatalities a owl:ObjectProperty ; rdfs:label "fatalities" .
ckb:low a owl:DatatypeProperty ; rdfs:label "low estimate" .
"""

DATA = """\
@prefix ckb: <https://w3id.org/conflict-kb/ontology#> .
@prefix ckbr: <https://w3id.org/conflict-kb/id/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
ckbr:hezbollah a ckb:ArmedGroup ; rdfs:label "Hezbollah" ;
    skos:altLabel "Hizballah", "Party of God" ; ckb:backedBy ckbr:iran ;
    skos:definition "A Lebanese Shia armed group."@en .
ckbr:hezbollah-fighters a ckb:ArmedGroup ; rdfs:label "Hezbollah fighters" ;
    ckb:backedBy ckbr:hezbollah .
ckbr:lebanese-hezbollah-unit a ckb:ArmedGroup ; rdfs:label "Lebanese Hezbollah unit" .
ckbr:prohezbollah a ckb:ArmedGroup ; rdfs:label "Prohezbollah militia" .
ckbr:iran a ckb:State ; skos:prefLabel "Iran" ; rdfs:label "Islamic Republic of Iran" .
ckbr:russia a ckb:State ; skos:prefLabel "Russia" .
ckbr:clash-1 rdfs:label "Clash near Deir ez-Zor" ; ckb:fatalities [ ckb:low 4 ] .
"""

INFERRED = """\
@prefix ckb: <https://w3id.org/conflict-kb/ontology#> .
@prefix ckbr: <https://w3id.org/conflict-kb/id/> .
ckbr:hezbollah a ckb:Actor, ckb:ArmedGroup .
ckbr:iran a ckb:Actor .
"""

SHAPES = """\
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix ckb: <https://w3id.org/conflict-kb/ontology#> .
<https://w3id.org/conflict-kb/shapes#ActorShape> a sh:NodeShape ; sh:targetClass ckb:Actor .
"""

HEZBOLLAH = "https://w3id.org/conflict-kb/id/hezbollah"
IRAN = "https://w3id.org/conflict-kb/id/iran"


def write_mini_project(root: Path) -> list[Path]:
    """Write a tiny ontology/data/inferred tree (graphs follow the folders) and list its files."""
    files = {
        root / "ontology" / "conflict.ttl": ONTOLOGY,
        root / "ontology" / "shapes.ttl": SHAPES,
        root / "data" / "mini.ttl": DATA,
        root / "data" / "inferred" / "inferred.ttl": INFERRED,
    }
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return list(files)


@pytest.fixture(scope="session")
def mini_kb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KnowledgeBase]:
    """A read-only memory KB with the mini ontology, shapes, data and inferences."""
    files = write_mini_project(tmp_path_factory.mktemp("mini"))
    with KnowledgeBase.open(memory=True, workers=1) as kb:
        kb.load(files)
        yield kb


@pytest.fixture(scope="session")
def app(mini_kb: KnowledgeBase) -> Flask:
    """The app over the mini KB, read-only, with a small request limit."""
    return create_app({"KB": mini_kb, "TESTING": True, "MAX_CONTENT_LENGTH": 64 * 1024,
                       "MAX_QUERY_LENGTH": 20_000})


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client for the read-only app."""
    return app.test_client()


@pytest.fixture
def writable_app(tmp_path: Path) -> Iterator[Flask]:
    """An app over its own memory KB that accepts updates with the token 's3cret'."""
    files = write_mini_project(tmp_path)
    with KnowledgeBase.open(memory=True, workers=1) as kb:
        kb.load(files)
        yield create_app({"KB": kb, "TESTING": True, "UPDATE_TOKEN": "s3cret"})


def _parse_rdf(data: bytes, fmt: str) -> Graph:
    """Parse RDF into an rdflib Graph; JSON-LD goes through pyoxigraph (rdflib's warns)."""
    if fmt != "json-ld":
        return Graph().parse(data=data, format=fmt)
    graph = Graph()
    for triple in ox.parse(data, format=ox.RdfFormat.JSON_LD):
        graph.add(tuple(from_ox(t) for t in (triple.subject, triple.predicate, triple.object)))
    return graph


@pytest.fixture(scope="session")
def parse_rdf():
    """A function (data, rdflib format name) -> rdflib Graph."""
    return _parse_rdf


@pytest.fixture
def mini_files(tmp_path: Path) -> list[Path]:
    """The mini project written under tmp_path (for tests that load or serve it themselves)."""
    return write_mini_project(tmp_path)
