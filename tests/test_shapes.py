"""SHACL shapes: the bundled data conforms; broken data is reported node by node, rule by rule."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from rdflib import RDF, Graph, Namespace

from kb import KnowledgeBase

ROOT = Path(__file__).resolve().parent.parent
SHAPES = ROOT / "ontology" / "shapes.ttl"
BROKEN = Path(__file__).resolve().parent / "fixtures" / "broken_data.ttl"
SH = Namespace("http://www.w3.org/ns/shacl#")
CKBR = "https://w3id.org/conflict-kb/id/"


@pytest.fixture(scope="module")
def broken_report():
    """Validate the ontology plus the deliberately broken fixture (no bundled data)."""
    files = [ROOT / "ontology" / "conflict.ttl", ROOT / "ontology" / "alignments.ttl", SHAPES, BROKEN]
    with KnowledgeBase.open(memory=True) as k:
        k.load(files)
        yield k.validate()


@pytest.fixture(scope="module")
def shapes() -> Iterator[Graph]:
    g = Graph()
    g.parse(SHAPES, format="turtle")
    yield g


def test_bundled_data_conforms(kb) -> None:
    report = kb.validate()
    assert report.conforms, "\n".join(str(v) for v in report.results)
    assert report.results == []


def test_every_shape_has_a_readable_message(shapes: Graph) -> None:
    node_shapes = set(shapes.subjects(RDF.type, SH.NodeShape))
    property_shapes = set(shapes.subjects(RDF.type, SH.PropertyShape)) | set(
        shapes.objects(None, SH.property))
    sparql = set(shapes.objects(None, SH.sparql))
    assert len(node_shapes) >= 15 and len(property_shapes) >= 30
    for shape in node_shapes | property_shapes | sparql:
        message = shapes.value(shape, SH.message)
        assert message is not None and len(str(message)) > 20, shape


@pytest.mark.parametrize(
    ("focus", "path", "component", "words"),
    [
        ("broken-claim-unsourced", "http://www.w3.org/ns/prov#wasAttributedTo", "MinCount", "source"),
        ("broken-claim-unsourced", "ontology#hasQuote", "MinCount", "Quote"),
        ("broken-claim-hedge", None, "Or", "hedging word"),
        ("broken-quote-offsets", None, "SPARQL", "offsets"),
        ("broken-clash-one-side", "ontology#participant", "MinCount", "two distinct participants"),
        ("broken-clash-numbers", "ontology#fatalitiesLow", "LessThanOrEquals", "fatalitiesHigh"),
        ("broken-clash-numbers", "ontology#fatalitiesBest", "LessThanOrEquals", "fatalitiesHigh"),
        ("broken-clash-numbers", "ontology#earliestDate", "Datatype", "xsd:date"),
        ("broken-clash-numbers", None, "Or", "datePrecision"),
        ("broken-clash-numbers", "ontology#place", "Class", "ckb:Place"),
        ("broken-doc", None, "Or", "verbatim text"),
        ("BrokenTwoLabels", "rdf-schema#label", "MaxCount", "preferred label"),
        ("broken-event-unsupported", None, "MinCount", "rest on at least one claim"),
        ("broken-backing-no-shortcut", None, "SPARQL", "shortcut"),
    ],
)
def test_broken_data_names_node_and_rule(broken_report, focus, path, component, words) -> None:
    assert not broken_report.conforms
    hits = [
        v for v in broken_report.results
        if v.focus == CKBR + focus
        and (path is None or (v.path or "").endswith(path))
        and v.constraint.endswith(component + "ConstraintComponent")
    ]
    assert hits, f"no {component} violation reported for {focus}"
    assert any(words in v.message for v in hits), [v.message for v in hits]


def test_broken_data_reports_nothing_about_good_nodes(broken_report) -> None:
    # the well-formed outlet and the ontology's own individuals raise no violations
    focuses = {v.focus for v in broken_report.results}
    assert CKBR + "BrokenOutlet" not in focuses
    assert all(f.startswith(CKBR + "broken") or f.startswith(CKBR + "Broken") for f in focuses)
