"""The /sparql endpoint against a real KnowledgeBase, through the Flask test client."""

from __future__ import annotations

import csv
import io
import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from rdflib import Graph, Namespace, URIRef

from kb.namespaces import GRAPH_DATA, GRAPH_INFERRED, GRAPH_ONTOLOGY
from webui import create_app

ROOT = Path(__file__).resolve().parents[2]
HEZBOLLAH = "https://w3id.org/conflict-kb/id/hezbollah"
RUSSIA = "https://w3id.org/conflict-kb/id/russia"
IRAN = "https://w3id.org/conflict-kb/id/iran"
BACKED_BY = "https://w3id.org/conflict-kb/ontology#backedBy"
SRX = "{http://www.w3.org/2005/sparql-results#}"
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
SELECT = "SELECT ?s ?l WHERE { ?s rdfs:label ?l } ORDER BY ?l"
ASK = "ASK { ckbr:hezbollah ckb:backedBy ckbr:iran }"
CONSTRUCT = "CONSTRUCT { ?s ckb:backedBy ?o } WHERE { ?s ckb:backedBy ?o }"
ACTORS = "SELECT ?s WHERE { ?s a ckb:Actor } ORDER BY ?s"
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def _get(client, query, accept=None, **params):
    headers = {"Accept": accept} if accept else {}
    return client.get("/sparql", query_string={"query": query, **params}, headers=headers)


def test_select_json_by_default(client):
    r = _get(client, SELECT)
    assert r.status_code == 200
    assert r.mimetype == "application/sparql-results+json"
    doc = json.loads(r.data)
    assert doc["head"]["vars"] == ["s", "l"]
    labels = [b["l"]["value"] for b in doc["results"]["bindings"]]
    assert "Hezbollah" in labels and labels == sorted(labels)
    assert r.headers["X-CKB-Truncated"] == "false"
    assert "Accept" in r.headers["Vary"]


def test_select_xml(client):
    r = _get(client, SELECT, "application/sparql-results+xml")
    assert r.mimetype == "application/sparql-results+xml"
    root = ET.fromstring(r.data)
    names = [v.get("name") for v in root.iter(SRX + "variable")]
    assert names == ["s", "l"]
    values = [lit.text for lit in root.iter(SRX + "literal")]
    assert "Hezbollah" in values


def test_select_csv(client):
    r = _get(client, SELECT, "text/csv")
    assert r.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(r.data.decode())))
    assert rows[0] == ["s", "l"]
    assert [HEZBOLLAH, "Hezbollah"] in rows


def test_select_tsv(client):
    r = _get(client, SELECT, "text/tab-separated-values")
    assert r.mimetype == "text/tab-separated-values"
    lines = r.data.decode().splitlines()
    assert lines[0].split("\t") == ["?s", "?l"]
    assert f'<{HEZBOLLAH}>\t"Hezbollah"' in lines


def test_accept_q_values_and_format_override(client):
    accept = "text/csv;q=0.5, application/sparql-results+xml;q=0.9, */*;q=0.1"
    assert _get(client, SELECT, accept).mimetype == "application/sparql-results+xml"
    assert _get(client, SELECT, "text/csv;q=0, */*").mimetype == (
        "application/sparql-results+json")
    assert _get(client, SELECT, accept, format="tsv").mimetype == "text/tab-separated-values"
    assert _get(client, SELECT, format="text/csv").mimetype == "text/csv"


def test_unknown_format_falls_back_to_accept(client):
    r = _get(client, SELECT, "text/csv", format="yaml")
    assert r.status_code == 200
    assert r.mimetype == "text/csv"
    r = _get(client, SELECT, "image/png", format="yaml")
    assert r.status_code == 406  # nothing the client named is available


def test_ask_json_and_tsv(client):
    r = _get(client, ASK)
    assert json.loads(r.data)["boolean"] is True
    r = _get(client, "ASK { ckbr:iran ckb:backedBy ckbr:hezbollah }", "text/tab-separated-values")
    assert r.data.decode().splitlines()[-1] == "false"


def test_ask_as_csv_is_406(client):
    r = _get(client, ASK, "text/csv")
    assert r.status_code == 406
    assert "application/sparql-results+json" in r.data.decode()


@pytest.mark.parametrize(
    ("accept", "rdflib_format"),
    [("text/turtle", "turtle"), ("application/n-triples", "nt"),
     ("application/ld+json", "json-ld"), ("application/rdf+xml", "xml")],
)
def test_construct_formats_parse_back(client, parse_rdf, accept, rdflib_format):
    r = _get(client, CONSTRUCT, accept)
    assert r.status_code == 200
    assert r.mimetype == accept
    graph = parse_rdf(r.data, rdflib_format)
    ckb = Namespace("https://w3id.org/conflict-kb/ontology#")
    assert (URIRef(HEZBOLLAH), ckb.backedBy, URIRef("https://w3id.org/conflict-kb/id/iran")) \
        in graph
    assert len(graph) == 2


def test_construct_with_a_results_format_falls_back_to_accept(client):
    # SPARQLWrapper sends format=json (and format=n3, format=rdf+xml) on a CONSTRUCT.
    for value in ("csv", "json", "n3", "rdf+xml"):
        r = _get(client, CONSTRUCT, "application/rdf+xml", format=value)
        assert (r.status_code, r.mimetype) == (200, "application/rdf+xml"), value
    assert _get(client, CONSTRUCT, "text/csv", format="csv").status_code == 406


def test_head_answers_like_get(client):
    r = client.head("/sparql", query_string={"query": ASK}, headers={"Accept": "text/csv, */*"})
    assert r.status_code == 200
    assert r.mimetype == "application/sparql-results+json"
    assert r.data == b""
    assert client.head("/sparql", headers={"Accept": "text/turtle"}).status_code == 200


def test_non_utf8_bodies_are_415(writable_app):
    client = writable_app.test_client()
    auth = {"Authorization": "Bearer s3cret"}
    for mimetype, text in (("application/sparql-query", "ASK {}"),
                           ("application/sparql-update", "CLEAR ALL")):
        r = client.post("/sparql", data=text.encode("utf-16"),
                        content_type=f"{mimetype}; charset=UTF-16", headers=auth)
        assert r.status_code == 415, mimetype
        assert "UTF-8" in r.data.decode()
    r = client.post("/sparql", data=b"update=CLEAR%20ALL", headers=auth,
                    content_type="application/x-www-form-urlencoded; charset=latin-1")
    assert r.status_code == 415
    r = client.post("/sparql", data=b"ASK {} # \xff", content_type="application/sparql-query")
    assert r.status_code == 400
    assert json.loads(_get(client, ACTORS).data)["results"]["bindings"]  # nothing was cleared


def test_post_form_query(client):
    r = client.post("/sparql", data={"query": ASK},
                    headers={"Accept": "application/sparql-results+json"})
    assert r.status_code == 200
    assert json.loads(r.data)["boolean"] is True


def test_post_direct_query(client):
    r = client.post("/sparql", data=SELECT.encode(),
                    content_type="application/sparql-query; charset=utf-8",
                    headers={"Accept": "text/csv"})
    assert r.status_code == 200
    assert r.data.decode().startswith("s,l")


def test_syntax_error_400_with_position(client):
    r = _get(client, "SELECT ?s WHERE {\n  ?s ?p \n}")
    assert r.status_code == 400
    text = r.data.decode()
    assert "line" in text and "column" in text
    assert "Traceback" not in text


def test_service_is_refused(client):
    r = _get(client, "SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }")
    assert r.status_code == 400
    assert "SERVICE" in r.data.decode()


def test_wrong_method_405(client):
    for call in (client.put, client.delete, client.patch):
        r = call("/sparql")
        assert r.status_code == 405
        assert "POST" in r.headers["Allow"]


def test_unsupported_body_415(client):
    r = client.post("/sparql", data="SELECT * {}", content_type="text/plain")
    assert r.status_code == 415
    assert "application/sparql-query" in r.data.decode()


def test_nothing_acceptable_406(client):
    r = _get(client, SELECT, "image/png")
    assert r.status_code == 406


def test_missing_or_repeated_parameters_400(client):
    assert client.post("/sparql", data={"x": "1"}).status_code == 400
    r = client.get("/sparql?query=ASK{}&query=ASK{}")
    assert r.status_code == 400
    r = client.post("/sparql", data={"query": ASK, "update": "CLEAR ALL"})
    assert r.status_code == 400
    assert client.get("/sparql", query_string={"update": "CLEAR ALL"}).status_code == 400


def test_service_description_turtle(client):
    r = client.get("/sparql", headers={"Accept": "text/turtle"})
    assert r.status_code == 200 and r.mimetype == "text/turtle"
    graph = Graph().parse(data=r.data, format="turtle")
    endpoint = URIRef("http://localhost/sparql")
    assert (endpoint, SD.endpoint, endpoint) in graph
    assert (endpoint, SD.supportedLanguage, SD.SPARQL11Query) in graph
    assert (endpoint, SD.supportedLanguage, SD.SPARQL11Update) not in graph
    formats = set(graph.objects(endpoint, SD.resultFormat))
    assert URIRef("http://www.w3.org/ns/formats/SPARQL_Results_JSON") in formats
    names = {str(n) for n in graph.objects(None, SD.name)}
    assert {GRAPH_DATA, GRAPH_ONTOLOGY, GRAPH_INFERRED} <= names


def test_service_description_jsonld_and_default_is_rdf(client, parse_rdf):
    r = client.get("/sparql", headers={"Accept": "application/ld+json"})
    graph = parse_rdf(r.data, "json-ld")
    assert any(graph.triples((None, SD.endpoint, None)))
    assert client.get("/sparql").mimetype == "text/turtle"


def test_browser_is_redirected_to_query_page(client):
    r = client.get("/sparql", headers={"Accept": BROWSER})
    assert r.status_code == 303
    assert r.headers["Location"].endswith("/query")


def test_browser_query_link_opens_the_query_page(client):
    r = _get(client, ASK, BROWSER)
    assert r.status_code == 303
    assert r.headers["Location"].startswith("/query?query=ASK")
    assert _get(client, ASK, BROWSER, format="json").status_code == 200


def test_cors_on_answers_errors_and_preflight(client):
    assert _get(client, ASK).headers["Access-Control-Allow-Origin"] == "*"
    assert _get(client, "SELEC").headers["Access-Control-Allow-Origin"] == "*"
    assert client.put("/sparql").headers["Access-Control-Allow-Origin"] == "*"
    r = client.options("/sparql", headers={
        "Origin": "https://example.org", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert r.status_code == 204
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in r.headers["Access-Control-Allow-Methods"]
    assert "content-type" in r.headers["Access-Control-Allow-Headers"].lower()
    assert "X-CKB-Truncated" in _get(client, ASK).headers["Access-Control-Expose-Headers"]


def test_update_refused_when_read_only(client):
    r = client.post("/sparql", data={"update": "CLEAR ALL"},
                    headers={"Authorization": "Bearer anything"})
    assert r.status_code == 403
    assert "read-only" in r.data.decode()
    assert json.loads(_get(client, ASK).data)["boolean"] is True  # nothing was cleared


def test_update_needs_the_token(writable_app):
    client = writable_app.test_client()
    update = f"INSERT DATA {{ GRAPH <{GRAPH_DATA}> {{ <{RUSSIA}> <{BACKED_BY}> <{IRAN}> }} }}"
    check = "ASK { ckbr:russia ckb:backedBy ckbr:iran }"
    assert client.post("/sparql", data={"update": update}).status_code == 403
    r = client.post("/sparql", data={"update": update}, headers={"Authorization": "Bearer nope"})
    assert r.status_code == 403
    assert json.loads(_get(client, check).data)["boolean"] is False
    r = client.post("/sparql", data=update.encode(), content_type="application/sparql-update",
                    headers={"Authorization": "Bearer s3cret"})
    assert r.status_code == 204
    assert json.loads(_get(client, check).data)["boolean"] is True
    graph = Graph().parse(data=client.get("/sparql", headers={"Accept": "text/turtle"}).data)
    assert (None, SD.supportedLanguage, SD.SPARQL11Update) in graph


def test_update_with_bad_syntax_is_400(writable_app):
    client = writable_app.test_client()
    r = client.post("/sparql", data={"update": "INSERT DATTA { }"},
                    headers={"Authorization": "Bearer s3cret"})
    assert r.status_code == 400


def test_request_too_large_413(client):
    big = "ASK {}" + " " * (70 * 1024)
    r = client.post("/sparql", data=big.encode(), content_type="application/sparql-query")
    assert r.status_code == 413
    long_query = "ASK {} #" + "x" * 30_000
    r = client.post("/sparql", data={"query": long_query})
    assert r.status_code == 413
    assert "20000" in r.data.decode()


def test_default_graph_uri(client):
    all_rows = json.loads(_get(client, ACTORS).data)["results"]["bindings"]
    assert {b["s"]["value"] for b in all_rows} >= {HEZBOLLAH}
    r = client.get("/sparql", query_string={"query": ACTORS, "default-graph-uri": GRAPH_DATA})
    assert json.loads(r.data)["results"]["bindings"] == []
    r = client.post("/sparql", data={"query": ACTORS, "default-graph-uri": GRAPH_INFERRED})
    assert HEZBOLLAH in {b["s"]["value"] for b in json.loads(r.data)["results"]["bindings"]}
    # A graph the store lacks is an empty graph (SPARQL 1.1 Protocol), not an error.
    r = client.get("/sparql", query_string={"query": ACTORS,
                                            "default-graph-uri": "http://example.org/nope"})
    assert r.status_code == 200
    assert json.loads(r.data)["results"]["bindings"] == []
    r = client.get("/sparql", query_string={"query": ACTORS, "default-graph-uri": "not an iri"})
    assert r.status_code == 400


def test_named_graph_uri(client):
    query = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } } ORDER BY ?g"
    r = client.post("/sparql", data=query.encode(), content_type="application/sparql-query",
                    query_string={"named-graph-uri": [GRAPH_DATA, GRAPH_ONTOLOGY]})
    graphs = [b["g"]["value"] for b in json.loads(r.data)["results"]["bindings"]]
    assert graphs == sorted([GRAPH_DATA, GRAPH_ONTOLOGY])


def test_inferred_switch(client):
    with_inferred = json.loads(_get(client, ACTORS).data)["results"]["bindings"]
    without = json.loads(_get(client, ACTORS, inferred="false").data)["results"]["bindings"]
    assert with_inferred and not without


def test_timeout_is_503(mini_kb):
    client = create_app({"KB": mini_kb, "QUERY_TIMEOUT": 0.5}).test_client()
    slow = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . ?m ?n2 ?o }"
    r = _get(client, slow)
    assert r.status_code == 503
    assert "time limit" in r.data.decode()
    assert _get(client, ASK).status_code == 200  # the endpoint recovers


def test_row_cap_sets_truncated(mini_kb):
    client = create_app({"KB": mini_kb, "ROW_LIMIT": 2}).test_client()
    r = _get(client, "SELECT * WHERE { ?s ?p ?o }")
    assert r.headers["X-CKB-Truncated"] == "true"
    assert len(json.loads(r.data)["results"]["bindings"]) == 2
    r = _get(client, CONSTRUCT, "application/n-triples")
    assert r.headers["X-CKB-Truncated"] == "false"


SERVE_SCRIPT = """
import sys
from kb import KnowledgeBase
from webui.server import serve
if __name__ == "__main__":
    kb = KnowledgeBase.open(memory=True, workers=1)
    kb.load(sys.argv[2:])
    serve(kb, port=int(sys.argv[1]), MAX_CONTENT_LENGTH=4096)
"""


def test_serve_with_waitress_on_loopback(tmp_path, mini_files):
    files = mini_files
    script = tmp_path / "serve.py"
    script.write_text(SERVE_SCRIPT, encoding="utf-8")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen([sys.executable, str(script), str(port), *map(str, files)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=ROOT)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{base}/sparql?query=ASK%7B%7D&format=json") as r:
                    assert json.loads(r.read())["boolean"] is True
                    assert r.headers["Access-Control-Allow-Origin"] == "*"
                    assert "script-src 'self'" in r.headers["Content-Security-Policy"]
                break
            except urllib.error.URLError:
                assert proc.poll() is None and time.monotonic() < deadline, "server did not start"
                time.sleep(0.2)
        big = urllib.request.Request(f"{base}/sparql", data=b"ASK {}" + b" " * 8000,
                                     headers={"Content-Type": "application/sparql-query"})
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(big)
        assert err.value.code == 413
        assert "Content-Security-Policy" in err.value.headers  # Flask answered, not waitress
        err.value.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stdout:
            proc.stdout.close()


def test_query_time_budget_answers_429_with_retry_after(mini_kb):
    app = create_app({"KB": mini_kb, "QUERY_BUDGET": 0.4, "QUERY_TIMEOUT": 0.5})
    client = app.test_client()
    slow = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . ?m ?n1 ?o }"
    first = client.get("/sparql", query_string={"query": slow, "format": "json"})
    assert first.status_code == 503  # the time limit, charged in full to this client
    second = client.get("/sparql", query_string={"query": "ASK {}", "format": "json"})
    assert second.status_code == 429
    assert int(second.headers["Retry-After"]) >= 1
    assert second.headers["Access-Control-Allow-Origin"] == "*"
    other = client.get("/sparql", query_string={"query": "ASK {}", "format": "json"},
                       environ_base={"REMOTE_ADDR": "127.0.0.2"})
    assert other.status_code == 200  # budgets are per client


def test_relative_iris_resolve_against_the_endpoint(client, mini_kb):
    query = "SELECT ?i WHERE { BIND(<thing> AS ?i) }"
    r = _get(client, query, "application/sparql-results+json")
    assert json.loads(r.data)["results"]["bindings"][0]["i"]["value"] == "http://localhost/thing"
    based = create_app({"KB": mini_kb, "BASE_IRI": "https://example.org/base/"}).test_client()
    r = _get(based, query, "application/sparql-results+json")
    assert json.loads(r.data)["results"]["bindings"][0]["i"]["value"] == "https://example.org/base/thing"


def test_update_dataset_parameters(writable_app):
    client = writable_app.test_client()
    auth = {"Authorization": "Bearer s3cret"}
    copy = (f"INSERT {{ GRAPH <https://w3id.org/conflict-kb/graph/copy> {{ ?s ?p ?o }} }} "
            f"WHERE {{ ?s ?p ?o FILTER(?s = <{IRAN}>) }}")
    r = client.post("/sparql", data=copy.encode(), content_type="application/sparql-update",
                    query_string={"using-graph-uri": GRAPH_INFERRED}, headers=auth)
    assert r.status_code == 204
    r = client.get("/sparql", query_string={
        "query": "SELECT ?o WHERE { GRAPH <https://w3id.org/conflict-kb/graph/copy> { ?s ?p ?o } }"})
    # Only the inferred graph was read: it says Iran is a ckb:Actor, and nothing else about Iran.
    assert [b["o"]["value"] for b in json.loads(r.data)["results"]["bindings"]] == [
        "https://w3id.org/conflict-kb/ontology#Actor"]
    own = "WITH <https://w3id.org/conflict-kb/graph/copy> INSERT { ?s ?p ?o } WHERE { ?s ?p ?o }"
    r = client.post("/sparql", data={"update": own, "using-named-graph-uri": GRAPH_DATA}, headers=auth)
    assert r.status_code == 400
    assert "WITH" in r.data.decode()
    r = client.post("/sparql", data=copy.encode(), content_type="application/sparql-update",
                    query_string={"default-graph-uri": GRAPH_DATA}, headers=auth)
    assert r.status_code == 400  # a query's dataset parameter on an update
