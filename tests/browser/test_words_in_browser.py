"""Issue 20 in a real browser: the header search suggests on every page, the reader keeps its
place, the query editor is a few Tab stops away, the neighbourhood shows no internal nodes."""

from __future__ import annotations

from kb import KnowledgeBase
from kb.namespaces import CKB, CKBR

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"


def test_header_search_suggests_on_an_entity_page(sized_page) -> None:
    pg = sized_page
    pg.goto(pg.base + "/id/Russia")
    pg.locator("#nav-q").press_sequentially("Hezbol", delay=30)
    pg.wait_for_selector("#nav-suggestions li a")
    first = pg.locator("#nav-suggestions li a").first
    assert first.inner_text() == "Hezbollah"
    assert first.is_visible() and pg.locator("#nav-suggestions").bounding_box()["width"] > 150
    first.click()
    pg.wait_for_url("**/id/Hezbollah")


def test_clicking_a_highlight_keeps_the_readers_place(sized_page) -> None:
    pg = sized_page
    pg.goto(pg.base + "/reader")
    highlight = pg.locator("#source-text a.hl").nth(8)
    highlight.scroll_into_view_if_needed()
    pg.mouse.wheel(0, 120)  # the highlight well inside the window, the page scrolled
    pg.wait_for_timeout(300)
    before = pg.evaluate("window.scrollY")
    assert before > 100
    box = highlight.bounding_box()
    pg.mouse.click(box["x"] + 4, box["y"] + box["height"] / 2)
    note = pg.locator(".hl-note")
    note.wait_for()
    assert pg.url.split("#")[0] == pg.base + "/reader"  # still in the text
    assert abs(pg.evaluate("window.scrollY") - before) <= 2
    # the note opened beside the words names the claim, and the notes column marks it
    assert "Claim:" in note.inner_text() and note.is_visible()
    marked = pg.locator(".notes li.current")
    assert marked.count() == 1 and marked.get_attribute("id") == pg.url.split("#")[1]
    pg.keyboard.press("Escape")
    assert pg.locator(".hl-note").count() == 0 and abs(pg.evaluate("window.scrollY") - before) <= 2


def test_the_query_editor_is_a_few_tab_stops_away(page) -> None:
    page.goto(page.base + "/query")
    page.wait_for_function("() => window.ckbYasqe !== undefined")
    in_editor = "() => !!document.activeElement.closest('#editor')"
    stops = 0
    while not page.evaluate(in_editor):
        page.keyboard.press("Tab")
        stops += 1
        assert stops <= 30, "the editor was never reached"
    # nothing of the page's own comes before the editor: only the skip links and the site header
    before = page.evaluate("document.querySelectorAll('a.skip, header a[href], header input').length")
    assert stops <= before + 1, f"{stops} presses of Tab to reach the query editor ({before} links before it)"
    # the first stop is the skip link to the editor: Tab, Enter and the cursor is in it
    page.goto(page.base + "/query")
    page.wait_for_function("() => window.ckbYasqe !== undefined")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to the query editor"
    page.keyboard.press("Enter")
    page.wait_for_function(in_editor)
    page.keyboard.type("# typed")
    assert "# typed" in page.evaluate("window.ckbYasqe.getValue()")


def test_neighbourhood_on_russias_page_shows_actors_events_and_places(page, kb: KnowledgeBase) -> None:
    page.goto(page.base + "/id/Russia")
    page.wait_for_selector("#entity-graph[data-ready='true']")
    nodes = page.evaluate("window.ckbEntityGraph.cy.nodes().map(n => [n.id(), n.data('kind')])")
    edges = page.evaluate("window.ckbEntityGraph.cy.edges().map(e => e.data('label'))")
    assert len(nodes) > 5 and not [i for i, _k in nodes if "fact-" in i]
    assert {k for _i, k in nodes} <= {"focus", "actor", "event", "place", "more"}
    for iri, kind in nodes:
        if kind in ("actor", "event", "place"):
            cls = {"actor": CKB.Actor, "event": CKB.Event, "place": CKB.Place}[kind]
            assert kb.query(f"ASK {{ <{iri}> <{RDF_TYPE}>/<http://www.w3.org/2000/01/rdf-schema#subClassOf>* "
                            f"<{cls}> }}").boolean, (iri, kind)
    assert "fact object" not in edges and "backs" in edges and "took part in" in edges
    assert (str(CKBR.Iran), "actor") in [tuple(n) for n in nodes]
