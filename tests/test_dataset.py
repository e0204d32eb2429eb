"""Dataset semantics follow SPARQL, and answers are the engine's own bytes."""

from __future__ import annotations

from collections.abc import Iterator

import pyoxigraph as ox
import pytest

from kb import KnowledgeBase
from kb.namespaces import GRAPH_DATA, GRAPH_INFERRED, GRAPH_ONTOLOGY
from kb.query.engine import DEFAULT_GRAPH

G1, G2 = "http://example.org/g1", "http://example.org/g2"
TRIPLES = """\
@prefix ex: <http://example.org/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
ex:s ex:double "32100"^^xsd:double ; ex:zero 0 ; ex:false false ; ex:duration "PT0S"^^xsd:duration ;
  ex:time "2020-01-01T13:13:13.815-05:00"^^xsd:dateTime ; ex:utc "2020-01-01T00:00:00Z"^^xsd:dateTime ;
  ex:rtl "مرحبا"@ar--rtl ; ex:text "tab\\there" .
"""


@pytest.fixture(scope="module")
def two_graphs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KnowledgeBase]:
    """A store with the same triple in two graphs, plus literals that round trips used to change."""
    root = tmp_path_factory.mktemp("dataset")
    (root / "g1.ttl").write_text("<http://example.org/a> <http://example.org/p> <http://example.org/b> .\n"
                                 + TRIPLES, encoding="utf-8")
    (root / "g2.ttl").write_text("<http://example.org/a> <http://example.org/p> <http://example.org/b> .\n",
                                 encoding="utf-8")
    with KnowledgeBase.open(root / "store", workers=1, update_token="t") as kb:
        kb.import_file(root / "g1.ttl", name="g1")
        kb.import_file(root / "g2.ttl", name="g2")
        yield kb


def _graph(kb: KnowledgeBase, name: str) -> str:
    return next(g for g in kb.graphs() if g.endswith("/" + name))


def test_empty_default_and_no_named_graphs(two_graphs: KnowledgeBase) -> None:
    kb = two_graphs
    assert kb.query("ASK { ?s ?p ?o }", default_graphs=[]).boolean is False
    assert kb.query("ASK { GRAPH ?g { ?s ?p ?o } }", named_graphs=[]).boolean is False
    assert kb.query("ASK { GRAPH ?g { ?s ?p ?o } }").boolean is True


def test_protocol_graphs_override_from(two_graphs: KnowledgeBase) -> None:
    kb = two_graphs
    g2 = _graph(kb, "g2")
    q = f"SELECT (COUNT(*) AS ?n) FROM <{_graph(kb, 'g1')}> WHERE {{ ?s ?p ?o }}"
    assert int(kb.query(q).rows[0]["n"]) > 1
    assert int(kb.query(q, default_graphs=[g2]).rows[0]["n"]) == 1


def test_from_named_limits_graph_patterns(two_graphs: KnowledgeBase) -> None:
    kb = two_graphs
    g2 = _graph(kb, "g2")
    rows = kb.query(f"SELECT DISTINCT ?g FROM NAMED <{g2}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}").rows
    assert [str(r["g"]) for r in rows] == [g2]


def test_missing_graph_is_empty(two_graphs: KnowledgeBase) -> None:
    kb = two_graphs
    assert kb.query("ASK { ?s ?p ?o }", default_graphs=["http://example.org/none"]).boolean is False
    assert kb.query("ASK FROM <http://example.org/none> { ?s ?p ?o }").boolean is False


def test_limit_zero_means_zero(two_graphs: KnowledgeBase) -> None:
    result = two_graphs.query("SELECT * WHERE { ?s ?p ?o }", limit=0)
    assert result.rows == [] and result.truncated


def test_updates_without_a_graph_reach_the_default_graph(two_graphs: KnowledgeBase) -> None:
    kb = two_graphs
    kb.update('INSERT DATA { <http://example.org/u> <http://example.org/p> "u" }', token="t")
    assert kb.query('ASK { <http://example.org/u> <http://example.org/p> "u" }').boolean is True
    only_store_default = kb.query('ASK { <http://example.org/u> ?p ?o }', default_graphs=[DEFAULT_GRAPH])
    assert only_store_default.boolean is True
    kb.update('DELETE DATA { <http://example.org/u> <http://example.org/p> "u" }', token="t")
    assert kb.query('ASK { <http://example.org/u> ?p ?o }').boolean is False


@pytest.mark.parametrize("fmt", ["json", "xml", "csv", "tsv"])
def test_results_are_the_raw_engines_bytes(two_graphs: KnowledgeBase, fmt: str) -> None:
    """Literals come out as the engine wrote them: 0, false, PT0S, doubles, time zones, directions."""
    kb = two_graphs
    q = "SELECT ?p ?o WHERE { <http://example.org/s> ?p ?o } ORDER BY ?p"
    ours = kb.query(q, format=fmt).body
    raw = ox.Store.read_only(str(kb.backend.path))
    theirs = raw.query(q, use_default_graph_as_union=True).serialize(
        format=getattr(ox.QueryResultsFormat, fmt.upper()))
    assert ours == theirs
    for word in (b"32100", b"PT0S", b"false", b"-05:00", b"rtl"):
        assert word in ours


def test_ask_and_construct_bytes_match_the_engine(two_graphs: KnowledgeBase) -> None:
    kb = two_graphs
    raw = ox.Store.read_only(str(kb.backend.path))
    ask = "ASK { ?s <http://example.org/zero> 0 }"
    assert kb.query(ask, format="xml").body == raw.query(ask, use_default_graph_as_union=True).serialize(
        format=ox.QueryResultsFormat.XML)
    construct = "CONSTRUCT { <http://example.org/s> ?p ?o } WHERE { <http://example.org/s> ?p ?o }"
    ours = kb.query(construct, format="nt").body
    theirs = raw.query(construct, use_default_graph_as_union=True).serialize(format=ox.RdfFormat.N_TRIPLES)
    assert sorted(ours.splitlines()) == sorted(theirs.splitlines())


def test_shapes_are_not_in_the_default_graph(kb: KnowledgeBase) -> None:
    q = "ASK { ?shape a <http://www.w3.org/ns/shacl#NodeShape> }"
    assert kb.query(q).boolean is False
    assert b"NodeShape" in kb.export("nt", graph="shapes")
    assert kb.validate().conforms


def test_no_inferred_leaves_exactly_the_inferred_graph_out(kb: KnowledgeBase) -> None:
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    graphs = kb.graphs()
    assert set(graphs) >= {GRAPH_ONTOLOGY, GRAPH_DATA, GRAPH_INFERRED}
    asserted = sum(n for g, n in graphs.items() if g != GRAPH_INFERRED)
    assert int(kb.query(count, inferred=False).rows[0]["n"]) == asserted
    assert int(kb.query(count).rows[0]["n"]) == sum(graphs.values())


def test_base_iri_resolves_relative_iris(kb: KnowledgeBase) -> None:
    row = kb.query("SELECT (<x> AS ?x) WHERE {}", base_iri="http://example.org/base/").rows[0]
    assert str(row["x"]) == "http://example.org/base/x"


def test_rows_keep_lexical_forms(two_graphs: KnowledgeBase) -> None:
    rows = two_graphs.query("SELECT ?o WHERE { <http://example.org/s> <http://example.org/double> ?o }").rows
    assert str(rows[0]["o"]) == "32100"
