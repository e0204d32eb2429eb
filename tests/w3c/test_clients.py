"""Clients as they are: SPARQLWrapper and rdflib's SPARQLStore / SPARQLUpdateStore against `ckb serve`.

These clients add parameters of their own (SPARQLWrapper sends format= and output= with the
return format it was asked for, e.g. format=n3 or format=json on a CONSTRUCT), send updates as
forms or as application/sparql-update, and read the answer by its Content-Type.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import xml.dom.minidom
from collections.abc import Iterator

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.plugins.stores.sparqlstore import SPARQLStore, SPARQLUpdateStore
from SPARQLWrapper import (
    CSV,
    JSON,
    JSONLD,
    N3,
    POST,
    RDFXML,
    TSV,
    TURTLE,
    XML,
    SPARQLWrapper,
)

from .http_suite import TOKEN, ckb_serve

SELECT = ("SELECT ?s ?label WHERE { ?s a ckb:ProxyForce ; rdfs:label ?label } "
          "ORDER BY ?s LIMIT 5")
ASK = "ASK { ?s a ckb:ProxyForce }"
CONSTRUCT = ("CONSTRUCT { ?s rdfs:label ?label } WHERE { ?s a ckb:ProxyForce ; rdfs:label ?label } "
             "ORDER BY ?s LIMIT 5")
EX = "http://example.org/clients/"
# Graphs the clients write lie outside the KB's graph namespace: on its own store, a graph
# written through its endpoint is the KB's data all the same, seen by every query.
G = "http://www.example/clients/"


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    """The /sparql URL of a real `ckb serve --update-token T` (a fresh disk store, the bundle)."""
    with ckb_serve() as base:
        yield f"{base}/sparql"


def _wrapper(endpoint: str, query: str, fmt: str, method: str) -> SPARQLWrapper:
    client = SPARQLWrapper(endpoint, returnFormat=fmt)
    client.setMethod(method)
    client.setQuery(query)
    return client


def _expected_labels(endpoint: str) -> list[str]:
    bindings = _wrapper(endpoint, SELECT, JSON, "GET").queryAndConvert()["results"]["bindings"]
    assert bindings, "the bundle has proxy forces"
    return [b["label"]["value"] for b in bindings]


@pytest.mark.parametrize("method", ["GET", POST])
def test_sparqlwrapper_select_in_every_format(endpoint, method):
    labels = _expected_labels(endpoint)
    as_json = _wrapper(endpoint, SELECT, JSON, method).queryAndConvert()
    assert [b["label"]["value"] for b in as_json["results"]["bindings"]] == labels
    as_xml = _wrapper(endpoint, SELECT, XML, method).queryAndConvert()
    assert isinstance(as_xml, xml.dom.minidom.Document)
    literals = [n.firstChild.data for n in as_xml.getElementsByTagName("literal")]
    assert literals == labels
    as_csv = _wrapper(endpoint, SELECT, CSV, method).queryAndConvert()
    assert as_csv.decode().splitlines()[0] == "s,label"
    assert len(as_csv.decode().splitlines()) == len(labels) + 1
    as_tsv = _wrapper(endpoint, SELECT, TSV, method).queryAndConvert()
    assert as_tsv.decode().splitlines()[0] == "?s\t?label"
    assert len(as_tsv.decode().splitlines()) == len(labels) + 1


@pytest.mark.parametrize("method", ["GET", POST])
def test_sparqlwrapper_ask(endpoint, method):
    assert _wrapper(endpoint, ASK, JSON, method).queryAndConvert()["boolean"] is True
    document = _wrapper(endpoint, ASK, XML, method).queryAndConvert()
    assert document.getElementsByTagName("boolean")[0].firstChild.data == "true"


def _objects(converted: Graph | bytes) -> list[str]:
    """The objects of a converted CONSTRUCT answer (SPARQLWrapper gives Turtle and N3 as bytes)."""
    graph = converted if isinstance(converted, Graph) else Graph().parse(data=converted, format="turtle")
    return sorted(str(o) for o in graph.objects())


# SPARQLWrapper's RDF/XML and JSON-LD converters build an rdflib ConjunctiveGraph, which rdflib
# deprecates: a warning from inside the client, not from this project.
@pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")
@pytest.mark.parametrize("method", ["GET", POST])
@pytest.mark.parametrize("fmt", [TURTLE, N3, XML, RDFXML, JSONLD])
def test_sparqlwrapper_construct_in_every_format(endpoint, method, fmt):
    labels = _expected_labels(endpoint)
    converted = _wrapper(endpoint, CONSTRUCT, fmt, method).queryAndConvert()
    assert isinstance(converted, Graph if fmt in (XML, RDFXML, JSONLD) else bytes)
    assert _objects(converted) == sorted(labels)


@pytest.mark.parametrize("method", ["GET", POST])
def test_sparqlwrapper_construct_asked_for_json(endpoint, method):
    # SPARQLWrapper sends format=json and Accept: */* (and warns): the server falls back to
    # the Accept header and answers Turtle, which the client reads by its Content-Type.
    labels = _expected_labels(endpoint)
    with pytest.warns(RuntimeWarning, match="Accept header"):
        result = _wrapper(endpoint, CONSTRUCT, JSON, method).query()
    assert result.response.headers["Content-Type"].startswith("text/turtle")
    with pytest.warns(RuntimeWarning, match="Format requested was JSON"):
        converted = result.convert()
    assert _objects(converted) == sorted(labels)


def _ask(endpoint: str, query: str) -> bool:
    return _wrapper(endpoint, query, JSON, "GET").queryAndConvert()["boolean"]


def test_sparqlwrapper_update_with_a_bearer_token(endpoint):
    check = f"ASK {{ GRAPH <{G}g> {{ <{EX}s> <{EX}p> 'wrapper' }} }}"
    update = f"INSERT DATA {{ GRAPH <{G}g> {{ <{EX}s> <{EX}p> 'wrapper' }} }}"
    refused = _wrapper(endpoint, update, JSON, POST)
    with pytest.raises(urllib.error.HTTPError) as err:
        refused.query()
    assert err.value.code == 403
    err.value.close()
    assert _ask(endpoint, check) is False
    client = _wrapper(endpoint, update, JSON, POST)
    client.addCustomHttpHeader("Authorization", f"Bearer {TOKEN}")
    assert client.query().response.status == 204
    assert _ask(endpoint, check) is True
    # The same, sent as application/sparql-update rather than a form.
    direct = _wrapper(endpoint, f"DELETE DATA {{ GRAPH <{G}g> {{ <{EX}s> <{EX}p> 'wrapper' }} }}",
                      JSON, POST)
    direct.setRequestMethod("postdirectly")
    direct.addCustomHttpHeader("Authorization", f"Bearer {TOKEN}")
    assert direct.query().response.status == 204
    assert _ask(endpoint, check) is False


def test_rdflib_sparqlstore_reads(endpoint):
    labels = _expected_labels(endpoint)
    graph = Graph(SPARQLStore(endpoint))
    prologue = ("PREFIX ckb: <https://w3id.org/conflict-kb/ontology#> "
                "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> ")
    rows = list(graph.query(prologue + SELECT))
    assert [str(row.label) for row in rows] == labels
    assert graph.query(prologue + ASK).askAnswer is True
    constructed = graph.query(prologue + CONSTRUCT).graph
    assert sorted(str(o) for o in constructed.objects()) == sorted(labels)


def test_rdflib_sparqlupdatestore_writes_with_a_bearer_token(endpoint):
    store = SPARQLUpdateStore(endpoint, endpoint, headers={"Authorization": f"Bearer {TOKEN}"})
    graph = Graph(store, identifier=URIRef(f"{G}rdflib"))
    triple = (URIRef(f"{EX}a"), URIRef(f"{EX}p"), Literal("from rdflib", lang="en"))
    graph.add(triple)
    assert triple in graph
    assert _ask(endpoint, f'ASK {{ GRAPH <{G}rdflib> {{ <{EX}a> <{EX}p> "from rdflib"@en }} }}')
    assert _ask(endpoint, f'ASK {{ <{EX}a> <{EX}p> "from rdflib"@en }}')  # the default graph too
    graph.remove(triple)
    assert triple not in graph
    anonymous = SPARQLUpdateStore(endpoint, endpoint)
    with pytest.raises(urllib.error.HTTPError) as err:
        anonymous.update(f"INSERT DATA {{ <{EX}x> <{EX}p> 1 }}")
    assert err.value.code == 403
    err.value.close()


def test_service_description_for_a_plain_get(endpoint):
    request = urllib.request.Request(endpoint, headers={"Accept": "application/ld+json"})
    with urllib.request.urlopen(request) as response:
        assert json.loads(response.read())
