"""The web UI in a real chromium: queries, entity pages, graph, downloads, reader, timeline."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from rdflib import RDFS, Graph, URIRef

from kb import KnowledgeBase
from kb.namespaces import CKBR
from kb.query.examples import load_examples
from kb.views.sourcetext import document_view, documents
from kb.views.timeline import timeline

pytestmark = pytest.mark.browser
RUSSIA = str(CKBR) + "Russia"


def _select_example(kb: KnowledgeBase):
    """The first example that is a SELECT with rows and an IRI in them (known from the KB)."""
    for ex in load_examples():
        result = kb.query(ex.sparql)
        if result.kind == "select" and result.rows and any(
                isinstance(v, URIRef) for row in result.rows for v in row.values()):
            return ex, result
    pytest.fail("no example SELECT query returns IRIs")


def test_home_search_suggests(page, shot, kb: KnowledgeBase) -> None:
    page.goto(page.base + "/")
    page.fill("#home-q", "Hezb")
    page.wait_for_selector("#home-suggestions li a")
    labels = page.locator("#home-suggestions li a").all_inner_texts()
    assert "Hezbollah" in labels
    assert page.locator("#graph-sizes tbody tr").count() == len(kb.graphs())
    shot(page, "home")


def test_example_query_shows_its_rows_and_opens_an_entity(page, shot, kb: KnowledgeBase) -> None:
    ex, result = _select_example(kb)
    page.goto(page.base + "/query")
    page.click(f'a.example[data-example="{ex.name}"]')
    page.wait_for_selector("#result-table tbody tr")
    shown = page.locator("#result-table tbody tr").count()
    assert shown == min(len(result.rows), 50)
    assert page.locator("#status").inner_text().startswith(f"{len(result.rows)} row")
    assert "example=" + ex.name in page.url
    downloads = page.locator("#downloads a").evaluate_all("els => els.map(e => e.dataset.format)")
    assert set(downloads) == {"json", "xml", "csv", "tsv"}
    shot(page, "query")
    link = page.locator("#result-table tbody a.iri").first
    label = link.inner_text()
    link.click()
    page.wait_for_selector("article.entity h1")
    assert page.locator("article.entity h1").inner_text() == label


def test_permalink_and_construct_graph_view(page, shot, kb: KnowledgeBase) -> None:
    query = f"CONSTRUCT {{ <{RUSSIA}> ?p ?o }} WHERE {{ <{RUSSIA}> ?p ?o FILTER(isIRI(?o)) }}"
    expected = len(kb.query(query).triples)
    page.goto(page.base + "/query?query=" + quote(query))
    page.wait_for_selector("#result-graph canvas")
    page.wait_for_function("() => document.getElementById('result-graph').dataset.nodeCount > 1")
    assert page.locator("#status").inner_text().startswith(f"{expected} triple")
    assert int(page.locator("#result-graph").get_attribute("data-edge-count")) == expected
    page.click("#share")
    assert page.locator("#permalink").input_value() == page.url
    shot(page, "query-graph")


def test_entity_graph_grows_on_click(page, shot) -> None:
    page.goto(page.base + "/id/Russia")
    page.wait_for_selector("#entity-graph[data-ready='true']")
    before = page.evaluate("window.ckbEntityGraph.count()")
    assert before > 1
    shot(page, "entity")
    # Click, with the real mouse, the unexpanded neighbour with the most links.
    page.locator("#entity-graph").scroll_into_view_if_needed()
    target = page.evaluate("""async () => {
        const cy = window.ckbEntityGraph.cy;
        const tried = [];
        for (const n of cy.nodes().filter(n => !n.data('expanded'))) {
            const d = await window.ckbEntityGraph.fetch(n.id());
            if (d.nodes.some(m => cy.getElementById(m.id).empty())) {
                // where the graph is now: the page may have moved while the fetches ran
                const box = document.getElementById('entity-graph').getBoundingClientRect();
                const p = n.renderedPosition();
                return {x: box.left + p.x, y: box.top + p.y, id: n.id()};
            }
            tried.push(n.id() + ': ' + d.nodes.length + ' nodes');
        }
        return {tried: tried, shown: cy.nodes().length};
    }""")
    assert "id" in target, f"no neighbour of Russia has neighbours of its own to add: {target}"
    page.mouse.click(target["x"], target["y"])
    page.wait_for_function("(n) => window.ckbEntityGraph.count() > n", arg=before)
    assert page.evaluate(f"window.ckbEntityGraph.cy.getElementById({target['id']!r}).data('expanded')")
    assert "open page" in page.locator("#graph-info").inner_text()
    shot(page.locator(".graph-section"), "graph")


def test_download_entity_turtle(page) -> None:
    page.goto(page.base + "/id/Russia")
    with page.expect_download() as info:
        page.click("#ttl-download")
    download = info.value
    assert download.suggested_filename == "Russia.ttl"
    graph = Graph().parse(download.path(), format="turtle")
    assert (URIRef(RUSSIA), RDFS.label, None) in graph
    assert len(graph) > 10


def test_reader_highlight_leads_to_its_claim(page, shot, kb: KnowledgeBase) -> None:
    doc = documents(kb)[0][0]
    view = document_view(kb, doc)
    page.goto(page.base + "/reader")
    highlights = page.locator("#source-text a.hl")
    assert highlights.count() >= len(view.spans)
    shot(page, "reader")
    first = view.spans[0]
    claim_iri, claim_label = first.claims[0]
    highlights.first.click()  # its note opens beside the words; the claim is one click on
    page.locator(".hl-note a.claim-link").first.click()
    page.wait_for_selector("article.entity h1")
    assert page.locator("article.entity h1").inner_text() == claim_label
    assert first.exact in page.locator("blockquote.quote").first.inner_text()
    assert claim_iri.endswith(page.url.rsplit("/", 1)[-1])


def test_timeline_draws_dated_items_only(page, shot, kb: KnowledgeBase) -> None:
    dated, undated = timeline(kb)
    page.goto(page.base + "/timeline")
    page.wait_for_selector("#timeline[data-items]")
    page.wait_for_function("""() => { const c = [...document.querySelectorAll('#timeline .vis-item-content')];
        return c.length > 0 && c.every(e => e.textContent.trim()); }""")
    drawn = page.locator("#timeline .vis-item .vis-item-content").all_text_contents()
    assert sorted(t.strip() for t in drawn) == sorted(i.display for i in dated)
    assert not {i.label for i in undated} & {t.strip() for t in drawn}
    assert page.locator("#undated li").count() == max(len(undated), 1)
    # vis-timeline lays items out after they enter the DOM; shoot once they are really visible.
    page.wait_for_function("""() => [...document.querySelectorAll('#timeline .vis-item')].every(e => {
        const r = e.getBoundingClientRect();
        return r.width > 0 && getComputedStyle(e.closest('.vis-timeline')).visibility === 'visible'; })""")
    page.locator("#timeline .vis-item").first.wait_for(state="visible")
    shot(page, "timeline")


def test_ontology_page(page, shot) -> None:
    page.goto(page.base + "/ontology")
    assert page.locator("#classes .term").count() > 20
    shot(page, "ontology")
    page.click("#hierarchy a >> nth=0")
    assert page.url.split("#")[1].startswith("n-")
    assert page.locator(".term:target").count() == 1


def test_editor_completes_from_this_kb_only(page) -> None:
    """Prefixes, classes and properties come from this server (no prefix.cc, no LOV)."""
    page.goto(page.base + "/query")
    page.evaluate("() => window.ckbYasqe.setValue('')")
    page.click(".CodeMirror")
    page.keyboard.type("PREFIX ck")
    page.keyboard.press("Control+Space")
    page.wait_for_selector(".CodeMirror-hints li")
    assert "ckb: <https://w3id.org/conflict-kb/ontology#>" in page.locator(
        ".CodeMirror-hints li").all_inner_texts()
    page.keyboard.press("Escape")
    page.evaluate("""() => window.ckbYasqe.setValue(
        'PREFIX ckb: <https://w3id.org/conflict-kb/ontology#>\\nSELECT * WHERE { ?x a ckb:Cla')""")
    page.click(".CodeMirror")
    page.keyboard.press("Control+End")
    page.keyboard.press("Control+Space")
    page.wait_for_selector(".CodeMirror-hints li")
    # each hint is the text inserted, then its label and why it is offered (js/complete.js)
    assert any(h.split()[0] == "ckb:Claim" for h in page.locator(".CodeMirror-hints li").all_inner_texts())
