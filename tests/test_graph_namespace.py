"""Graphs outside the KB's namespace, on its own store, through a real `ckb serve` on loopback.

On the KB's embedded store every graph is the KB's data: a graph an update or the Graph Store
writes, whatever its IRI, is seen by GRAPH, FROM, the default graph, exports and counts.
`ckb serve --own-graphs-only` refuses such writes instead (403, naming the rule), as the library
does with ``own_graphs_only=True``. ``inferred=false`` never overrides a query's own FROM.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterator

import pyoxigraph as ox
import pytest
from rdflib import Graph
from rdflib.namespace import Namespace

from kb import KnowledgeBase
from kb.derived import claimindex
from kb.errors import OutsideNamespace
from kb.namespaces import GRAPH_BASE, GRAPH_CLAIM_INDEX, GRAPH_INFERRED, GRAPH_ONTOLOGY
from kb.store import graphstore
from kb.store.updates import check_own_graphs, written_graphs
from tests.w3c.http_suite import TOKEN, ckb_serve, send

EX = "http://www.example/"
AUTH = [("Authorization", f"Bearer {TOKEN}")]
UPDATE = [("Content-Type", "application/sparql-update"), *AUTH]
TURTLE = [("Content-Type", "text/turtle"), *AUTH]
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
VOID = Namespace("http://rdfs.org/ns/void#")


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """`ckb serve --update-token T` as shipped, on a fresh disk store."""
    with ckb_serve() as base:
        yield base


@pytest.fixture(scope="module")
def restricted() -> Iterator[str]:
    """The same, started with --own-graphs-only."""
    with ckb_serve("--own-graphs-only") as base:
        yield base


def _get(base: str, path: str, params: dict[str, str], accept: str) -> bytes:
    status, _, body = send(base, "GET", f"{path}?{urllib.parse.urlencode(params)}", [("Accept", accept)])
    assert status == 200, body
    return body


def _ask(base: str, query: str, **params: str) -> bool:
    body = _get(base, "/sparql", {"query": query, **params}, "application/sparql-results+json")
    return json.loads(body)["boolean"]


def _values(base: str, query: str, **params: str) -> list[str]:
    body = _get(base, "/sparql", {"query": query, **params}, "application/sparql-results+json")
    return [row["v"]["value"] for row in json.loads(body)["results"]["bindings"]]


def _counts(base: str) -> dict[str, int]:
    """The graphs and sizes the service description lists (kb.graphs())."""
    body = _get(base, "/sparql", {}, "text/turtle")
    sd = Graph().parse(data=body.decode(), format="turtle")
    return {str(sd.value(named, SD.name)): int(sd.value(sd.value(named, SD.graph), VOID.triples))
            for named in sd.subjects(SD.name, None)}


def _export(base: str) -> list[ox.Quad]:
    status, _, body = send(base, "GET", "/export/all.nq", [])
    assert status == 200, body
    return list(ox.parse(body, format=ox.RdfFormat.N_QUADS))


def _seen_everywhere(base: str, graph: str, s: str, o: str) -> None:
    """The triple <s> ex:p "o" in ``graph`` is what every way of reading the KB says it is."""
    pattern = f'<{s}> <{EX}p> "{o}"'
    assert _ask(base, f"ASK {{ GRAPH <{graph}> {{ {pattern} }} }}"), "GRAPH <g>"
    assert _values(base, f"SELECT ?v FROM <{graph}> WHERE {{ <{s}> <{EX}p> ?v }}") == [o], "FROM <g>"
    assert _ask(base, f"ASK {{ {pattern} }}"), "the default graph"
    assert graph in _values(base, f"SELECT DISTINCT ?v WHERE {{ GRAPH ?v {{ {pattern} }} }}"), "GRAPH ?g"
    quad = ox.Quad(ox.NamedNode(s), ox.NamedNode(f"{EX}p"), ox.Literal(o), ox.NamedNode(graph))
    assert quad in _export(base), "the export"
    assert _counts(base).get(graph, 0) >= 1, "the graph counts"


def test_an_update_outside_the_namespace_lands_where_queries_see_it(server):
    graph = f"{EX}g"
    status, _, body = send(server, "POST", "/sparql", UPDATE,
                           f'INSERT DATA {{ GRAPH <{graph}> {{ <{EX}s> <{EX}p> "update" }} }}'.encode())
    assert status == 204, body
    _seen_everywhere(server, graph, f"{EX}s", "update")
    # Not a "shared store": the KB's own graphs and its store's default graph read as before.
    assert _ask(server, "ASK { ?x a ckb:ProxyForce }")
    assert f"{GRAPH_BASE}data" in _counts(server)


def test_graph_store_writes_outside_the_namespace_land_where_queries_see_them(server):
    put, post = f"{EX}put", f"{EX}post"
    for method, graph in (("PUT", put), ("POST", post)):
        status, _, body = send(server, method, "/rdf-graph-store?" + urllib.parse.urlencode({"graph": graph}),
                               TURTLE, f'<{EX}s> <{EX}p> "{method}" .'.encode())
        assert status == 201, body
        _seen_everywhere(server, graph, f"{EX}s", method)
    # POST to the store itself: a new graph, named by its Location.
    status, headers, body = send(server, "POST", "/rdf-graph-store", TURTLE,
                                 f'<{EX}s> <{EX}p> "new" .'.encode())
    assert status == 201, body
    _seen_everywhere(server, headers["location"], f"{EX}s", "new")


def test_a_graph_outside_the_namespace_outlives_a_restart(tmp_path):
    store = tmp_path / "store"
    graph = f"{EX}kept"
    with ckb_serve(store=store) as base:
        status, _, body = send(base, "POST", "/sparql", UPDATE,
                               f'INSERT DATA {{ GRAPH <{graph}> {{ <{EX}s> <{EX}p> "kept" }} }}'.encode())
        assert status == 204, body
        status, _, body = send(base, "PUT", f"/rdf-graph-store?graph={graph}2", TURTLE,
                               f'<{EX}s> <{EX}p> "kept" .'.encode())
        assert status == 201, body
    with ckb_serve(store=store) as base:
        _seen_everywhere(base, graph, f"{EX}s", "kept")
        _seen_everywhere(base, f"{graph}2", f"{EX}s", "kept")


def test_inferred_false_never_overrides_the_querys_own_from(server):
    count = f"SELECT (COUNT(*) AS ?v) FROM <{GRAPH_ONTOLOGY}> WHERE {{ ?s ?p ?o }}"
    stored = _get(server, "/rdf-graph-store", {"graph": GRAPH_ONTOLOGY}, "application/n-triples")
    size = len(list(ox.parse(stored, format=ox.RdfFormat.N_TRIPLES)))
    assert size > 100
    assert _values(server, count) == [str(size)]
    assert _values(server, count, inferred="false") == [str(size)]
    # The protocol's default-graph-uri wins as well.
    plain = "SELECT (COUNT(*) AS ?v) WHERE { ?s ?p ?o }"
    assert _values(server, plain, inferred="false", **{"default-graph-uri": GRAPH_ONTOLOGY}) == [str(size)]
    # Where neither names a dataset, inferred=false leaves the inferred graph out (which holds
    # only what no other graph states).
    body = _get(server, "/sparql", {"query": f"CONSTRUCT {{ ?s ?p ?o }} FROM <{GRAPH_INFERRED}> "
                                             "WHERE { ?s ?p ?o FILTER(isIRI(?s) && isIRI(?o)) } LIMIT 1"},
                "application/n-triples")
    [entailed] = list(ox.parse(body, format=ox.RdfFormat.N_TRIPLES))
    ask = f"ASK {{ {entailed.subject} {entailed.predicate} {entailed.object} }}"
    assert _ask(server, ask) is True
    assert _ask(server, ask, inferred="false") is False


def test_own_graphs_only_refuses_writes_outside_the_namespace(restricted):
    refusals = [
        ("POST", "/sparql", UPDATE, f'INSERT DATA {{ GRAPH <{EX}g> {{ <{EX}s> <{EX}p> "x" }} }}'),
        ("POST", "/sparql", UPDATE,
         f'INSERT {{ GRAPH ?g {{ <{EX}s> <{EX}p> "x" }} }} WHERE {{ GRAPH ?g {{ }} }}'),
        ("POST", "/sparql", UPDATE, f'WITH <{EX}g> INSERT {{ <{EX}s> <{EX}p> "x" }} WHERE {{ }}'),
        ("POST", "/sparql", UPDATE, 'INSERT DATA { GRAPH <relative> { <urn:s> <urn:p> "x" } }'),
        ("POST", "/sparql", UPDATE, f"DROP GRAPH <{EX}g>"),
        ("PUT", f"/rdf-graph-store?graph={EX}g", TURTLE, f'<{EX}s> <{EX}p> "x" .'),
        ("POST", f"/rdf-graph-store?graph={EX}g", TURTLE, f'<{EX}s> <{EX}p> "x" .'),
        ("POST", "/rdf-graph-store", TURTLE, f'<{EX}s> <{EX}p> "x" .'),
        ("DELETE", f"/rdf-graph-store?graph={EX}g", AUTH, None),
    ]
    for method, path, headers, body in refusals:
        status, _, answer = send(restricted, method, path, [*headers, ("Accept", "text/plain")],
                                 None if body is None else body.encode())
        assert status == 403, (method, path, body, answer)
        assert b"--own-graphs-only" in answer and b"\n" not in answer.strip(), answer
    assert not _ask(restricted, f'ASK {{ GRAPH ?g {{ <{EX}s> <{EX}p> "x" }} }}')
    # A malformed update is a syntax error, with the position the engine gives.
    status, _, answer = send(restricted, "POST", "/sparql", [*UPDATE, ("Accept", "text/plain")],
                             f'INSERT DATA {{ GRAPH <{EX}g> {{\n <{EX}s> <{EX}p> }} }}'.encode())
    assert status == 400 and b"line 2" in answer, answer
    # Inside the namespace, and the store's own default graph, writes go on as usual.
    own = f"{GRAPH_BASE}mine"
    for method, path, headers, body, want in [
        ("POST", "/sparql", UPDATE, f'INSERT DATA {{ GRAPH <{own}> {{ <{EX}s> <{EX}p> "own" }} }}', 204),
        ("PUT", f"/rdf-graph-store?graph={own}2", TURTLE, f'<{EX}s> <{EX}p> "own" .', 201),
        ("POST", "/sparql", UPDATE, f'INSERT DATA {{ <{EX}s> <{EX}p> "default" }}', 204),
    ]:
        status, _, answer = send(restricted, method, path, headers, body.encode())
        assert status == want, answer
    assert _ask(restricted, f'ASK {{ GRAPH <{own}> {{ <{EX}s> <{EX}p> "own" }} }}')


def test_the_library_refuses_writes_outside_the_namespace_when_asked():
    with KnowledgeBase.open(memory=True, update_token="t", own_graphs_only=True,
                            graph_prefixes=["http://mine.example/"]) as kb:
        with pytest.raises(OutsideNamespace, match=r"<http://www\.example/g> is outside"):
            kb.update(f'INSERT DATA {{ GRAPH <{EX}g> {{ <{EX}s> <{EX}p> "x" }} }}', token="t")
        with pytest.raises(OutsideNamespace, match="--own-graphs-only"):
            graphstore.write(kb, f"{EX}g", [], replace=True, token="t")
        kb.update('INSERT DATA { GRAPH <http://mine.example/g> { <urn:s> <urn:p> "x" } }', token="t")
        triple = ox.Triple(ox.NamedNode("urn:s"), ox.NamedNode("urn:p"), ox.Literal("y"))
        graphstore.write(kb, f"{GRAPH_BASE}gsp", [triple], replace=False, token="t")
        assert set(kb.graphs()) == {"http://mine.example/g", f"{GRAPH_BASE}gsp"}
    with KnowledgeBase.open(memory=True, update_token="t") as kb:  # by default: any graph
        kb.update(f'INSERT DATA {{ GRAPH <{EX}g> {{ <{EX}s> <{EX}p> "x" }} }}', token="t")
        assert kb.graphs() == {f"{EX}g": 1}
        assert kb.query(f"ASK {{ <{EX}s> <{EX}p> ?o }}").boolean is True


def test_the_export_keeps_the_default_graph_beside_a_claim_index(tmp_path):
    with KnowledgeBase.open(path=tmp_path / "store", update_token="t") as kb:
        kb.ensure_loaded()
        kb.update(f'INSERT DATA {{ <{EX}s> <{EX}p> "default" . GRAPH <{EX}g> {{ <{EX}s> <{EX}p> "g" }} }}',
                  token="t")
        claimindex.build(kb)
        assert claimindex.current(kb)
        quads = list(ox.parse(kb.export("nq"), format=ox.RdfFormat.N_QUADS))
    s, p = ox.NamedNode(f"{EX}s"), ox.NamedNode(f"{EX}p")
    assert ox.Quad(s, p, ox.Literal("default"), ox.DefaultGraph()) in quads
    assert ox.Quad(s, p, ox.Literal("g"), ox.NamedNode(f"{EX}g")) in quads
    assert not any(q.graph_name == ox.NamedNode(GRAPH_CLAIM_INDEX) for q in quads)


def test_which_graphs_an_update_writes():
    base = "http://127.0.0.1:1/sparql"
    cases = {
        f'INSERT {{ GRAPH <{EX}i> {{ ?s ?p 1 }} }} WHERE {{ ?s ?p ?o }}': [f"{EX}i"],
        f'DELETE {{ GRAPH <{EX}d> {{ ?s ?p ?o }} }} WHERE {{ ?s ?p ?o }}': [f"{EX}d"],
        f"WITH <{EX}w> DELETE {{ ?s ?p ?o }} WHERE {{ ?s ?p ?o }}": [f"{EX}w"],
        "INSERT { GRAPH ?g { ?s ?p 1 } } WHERE { GRAPH ?g { ?s ?p ?o } }": ["?g"],
        'INSERT DATA { GRAPH <relative> { <urn:s> <urn:p> "x" } }': ["http://127.0.0.1:1/relative"],
        f"MOVE <{EX}a> TO <{EX}b>": [f"{EX}b", f"{EX}a"],
        # Read, never run: LOAD and SERVICE would reach the network from the server process.
        f"LOAD <http://127.0.0.1:1/x> INTO GRAPH <{EX}l>": [f"{EX}l"],
        "INSERT { ?s ?p 1 } WHERE { SERVICE <http://127.0.0.1:1/s> { ?s ?p ?o } }": ["DEFAULT"],
    }
    for update, graphs in cases.items():
        assert written_graphs(update, {}, base, probe=False) == graphs, update
    with KnowledgeBase.open(memory=True) as kb:
        own = kb.in_namespace
        with pytest.raises(OutsideNamespace, match=r"GRAPH \?g"):
            check_own_graphs("INSERT { GRAPH ?g { ?s ?p 1 } } WHERE { GRAPH ?g { ?s ?p ?o } }", {}, base, own)
        with pytest.raises(OutsideNamespace, match=r"<http://127\.0\.0\.1:1/relative>"):
            check_own_graphs('INSERT DATA { GRAPH <relative> { <urn:s> <urn:p> "x" } }', {}, base, own)
        check_own_graphs(f"COPY <{EX}a> TO <{GRAPH_BASE}b> ; CLEAR ALL ; DROP DEFAULT", {}, base, own)
