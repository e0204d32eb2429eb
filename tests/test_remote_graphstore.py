"""The Graph Store Protocol over a SPARQL server: /rdf-graph-store on Oxigraph server and Virtuoso."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kb import KnowledgeBase
from kb.namespaces import GRAPH_BASE, GRAPH_DATA
from tests.engines import Server
from webui import create_app

pytestmark = pytest.mark.remote

AUTH = {"Authorization": "Bearer t"}
G = GRAPH_BASE + "gsp-remote"
NT = "application/n-triples"


@pytest.fixture(scope="module", params=("oxigraph", "virtuoso"))
def remote(request: pytest.FixtureRequest) -> Iterator[KnowledgeBase]:
    server: Server = request.getfixturevalue(request.param)
    with KnowledgeBase.open(endpoint=server.query, update_endpoint=server.update, update_token="t") as k:
        k.load()
        yield k


def _client(kb: KnowledgeBase):
    return create_app({"KB": kb, "TESTING": True, "UPDATE_TOKEN": "t"}).test_client()


def _get(c, graph: str = G):
    return c.get("/rdf-graph-store", query_string={"graph": graph}, headers={"Accept": NT})


def test_put_post_get_delete_on_a_server(remote: KnowledgeBase) -> None:
    c = _client(remote)
    one = b"<http://e/s> <http://e/p> 'one' .\n<http://e/s> <http://e/q> [ <http://e/r> 1 ] ."
    at = {"query_string": {"graph": G}, "data": one, "content_type": "text/turtle"}
    assert c.put("/rdf-graph-store", **at).status_code == 403
    r = c.put("/rdf-graph-store", **at, headers=AUTH)
    assert r.status_code == 201, r.data
    assert remote.graphs()[G] == 3
    r = c.post("/rdf-graph-store", query_string={"graph": G}, data=b"<http://e/s> <http://e/p> 'two' .",
               content_type="text/turtle", headers=AUTH)
    assert r.status_code == 204, r.data
    assert remote.graphs()[G] == 4
    body = _get(c).data.decode()
    assert '"one"' in body and '"two"' in body and body.count("_:") == 2
    r = c.put("/rdf-graph-store", query_string={"graph": G}, data=b"<http://e/s> <http://e/p> 'three' .",
              content_type="text/turtle", headers=AUTH)
    assert r.status_code == 204 and remote.graphs()[G] == 1
    assert '"one"' not in _get(c).data.decode()
    assert c.delete("/rdf-graph-store", query_string={"graph": G}, headers=AUTH).status_code == 204
    assert G not in remote.graphs() and _get(c).status_code == 404
    # SELECT, not ASK: Virtuoso 7.2 answers true to ASK { GRAPH <g> {...} } for any g outside the
    # dataset sent with the query (named-graph-uri), even one that never existed.
    assert remote.query(f"SELECT * WHERE {{ GRAPH <{G}> {{ ?s ?p ?o }} }}").rows == []


def test_a_kb_graph_reads_and_other_graphs_are_refused(remote: KnowledgeBase) -> None:
    c = _client(remote)
    r = c.get("/rdf-graph-store", query_string={"graph": GRAPH_DATA}, headers={"Accept": "text/turtle"})
    assert r.status_code == 200 and b"Hezbollah" in r.data
    assert c.get("/rdf-graph-store", query_string={"default": ""}, headers={"Accept": NT}).status_code == 400
    r = c.put("/rdf-graph-store", query_string={"graph": "http://example.org/other"}, data=b"",
              content_type="text/turtle", headers=AUTH)
    assert r.status_code == 403
    r = c.put("/rdf-graph-store", query_string={"graph": G}, data=b"<http://e/s> <http://e/p> ; .",
              content_type="text/turtle", headers=AUTH)
    assert r.status_code == 400 and G not in remote.graphs()
