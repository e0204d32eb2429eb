"""The HTML pages and their JSON helpers, through the Flask test client, on the bundled KB."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from html import unescape

import pytest
from flask import Flask
from flask.testing import FlaskClient
from rdflib import RDFS, Literal, URIRef

from kb import KnowledgeBase
from kb.namespaces import CKB, CKBR, GRAPH_DATA, GRAPH_INFERRED
from kb.query.examples import load_examples, parse_example
from kb.views.sourcetext import DOCS_LISTED, Span, document_view, documents, segment
from kb.views.timeline import _interval, timeline
from webui import create_app

HTML = {"Accept": "text/html"}
RUSSIA = str(CKBR) + "Russia"


@pytest.fixture(scope="module")
def site(kb: KnowledgeBase) -> Flask:
    """The app over the bundled ontology, data and inferences."""
    return create_app({"KB": kb, "TESTING": True})


@pytest.fixture
def web(site: Flask) -> FlaskClient:
    return site.test_client()


def page(web: FlaskClient, url: str) -> str:
    """GET an HTML page, insist on 200, return its text."""
    response = web.get(url, headers=HTML)
    assert response.status_code == 200, (url, response.data[:300])
    assert response.mimetype == "text/html"
    return response.get_data(as_text=True)


# --- home and search -------------------------------------------------------------------

def test_home_shows_graph_sizes_and_examples(web: FlaskClient, kb: KnowledgeBase) -> None:
    html = page(web, "/")
    total = sum(kb.graphs().values())
    assert f"{total:,}" in html
    assert f"{kb.graphs()[GRAPH_DATA]:,}" in html
    for ex in load_examples():
        assert f"/query?example={ex.name}" in html
    for nav in ("/query", "/ontology", "/timeline", "/reader", "/export", "/sparql"):
        assert f'href="{nav}"' in html


def test_search_api_finds_labels_and_aliases(web: FlaskClient) -> None:
    hits = web.get("/api/search?q=Moscow").get_json()
    assert hits and hits[0]["iri"] == RUSSIA and hits[0]["url"] == "/id/Russia"
    assert hits[0]["matched"] == "Moscow"
    assert web.get("/api/search?q=").get_json() == []
    assert web.get("/api/search?q=zzzqqq-nothing").get_json() == []
    assert len(web.get("/api/search?q=a&limit=3").get_json()) <= 3


def test_search_page_without_javascript(web: FlaskClient) -> None:
    html = page(web, "/search?q=hezbollah")
    assert 'href="/id/Hezbollah"' in html


# --- query page ------------------------------------------------------------------------

def _config(html: str) -> dict:
    match = re.search(r'<script type="application/json" id="query-config">(.*?)</script>', html, re.S)
    assert match, "query config block missing"
    return json.loads(match.group(1))


def test_query_page_carries_examples_prefixes_and_formats(web: FlaskClient) -> None:
    cfg = _config(page(web, "/query"))
    assert cfg["endpoint"] == "/sparql" and not cfg["autorun"]
    assert cfg["prefixes"]["ckb"] == str(CKB)
    assert [e["name"] for e in cfg["examples"]] == [e.name for e in load_examples()]
    assert {f["ext"] for f in cfg["formats"]["select"]} == {"srj", "srx", "csv", "tsv"}
    assert {f["ext"] for f in cfg["formats"]["graph"]} >= {"ttl", "nt", "jsonld"}


def test_query_page_loads_example_and_permalink(web: FlaskClient) -> None:
    first = load_examples()[0]
    cfg = _config(page(web, f"/query?example={first.name}"))
    assert cfg["query"] == first.sparql and cfg["autorun"]
    hostile = "SELECT * { ?s ?p '</script><script>alert(1)</script>' }"
    html = page(web, "/query?query=" + hostile.replace(" ", "%20"))
    assert "<script>alert(1)" not in html
    assert _config(html)["query"] == hostile


def test_every_example_runs(kb: KnowledgeBase) -> None:
    examples = load_examples()
    assert len(examples) >= 5
    for ex in examples:
        assert ex.question and ex.question.endswith("?"), ex.name
        result = kb.query(ex.sparql)
        assert result.kind in ("select", "ask", "graph")


def test_example_header_parsing() -> None:
    keyed = parse_example("x", "# Question: Who backs whom?\n# Description: Backing\n# nodes.\nASK {}")
    assert (keyed.question, keyed.description) == ("Who backs whom?", "Backing nodes.")
    plain = parse_example("y", "# Who?\n# more\nASK {}")
    assert (plain.question, plain.description) == ("Who?", "more")
    assert parse_example("z-name", "ASK {}").question == "z name"


def test_labels_api(web: FlaskClient) -> None:
    response = web.post("/api/labels", json={"iris": [RUSSIA, str(CKB.Claim)]})
    assert response.get_json() == {RUSSIA: "Russia", str(CKB.Claim): "Claim"}
    assert web.post("/api/labels", json={"iris": "x"}).status_code == 400
    assert web.post("/api/labels", data="nope").status_code == 400
    many = {"iris": [f"https://example.org/{i}" for i in range(2001)]}
    assert web.post("/api/labels", json=many).status_code == 413


def test_terms_api_lists_ontology_terms(web: FlaskClient) -> None:
    terms = web.get("/api/terms").get_json()
    assert str(CKB.Claim) in terms["classes"]
    assert str(CKB.supports) in terms["properties"]


# --- entity pages and content negotiation ------------------------------------------------

def test_entity_page_shows_labels_relations_and_claims(web: FlaskClient, kb: KnowledgeBase) -> None:
    html = page(web, "/id/Russia")
    assert "<h1>Russia</h1>" in html and "Moscow" in html
    assert 'id="outgoing"' in html and 'id="incoming"' in html
    assert 'class="claim-card"' in html and "<blockquote" in html
    assert 'href="/id/Russia?format=ttl"' in html
    inferred_only = kb.query(f"""SELECT (COUNT(*) AS ?n) WHERE {{
        GRAPH <{GRAPH_INFERRED}> {{ <{RUSSIA}> ?p ?o }}
        FILTER NOT EXISTS {{ GRAPH ?g {{ <{RUSSIA}> ?p ?o }} FILTER(?g != <{GRAPH_INFERRED}>) }}
    }}""").rows[0]["n"].toPython()
    assert (html.count('class="badge inferred"') > 0) == (inferred_only > 0)


def test_claim_page_shows_quote_hedge_and_chain(web: FlaskClient, kb: KnowledgeBase) -> None:
    row = kb.query(f"""SELECT ?c ?exact ?h WHERE {{ ?c a <{CKB.Claim}> ; <{CKB.hedgeText}> ?h ;
        <{CKB.hasQuote}>/<{CKB.exact}> ?exact ; <http://www.w3.org/ns/prov#wasDerivedFrom> ?x }}
        LIMIT 1""").rows[0]
    html = unescape(page(web, "/entity?iri=" + str(row["c"])))
    assert str(row["exact"]) in html
    assert f"“{row['h']}”" in html
    assert "Full PROV detail" in html and "prov:wasAttributedTo" in html
    assert "this article" in html  # the readable chain ends at the publication


@pytest.mark.parametrize(("accept", "fmt"), [
    ("text/turtle", "turtle"), ("application/n-triples", "nt"), ("application/ld+json", "json-ld"),
])
def test_entity_content_negotiation(web: FlaskClient, parse_rdf, accept: str, fmt: str) -> None:
    response = web.get("/id/Russia", headers={"Accept": accept})
    assert response.status_code == 200 and response.mimetype == accept
    assert "Accept" in response.headers["Vary"]
    graph = parse_rdf(response.data, fmt)
    assert (URIRef(RUSSIA), RDFS.label, Literal("Russia", lang="en")) in graph


def test_entity_download_and_errors(web: FlaskClient, parse_rdf) -> None:
    response = web.get("/id/Russia?format=ttl")
    assert response.headers["Content-Disposition"] == 'attachment; filename="Russia.ttl"'
    assert (URIRef(RUSSIA), RDFS.label, Literal("Russia", lang="en")) in parse_rdf(
        response.data, "turtle")
    assert web.get("/id/Russia?format=html").mimetype == "text/html"
    assert web.get("/id/Russia?format=docx").status_code == 400
    assert web.get("/id/NoSuchThing", headers=HTML).status_code == 404
    assert web.get("/id/NoSuchThing", headers={"Accept": "text/turtle"}).status_code == 404
    assert web.get("/entity", headers=HTML).status_code == 400
    assert web.get("/entity?iri=not%20an%20iri", headers=HTML).status_code == 400
    assert web.get("/id/Russia", headers={"Accept": "image/png"}).status_code == 406


def test_neighbourhood_api(web: FlaskClient) -> None:
    data = web.get(f"/api/neighbourhood?iri={RUSSIA}").get_json()
    ids = {n["id"] for n in data["nodes"]}
    assert RUSSIA in ids and len(ids) > 3
    assert all(e["source"] in ids and e["target"] in ids for e in data["edges"])
    assert web.get(f"/api/neighbourhood?iri={RUSSIA}&depth=3").status_code == 400
    assert web.get("/api/neighbourhood?iri=nope").status_code == 400


# --- ontology --------------------------------------------------------------------------

def test_ontology_lists_every_term(web: FlaskClient, kb: KnowledgeBase) -> None:
    html = unescape(page(web, "/ontology"))
    classes = kb.query(f"""SELECT DISTINCT ?c WHERE {{ ?c a <http://www.w3.org/2002/07/owl#Class>
        FILTER(STRSTARTS(STR(?c), "{CKB}")) }}""", inferred=False).rows
    assert classes
    for row in classes:
        assert f"ckb:{str(row['c'])[len(str(CKB)):]}" in html
    assert "subclass of" in html and "domain" in html and "range" in html
    assert "alignments" in html and "sem:Event" in html


# --- timeline --------------------------------------------------------------------------

def test_timeline_draws_dated_items_only(web: FlaskClient, kb: KnowledgeBase) -> None:
    data = web.get("/api/timeline").get_json()
    dated = {str(r["x"]) for r in kb.query(f"""SELECT DISTINCT ?x WHERE {{
        {{ ?x <{CKB.earliestDate}> ?d }} UNION {{ ?x <{CKB.latestDate}> ?d }} }}""").rows}
    # one item per fact: a relation node and the event modelling the same fact are drawn once
    drawn = [i["id"] for i in data["items"]] + [a for i in data["items"] for a in i["also"]]
    assert sorted(drawn) == sorted(dated)
    assert all(i["start"] < i["end"] for i in data["items"])
    assert not {u["iri"] for u in data["undated"]} & dated
    html = page(web, "/timeline")
    for u in data["undated"]:
        assert f'href="{u["url"]}"' in html


def test_open_ended_items_run_to_today_and_read_since(kb: KnowledgeBase) -> None:
    open_ended = {str(r["x"]): str(r["d"]) for r in kb.query(f"""SELECT ?x ?d WHERE {{
        ?x <{CKB.earliestDate}> ?d FILTER NOT EXISTS {{ ?x <{CKB.latestDate}> ?e }} }}""").rows}
    assert open_ended  # the article: "since September 2015"
    dated, _undated = timeline(kb, today=date(2030, 1, 1))
    for item in dated:
        if item.iri in open_ended:
            assert item.open_end and item.end == date(2030, 1, 2)
            assert item.when.startswith("since ")


def test_interval_is_as_wide_as_the_precision() -> None:
    assert _interval(date(2015, 9, 1), None, "month") == (date(2015, 9, 1), date(2015, 10, 1))
    assert _interval(date(2018, 2, 1), None, "year") == (date(2018, 2, 1), date(2019, 1, 1))
    assert _interval(date(2018, 2, 3), None, "day") == (date(2018, 2, 3), date(2018, 2, 4))
    assert _interval(date(2018, 2, 1), date(2018, 2, 28), "month")[1] == date(2018, 3, 1)
    assert _interval(None, date(2018, 5, 20), "month") == (date(2018, 5, 1), date(2018, 5, 21))
    month = _interval(date(2016, 2, 1), None, "month")
    assert month[1] - month[0] == timedelta(days=29)  # a leap February


# --- reader ----------------------------------------------------------------------------

def test_reader_highlights_every_quote(web: FlaskClient, kb: KnowledgeBase) -> None:
    (doc, _, count), *_ = documents(kb)
    view = document_view(kb, doc)
    assert count == len(view.spans) > 0 and not view.unplaced
    assert all(s.matches for s in view.spans)
    assert "".join(s.text for s in view.segments) == view.text
    html = page(web, "/reader")
    assert html.count('class="hl') >= len(view.spans)
    for span in view.spans:
        for claim, _ in span.claims:
            assert f'href="{claim.replace(str(CKBR), "/id/")}"' in html


def test_segments_handle_overlaps() -> None:
    spans = [Span(1, "q1", 0, 5, "abcde", True), Span(2, "q2", 3, 8, "defgh", True)]
    pieces = segment("abcdefghij", spans)
    assert [(p.text, p.spans, p.ends) for p in pieces] == [
        ("abc", [1], []), ("de", [1, 2], [1]), ("fgh", [2], [2]), ("ij", [], [])]


def test_reader_escapes_document_text(writable_app: Flask) -> None:
    web = writable_app.test_client()
    text = "<b>bold</b> and <script>alert(1)</script>"
    update = f"""INSERT DATA {{ GRAPH <{GRAPH_DATA}> {{
      <https://example.org/doc> a <{CKB.Document}> ; <{CKB.fullText}> {Literal(text).n3()} .
      <https://example.org/q> <{CKB.inDocument}> <https://example.org/doc> ;
        <{CKB.exact}> "<script>" ; <{CKB.startOffset}> 16 ; <{CKB.endOffset}> 24 .
      <https://example.org/c> <{CKB.hasQuote}> <https://example.org/q> .
    }} }}"""
    answer = web.post("/sparql", data={"update": update}, headers={"Authorization": "Bearer s3cret"})
    assert answer.status_code == 204, answer.data
    html = page(web, "/reader?doc=https://example.org/doc")
    assert "<script>alert" not in html and "<b>bold" not in html
    assert "&lt;b&gt;bold&lt;/b&gt;" in html
    assert re.search(r'class="hl"[^>]*>&lt;script&gt;', html)
    assert web.get("/reader?doc=https://example.org/none", headers=HTML).status_code == 404


def test_reader_lists_and_opens_only_documents_with_text(writable_app: Flask) -> None:
    """A document without text (a dataset row's, say), first by its label, is neither listed nor opened."""
    web = writable_app.test_client()
    update = f"""INSERT DATA {{ GRAPH <{GRAPH_DATA}> {{
      <https://example.org/row-doc> a <{CKB.Document}> ; <{RDFS.label}> "AAA dataset row" .
    }} }}"""
    answer = web.post("/sparql", data={"update": update}, headers={"Authorization": "Bearer s3cret"})
    assert answer.status_code == 204, answer.data
    html = page(web, "/reader")  # the first document with text, not a 404 for the row's
    assert "AAA dataset row" not in html
    assert all(d[0] != "https://example.org/row-doc" for d in documents(writable_app.config["KB"]))


def test_reader_lists_the_most_quoted_documents_when_a_dataset_brings_thousands(writable_app: Flask) -> None:
    """Past DOCS_LISTED documents with text (a dataset's one-line sources), the list keeps the most
    quoted, by label, and says how many there are: at 300k GED events it was 300,602 rows, 44 s."""
    web, kb = writable_app.test_client(), writable_app.config["KB"]
    ex, doc, text, where = "https://example.org/", CKB.Document, CKB.fullText, CKB.inDocument
    rows = " ".join(f"""<{ex}row{i}> a <{doc}> ; <{RDFS.label}> "AAA row {i:04}" ; <{text}> "a line" .
        <{ex}q{i}> <{where}> <{ex}row{i}> .""" for i in range(DOCS_LISTED + 50))
    report = " ".join(f"<{ex}rq{i}> <{where}> <{ex}report> ." for i in range(3))
    update = f"""INSERT DATA {{ GRAPH <{GRAPH_DATA}> {{ {rows} {report}
      <{ex}report> a <{doc}> ; <{RDFS.label}> "ZZZ report" ; <{text}> "text" . }} }}"""
    answer = web.post("/sparql", data={"update": update}, headers={"Authorization": "Bearer s3cret"})
    assert answer.status_code == 204, answer.data
    docs = documents(kb)
    assert docs.truncated and docs.total >= DOCS_LISTED + 51 and len(docs) == DOCS_LISTED
    assert ("https://example.org/report", "ZZZ report", 3) in docs
    assert [d[1] for d in docs] == sorted(d[1] for d in docs)
    html = page(web, "/reader?doc=https://example.org/report")
    assert 'id="docs-truncated"' in html and f"{docs.total:,} documents with text" in html
    assert html.count(">AAA row ") == DOCS_LISTED - 1


def test_entity_links_escape_labels_and_iris(writable_app: Flask) -> None:
    """A label or IRI holding markup is written as text in every link to it, never as HTML."""
    web = writable_app.test_client()
    label = '<img src=x onerror=alert(1)> & "quoted"'
    update = f"""INSERT DATA {{ GRAPH <{GRAPH_DATA}> {{
      <{CKBR}russia> <{CKB.backedBy}> <https://example.org/a?x=1&y=%222%22> .
      <https://example.org/a?x=1&y=%222%22> <{RDFS.label}> {Literal(label).n3()} .
    }} }}"""
    answer = web.post("/sparql", data={"update": update}, headers={"Authorization": "Bearer s3cret"})
    assert answer.status_code == 204, answer.data
    html = web.get("/id/russia", headers=HTML).get_data(as_text=True)
    assert "<img" not in html
    assert "&lt;img src=x onerror=alert(1)&gt; &amp; &#34;quoted&#34;" in html
    assert 'title="https://example.org/a?x=1&amp;y=%222%22"' in html
    assert 'href="/entity?iri=https://example.org/a?x%3D1%26y%3D%25222%2522"' in html


def test_every_data_entity_has_a_page(web: FlaskClient, kb: KnowledgeBase) -> None:
    """No entity of the bundled data breaks its page (claims, quotes, documents, relations...)."""
    rows = kb.query(f"SELECT DISTINCT ?s WHERE {{ GRAPH <{GRAPH_DATA}> {{ ?s ?p ?o }} "
                    f"FILTER(isIRI(?s)) }}").rows
    assert len(rows) > 50
    for row in rows:
        iri = str(row["s"])
        url = iri.replace(str(CKBR), "/id/") if iri.startswith(str(CKBR)) else "/entity?iri=" + iri
        assert web.get(url, headers=HTML).status_code == 200, iri


def test_timeline_of_thousands_of_named_things_stays_within_the_query_limit(kb: KnowledgeBase) -> None:
    """The page names every dated relation; thousands of them (1M triples) passed the query length
    limit in one VALUES block: the same items come back from runs of them."""
    from kb.views.timeline import dated_relations

    relations = dated_relations(kb)
    assert relations
    padding = [f"https://example.org/none/{n:06d}" for n in range(3000)]  # name nothing: no items
    assert sum(len(i) + 3 for i in padding) > kb.max_query_length  # one block of them alone is too long
    wanted, undated = timeline(kb, date(2026, 1, 1), only=relations)
    got, more = timeline(kb, date(2026, 1, 1), only=padding + relations)
    assert [(i.iri, i.start, i.end) for i in got] == [(i.iri, i.start, i.end) for i in wanted]
    assert [i.iri for i in more] == [i.iri for i in undated]
