"""RDF export: every format round-trips through two independent parsers, byte-for-byte stable."""

from __future__ import annotations

import io
import json
import random
import warnings

import pyoxigraph as ox
import pytest
from rdflib import BNode, Dataset, Graph, Literal, URIRef
from rdflib.compare import isomorphic

from kb.errors import KBError
from kb.export.rdf import (
    FORMATS,
    format_for_media_type,
    format_name,
    serialize_quads,
    serialize_triples,
)
from kb.namespaces import PREFIXES

G1 = "http://example.org/graph/one"
G2 = "http://example.org/graph/two"

TRICKY = r'''
@prefix ckb: <https://w3id.org/conflict-kb/ontology#> .
@prefix ckbr: <https://w3id.org/conflict-kb/id/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .

ckbr:hts a ckb:ArmedGroup ;
    rdfs:label "Hay'at Tahrir al-Sham"@en , "هيئة تحرير الشام"@ar ;
    skos:altLabel "HTS \"the Levant\" group" , """line one
line two	tabbed \\ backslash""" ;
    ckb:founded "2017-01-28"^^xsd:date ;
    ckb:fighters 12000 ;
    ckb:share 0.25 ;
    ckb:emoji "fire \U0001F525, CR\r LF\n CRLF\r\n <tag> & ]]>" ;
    ckb:backedBy [ a ckb:Backing ; ckb:backer ckbr:turkey ; ckb:supportType "weapons" ] ,
                 [ a ckb:Backing ; ckb:backer ckbr:turkey ; ckb:supportType "funding" ] .

ckb:Militia owl:equivalentClass [ owl:unionOf ( ckb:ArmedGroup ckb:Rebels ckb:Other ) ] .
<http://example.org/odd/iri%20with%20escape> ckb:note "plain" .
'''

SECOND = '''
@prefix ckbr: <https://w3id.org/conflict-kb/id/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
ckbr:turkey rdfs:label "Turkey"@en .
ckbr:hts rdfs:label "Hay'at Tahrir al-Sham"@en .
'''


def _store(order_seed: int | None = None) -> ox.Store:
    """A store with TRICKY in G1 and SECOND in G2; optionally inserted in shuffled order."""
    store = ox.Store()
    for text, graph in ((TRICKY, G1), (SECOND, G2)):
        quads = [ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(graph))
                 for t in ox.parse(text.encode(), format=ox.RdfFormat.TURTLE)]
        if order_seed is not None:
            random.Random(order_seed).shuffle(quads)
            # Fresh blank node ids too: the export must not depend on them.
            fresh: dict[str, ox.BlankNode] = {}

            def rn(t, fresh=fresh):
                if isinstance(t, ox.BlankNode):
                    return fresh.setdefault(t.value, ox.BlankNode())
                return t

            quads = [ox.Quad(rn(q.subject), q.predicate, rn(q.object), q.graph_name)
                     for q in quads]
        store.extend(quads)
    return store


def _expected(graph: str | None) -> Graph:
    """What a graph should contain, parsed independently by rdflib."""
    g = Graph()
    if graph in (None, G1):
        g.parse(data=TRICKY, format="turtle")
    if graph in (None, G2):
        g.parse(data=SECOND, format="turtle")
    return g


RDFLIB_FORMAT = {"turtle": "turtle", "nt": "nt", "nq": "nquads", "trig": "trig",
                 "jsonld": "json-ld", "xml": "xml"}


def _read_rdflib(data: bytes, fmt: str) -> dict[str | None, Graph]:
    """Parse with rdflib; dataset formats give one graph per name (None = default graph)."""
    with warnings.catch_warnings():
        # rdflib's own JSON-LD and dataset parsers call its deprecated ConjunctiveGraph API.
        warnings.simplefilter("ignore", DeprecationWarning)
        if not FORMATS[fmt].is_dataset:
            return {None: Graph().parse(data=data, format=RDFLIB_FORMAT[fmt])}
        ds = Dataset()
        ds.parse(data=data, format=RDFLIB_FORMAT[fmt])
    out: dict[str | None, Graph] = {}
    for s, p, o, c in ds.quads((None, None, None, None)):
        name = None if c is None or str(c).startswith("urn:x-rdflib:default") else str(c)
        out.setdefault(name, Graph()).add((s, p, o))
    return out


def _read_oxigraph(data: bytes, fmt: str) -> dict[str | None, Graph]:
    """Parse with pyoxigraph, then move the terms into rdflib graphs for comparison."""
    from kb.terms import from_ox

    out: dict[str | None, Graph] = {}
    for q in ox.parse(data, format=FORMATS[fmt].rdf_format):
        name = None if isinstance(q.graph_name, ox.DefaultGraph) else q.graph_name.value
        out.setdefault(name, Graph()).add(tuple(from_ox(t) for t in (q.subject, q.predicate,
                                                                       q.object)))
    return out


@pytest.mark.parametrize("reader", [_read_rdflib, _read_oxigraph])
@pytest.mark.parametrize("fmt", list(FORMATS))
def test_every_format_round_trips_whole_dataset(fmt, reader):
    data = serialize_quads(_store().quads_for_pattern(None, None, None, None), fmt,
                           prefixes=PREFIXES)
    got = reader(data, fmt)
    if FORMATS[fmt].is_dataset:
        assert set(got) == {G1, G2}
        for name in (G1, G2):
            assert isomorphic(got[name], _expected(name)), (fmt, name)
    else:
        # Triple formats merge the graphs; the shared label triple appears once.
        assert set(got) == {None}
        assert isomorphic(got[None], _expected(None))
        assert len(got[None]) == len(_expected(None))


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_every_format_round_trips_one_graph(fmt):
    store = _store()
    data = serialize_quads(store.quads_for_pattern(None, None, None, ox.NamedNode(G1)), fmt,
                           prefixes=PREFIXES)
    got = _read_rdflib(data, fmt)
    key = G1 if FORMATS[fmt].is_dataset else None
    assert isomorphic(got[key], _expected(G1))


def test_tricky_literals_survive_exactly():
    data = serialize_quads(_store().quads_for_pattern(None, None, None, None), "turtle",
                           prefixes=PREFIXES)
    g = _read_rdflib(data, "turtle")[None]
    objects = set(g.objects())
    assert Literal("هيئة تحرير الشام", lang="ar") in objects
    assert Literal('HTS "the Levant" group') in objects
    assert Literal("line one\nline two\ttabbed \\ backslash") in objects
    assert Literal("fire \U0001F525, CR\r LF\n CRLF\r\n <tag> & ]]>") in objects
    assert any(isinstance(o, Literal) and o.datatype and str(o.datatype).endswith("#date")
               and str(o) == "2017-01-28" for o in objects)


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_output_is_deterministic_across_runs_and_insertion_order(fmt):
    base = serialize_quads(_store().quads_for_pattern(None, None, None, None), fmt,
                           prefixes=PREFIXES)
    again = serialize_quads(_store().quads_for_pattern(None, None, None, None), fmt,
                            prefixes=PREFIXES)
    assert base == again
    for seed in (1, 2, 3):
        shuffled = serialize_quads(_store(seed).quads_for_pattern(None, None, None, None), fmt,
                                   prefixes=PREFIXES)
        assert shuffled == base, f"{fmt} output changed with insertion order (seed {seed})"


def test_turtle_is_pretty_sorted_and_binds_only_used_prefixes():
    text = serialize_quads(_store().quads_for_pattern(None, None, None, None), "turtle",
                           prefixes=PREFIXES).decode()
    assert "@prefix ckbr: <https://w3id.org/conflict-kb/id/> ." in text
    assert "@prefix sh:" not in text  # unused prefixes stay out
    assert "ckbr:hts a ckb:ArmedGroup ;" in text  # rdf:type first, as `a`
    assert "https://w3id.org/conflict-kb/id/hts" not in text  # IRIs are compacted
    subjects = [line.split(" ", 1)[0] for line in text.splitlines()
                if line and not line.startswith(("@prefix", "\t", " "))]
    assert len(subjects) == len(set(subjects)), "each subject is written once, grouped"
    assert "skos:altLabel" in text.split("ckbr:hts a", 1)[1].split(" .\n", 1)[0]


def test_ntriples_and_nquads_are_sorted_lines():
    for fmt in ("nt", "nq"):
        lines = serialize_quads(_store().quads_for_pattern(None, None, None, None), fmt,
                                prefixes=PREFIXES).decode().splitlines()
        keys = [line.rsplit(" ", 2)[0] if fmt == "nq" else line for line in lines]
        assert len(lines) > 10
        if fmt == "nt":
            # Sorted by subject, then predicate (rdf:type first), then object.
            assert [k.split(" ", 1)[0] for k in keys] == sorted(k.split(" ", 1)[0] for k in keys)


def test_jsonld_has_a_prefix_context_and_compact_iris():
    data = serialize_quads(_store().quads_for_pattern(None, None, None, None), "jsonld",
                           prefixes=PREFIXES)
    doc = json.loads(data)
    assert doc["@context"]["ckb"] == PREFIXES["ckb"]
    ids = {node["@id"] for node in doc["@graph"]}
    assert "ckbr:hts" in ids
    hts = next(n for n in doc["@graph"] if n["@id"] == "ckbr:hts")
    assert hts["@type"] == ["ckb:ArmedGroup"]
    assert "HTS \"the Levant\" group" in hts["skos:altLabel"]


def test_construct_triples_from_rdflib_terms_round_trip():
    b = BNode()
    triples = [
        (URIRef(PREFIXES["ckbr"] + "a"), URIRef(PREFIXES["ckb"] + "backedBy"), b),
        (b, URIRef(PREFIXES["ckb"] + "backer"), URIRef(PREFIXES["ckbr"] + "b")),
        (b, URIRef(PREFIXES["rdfs"] + "label"), Literal("x\ny", lang="en")),
        (URIRef(PREFIXES["ckbr"] + "a"), URIRef(PREFIXES["ckb"] + "n"), Literal(3)),
    ]
    expected = Graph()
    for t in triples:
        expected.add(t)
    for fmt in FORMATS:
        data = serialize_triples(triples, fmt, prefixes=PREFIXES)
        got = _read_rdflib(data, fmt)
        assert isomorphic(got[None], expected), fmt


def test_unknown_format_is_a_clear_kb_error():
    with pytest.raises(KBError) as err:
        serialize_quads([], "yaml", prefixes=PREFIXES)
    message = str(err.value)
    assert "yaml" in message and "turtle" in message and "jsonld" in message
    assert "\n" not in message


def test_format_aliases_and_media_types():
    assert format_name("TTL") == "turtle"
    assert format_name("json-ld") == "jsonld"
    assert format_for_media_type("text/turtle; charset=utf-8") == "turtle"
    assert format_for_media_type("application/n-quads") == "nq"
    assert format_for_media_type("text/html") is None


def test_rdfxml_refuses_predicates_without_an_xml_name():
    quads = [ox.Quad(ox.NamedNode("http://x/s"), ox.NamedNode("http://x/p/1"), ox.Literal("o"))]
    with pytest.raises(KBError, match="RDF/XML"):
        serialize_quads(quads, "xml", prefixes=PREFIXES)
    # The other formats handle it.
    assert b"<http://x/p/1>" in serialize_quads(quads, "turtle", prefixes=PREFIXES)


def test_control_characters_survive_where_the_format_allows_them():
    quads = [ox.Quad(ox.NamedNode("http://x/s"), ox.NamedNode("http://x/p"),
                     ox.Literal("bell \u0007 and escape \u001b"))]
    for fmt in ("turtle", "nt", "nq", "trig", "jsonld"):
        got = _read_rdflib(serialize_quads(quads, fmt, prefixes=PREFIXES), fmt)
        assert Literal("bell \u0007 and escape \u001b") in set(got[None].objects()), fmt
    with pytest.raises(KBError, match="U\\+0007"):
        serialize_quads(quads, "xml", prefixes=PREFIXES)


def test_empty_input_gives_valid_empty_documents():
    for fmt in FORMATS:
        data = serialize_quads([], fmt, prefixes=PREFIXES)
        got = _read_rdflib(data, fmt) if data.strip() else {}
        assert all(len(g) == 0 for g in got.values())


def test_large_export_keeps_up(tmp_path):
    """20k triples through the pretty Turtle writer and back, well within a few seconds."""
    import time

    quads = [ox.Quad(ox.NamedNode(f"{PREFIXES['ckbr']}e{i % 2000}"),
                     ox.NamedNode(f"{PREFIXES['ckb']}p{i % 7}"), ox.Literal(f"v{i}"))
             for i in range(20_000)]
    start = time.perf_counter()
    data = serialize_quads(quads, "turtle", prefixes=PREFIXES)
    assert time.perf_counter() - start < 5
    assert len(Graph().parse(io.BytesIO(data), format="turtle")) == 20_000


def test_turtle_inlines_blank_nodes_and_lists():
    text = serialize_quads(_store().quads_for_pattern(None, None, None, None), "turtle",
                           prefixes=PREFIXES).decode()
    assert "_:" not in text  # every blank node here is used once: written in place
    assert "owl:unionOf ( ckb:ArmedGroup ckb:Rebels ckb:Other )" in text  # list order kept
    assert "ckb:backedBy [" in text


def test_adding_a_restriction_changes_only_its_own_lines():
    import difflib

    def export(extra: str) -> list[str]:
        store = _store()
        store.extend(ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(G1))
                     for t in ox.parse((TRICKY.split("\n\n", 1)[0] + extra).encode(),
                                       format=ox.RdfFormat.TURTLE))
        return serialize_quads(store.quads_for_pattern(None, None, None, None), "turtle",
                               prefixes=PREFIXES).decode().splitlines()

    before = export("")
    after = export("\nckb:Aaa owl:equivalentClass [ owl:unionOf ( ckb:X ckb:Y ) ] .\n")
    changed = [d for d in difflib.unified_diff(before, after, lineterm="", n=0)
               if d[:1] in "+-" and not d.startswith(("+++", "---"))]
    assert [c for c in changed if c != "+"] == [
        "+ckb:Aaa owl:equivalentClass [ owl:unionOf ( ckb:X ckb:Y ) ] ."]
    assert len(changed) <= 2  # that line, and the blank line that separates subjects


SHARED = '''
@prefix x: <http://example.org/x/> .
x:a x:p _:shared . x:b x:p _:shared . _:shared x:label "shared" .
_:r1 x:next _:r2 . _:r2 x:next _:r3 . _:r3 x:next _:r1 .
_:root x:q "nobody points at me" ; x:child [ x:v 1 ] .
x:c x:list ( "one" [ x:v 2 ] ( "nested" ) ) , () .
x:d x:broken _:l1 . _:l1 <http://www.w3.org/1999/02/22-rdf-syntax-ns#first> "a" ;
   <http://www.w3.org/1999/02/22-rdf-syntax-ns#rest> "not a list" .
'''


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_awkward_blank_node_shapes_round_trip(fmt):
    """Shared nodes, rings, unused roots, nested and malformed lists, blank graph names."""
    triples = list(ox.parse(SHARED.encode(), format=ox.RdfFormat.TURTLE))
    g_blank = ox.BlankNode("graphname")
    quads = [ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(G1)) for t in triples]
    # The shared node also appears in a second (blank-named) graph: TriG must keep one label.
    shared = next(t.object for t in triples if str(t.subject) == "<http://example.org/x/a>")
    quads.append(ox.Quad(shared, ox.NamedNode("http://example.org/x/again"), ox.Literal("y"),
                         g_blank))
    data = serialize_quads(quads, fmt, prefixes=PREFIXES)
    expected = Graph()
    for q in quads:
        expected.add(tuple(_from(t) for t in (q.subject, q.predicate, q.object)))
    for reader in (_read_rdflib, _read_oxigraph):
        got = reader(data, fmt)
        merged = Graph()
        for g in got.values():
            for t in g:
                merged.add(t)
        assert isomorphic(merged, expected), (fmt, reader.__name__)
        if FORMATS[fmt].is_dataset:
            assert len(got) == 2  # both graphs, the blank-named one too
            # The node shared across graphs is still one node.
            shared_again = {s for g in got.values() for s, p, _ in g
                            if str(p) == "http://example.org/x/again"}
            pointed = {o for g in got.values() for _, p, o in g if str(p).endswith("/x/p")}
            assert shared_again == pointed


def _from(term):
    from kb.terms import from_ox

    return from_ox(term)


@pytest.mark.parametrize("fmt", ["turtle", "trig"])
def test_very_large_turtle_uses_the_fast_writer_and_still_round_trips(monkeypatch, fmt):
    import kb.export.rdf

    monkeypatch.setattr(kb.export.rdf, "PRETTY_LIMIT", 5)  # the threshold, lowered for the test
    quads = list(_store().quads_for_pattern(None, None, None, None))
    fast = serialize_quads(quads, fmt, prefixes=PREFIXES)
    assert b"_:b0" in fast  # pyoxigraph labels blank nodes
    got = _read_rdflib(fast, fmt)
    if fmt == "turtle":
        assert isomorphic(got[None], _expected(None))
    else:
        assert isomorphic(got[G1], _expected(G1)) and isomorphic(got[G2], _expected(G2))
    shuffled = serialize_quads(list(_store(7).quads_for_pattern(None, None, None, None)), fmt,
                               prefixes=PREFIXES)
    assert shuffled == fast


# -- the KnowledgeBase's exports, checked against the bundled files parsed by rdflib ----------

XSD = "http://www.w3.org/2001/XMLSchema#"
# Oxigraph 0.5 stores every integer-derived XSD type as xsd:integer (DATATYPE() agrees), so the
# oracle does the same; the export can only write what the store holds.
_INTEGER_TYPES = {XSD + t for t in ("nonNegativeInteger", "positiveInteger", "negativeInteger",
                                    "nonPositiveInteger", "long", "int", "short", "byte",
                                    "unsignedLong", "unsignedInt", "unsignedShort",
                                    "unsignedByte")}


def _as_stored(term):
    if isinstance(term, Literal) and term.datatype is not None and \
            str(term.datatype) in _INTEGER_TYPES:
        return Literal(str(int(str(term))), datatype=URIRef(XSD + "integer"))
    return term


def _bundle() -> dict[str, Graph]:
    """Each graph of the bundle, parsed from the files by rdflib (the independent oracle)."""
    from kb.store import loader

    graphs: dict[str, Graph] = {}
    for path in loader.bundled_files():
        parsed = Graph().parse(path, format="turtle")
        target = graphs.setdefault(loader.graph_for(path), Graph())
        for s, p, o in parsed:
            target.add((s, p, _as_stored(o)))
    return graphs


def _without_full_text(g: Graph) -> Graph:
    """The loader adds each source's text (ckb:fullText) to the data; the files lack it."""
    out = Graph()
    for t in g:
        if not str(t[1]).endswith("#fullText"):
            out.add(t)
    return out


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_kb_export_whole_kb_matches_the_files(kb, fmt):
    bundle = _bundle()
    got = _read_rdflib(kb.export(format=fmt, graph="all"), fmt)
    if FORMATS[fmt].is_dataset:
        assert set(got) == set(bundle) == set(kb.exportable_graphs())
        for name, expected in bundle.items():
            assert isomorphic(_without_full_text(got[name]), expected), name
    else:
        union = Graph()
        for g in bundle.values():
            for t in g:
                union.add(t)
        assert isomorphic(_without_full_text(got[None]), union)


@pytest.mark.parametrize("fmt", ["turtle", "nq", "jsonld"])
@pytest.mark.parametrize("graph", ["ontology", "data", "inferred"])
def test_kb_export_one_graph_matches_its_files(kb, fmt, graph):
    from kb.namespaces import graph_iri

    expected = _bundle()[graph_iri(graph)]
    got = _read_rdflib(kb.export(format=fmt, graph=graph), fmt)
    key = graph_iri(graph) if FORMATS[fmt].is_dataset else None
    assert set(got) == {key}
    assert len(expected) > 0 and isomorphic(_without_full_text(got[key]), expected)


def _queried_union() -> Graph:
    """What a query sees by default: every graph but the SHACL shapes."""
    from kb.namespaces import GRAPH_SHAPES

    union = Graph()
    for name, g in _bundle().items():
        if name != GRAPH_SHAPES:
            for t in g:
                union.add(t)
    return union


def test_kb_export_of_one_entity(kb):
    from rdflib import OWL, RDF, RDFS

    union = _queried_union()
    entity = sorted(c for c in union.subjects(RDF.type, OWL.Class)
                    if isinstance(c, URIRef) and (c, RDFS.label, None) in union
                    and str(c).startswith(PREFIXES["ckb"]))[0]
    expected = Graph()
    for t in union.triples((entity, None, None)):
        expected.add(t)
    for t in union.triples((None, None, entity)):
        expected.add(t)
    for fmt in FORMATS:
        got = _read_rdflib(kb.export(format=fmt, entity=str(entity)), fmt)
        merged = Graph()
        for g in got.values():
            for t in g:
                merged.add(t)
        assert len(expected) > 2 and isomorphic(merged, expected), fmt


def test_kb_export_of_a_construct_result_matches_rdflib_evaluation(kb):
    query = ("PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> "
             "CONSTRUCT { ?c rdfs:subClassOf ?d } WHERE { ?c rdfs:subClassOf ?d }")
    union = _queried_union()
    expected = Graph()
    for t in union.query(query):
        expected.add(t)
    for fmt in FORMATS:
        got = _read_rdflib(kb.export(format=fmt, query=query), fmt)
        assert len(expected) > 10 and isomorphic(got[None], expected), fmt


def test_kb_export_is_byte_stable_across_stores(tmp_path):
    """Two stores, loaded from the same files in opposite orders, export the same bytes."""
    import shutil

    from kb import KnowledgeBase
    from kb.store import loader

    root = tmp_path / "bundle"  # a snapshot, so edits to the bundle mid-test cannot interfere
    for sub in ("ontology", "data", "data/inferred", "data/sources", "data/matches"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    for path in loader.bundled_files():
        shutil.copy(path, root / path.parent.relative_to(loader.project_root()) / path.name)
    for text in (loader.project_root() / "data" / "sources").glob("*"):
        shutil.copy(text, root / "data" / "sources" / text.name)
    files = loader.bundled_files(root)
    with KnowledgeBase.open(tmp_path / "one") as one, KnowledgeBase.open(memory=True) as two:
        one.load(files)
        two.load(list(reversed(files)))
        for fmt in FORMATS:
            assert one.export(format=fmt) == two.export(format=fmt), fmt
