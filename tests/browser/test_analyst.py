"""The analyst's questions answered in a real chromium at desktop and phone size, within 3 clicks.

Every page here must fit its viewport (no sideways panning), raise no console error, make no
outside request (conftest) and show no serious or critical axe-core violation.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest

from kb import KnowledgeBase
from kb.namespaces import CKBR
from kb.views.chains import source_chains
from kb.views.claimlist import run
from kb.views.claims import check_filters
from kb.views.facts import actor_edges

pytestmark = pytest.mark.browser


def test_which_claims_rest_only_on_anonymous_sources(sized_page, page_check, shot,
                                                    kb: KnowledgeBase) -> None:
    pg = sized_page
    pg.goto(pg.base + "/")
    page_check(pg)
    pg.click("#ask-anonymous")  # click 1
    pg.wait_for_selector("li.claim-row")
    page_check(pg)
    expected = run(kb, check_filters({"anonymity": "anonymous"})).rows
    shown = pg.locator("li.claim-row").evaluate_all("els => els.map(e => e.dataset.anonymity)")
    assert shown and set(shown) == {"anonymous"}
    assert len(shown) == min(len(expected), 25)
    # through which outlets: each row's chain names the outlets the kb finds for that claim
    chains = source_chains(kb, [r.iri for r in expected[:25]])
    texts = pg.locator("li.claim-row .sources").all_inner_texts()
    for row, text in zip(expected[:25], texts, strict=True):
        for _iri, outlet in chains[row.iri].outlets:
            assert outlet in text, (row.label, outlet)
    # the view downloads as CSV and as its SPARQL, named after the filter
    for link, name in (("#csv-download", "claims-anonymity-anonymous.csv"),
                       ("#sparql-download", "claims-anonymity-anonymous.rq")):
        with pg.expect_download() as saved:
            pg.click(link)
        assert saved.value.suggested_filename == name
    if pg.size == "desktop":
        shot(pg, "claims-explorer")


def test_who_backs_hezbollah_according_to_whom(sized_page, page_check, shot, kb: KnowledgeBase) -> None:
    pg = sized_page
    pg.goto(pg.base + "/")
    pg.click("#ask-backs")  # click 1
    pg.wait_for_selector("#actor-facts tbody tr")
    page_check(pg)
    edges, _cut = actor_edges(kb, ["backs"])
    hezbollah = [e for e in edges if e.other == str(CKBR.Hezbollah)]
    assert hezbollah
    rows = pg.locator("#actor-facts tbody tr").filter(has_text="Hezbollah")
    texts = rows.all_inner_texts()
    for edge in hezbollah:
        matching = [t for t in texts if edge.subject_label in t]
        assert matching, edge.subject_label
        for _iri, outlet in edge.outlets:
            assert any(outlet in t for t in matching), outlet
    # the same answer from Hezbollah's own page: click 2 opens it from the table
    pg.locator("#actor-facts tbody tr").filter(has_text="Hezbollah").first.locator(
        "td:nth-child(3) a").click()
    pg.wait_for_selector("#key-facts")
    page_check(pg)
    assert "Backed by" in pg.locator("#key-facts").inner_text()


def test_who_fought_whom_with_what_hedge(sized_page, page_check, shot, kb: KnowledgeBase) -> None:
    pg = sized_page
    pg.goto(pg.base + "/")
    pg.click("#ask-fought")  # click 1
    pg.wait_for_selector("#actor-facts tbody tr")
    page_check(pg)
    edges, _cut = actor_edges(kb, ["fought"])
    rows = pg.locator("#actor-facts tbody tr")
    assert rows.count() == len(edges) > 0
    groups = set(rows.evaluate_all("els => els.map(e => e.dataset.group)"))
    assert groups == {"fought"}
    texts = rows.all_inner_texts()
    for edge in edges:
        line = [t for t in texts if edge.subject_label in t and edge.other_label in t]
        assert line, (edge.subject_label, edge.other_label)
        assert all(any(h in t for t in line) for h in edge.hedges)
    # the answer itself: the Russian-backed divisions fought the Iran-allied Republican Guard,
    # each backer named with its side; never a backer paired with the side it backs
    ends = rows.evaluate_all(
        "els => els.map(e => [e.cells[0].innerText.trim(), e.cells[2].innerText.trim()])")
    assert sorted(sorted(pair) for pair in ends) == [
        ["Russian-backed regime military divisions", "Syrian Republican Guard"]]
    assert "Russia, through Russian-backed regime military divisions, against Iran, through" in texts[0]
    # Russia's own page: it fought only through the side it backs
    pg.goto(pg.base + "/id/Russia")
    pg.wait_for_selector("#key-facts")
    facts = pg.locator("#key-facts").inner_text()
    assert "Fought through the side it backs" in facts and "Fought against" not in facts
    if pg.size == "desktop":
        pg.goto(pg.base + "/actors")
        pg.wait_for_selector("#actor-graph[data-ready='true']")
        assert pg.locator("#actor-graph").get_attribute("data-layout") == "fcose"
        shot(pg, "actor-graph")


def test_actor_graph_shows_evidence_when_an_edge_is_clicked(page, page_check) -> None:
    page.size = "desktop"
    page.goto(page.base + "/actors?relation=backs")
    page.wait_for_selector("#actor-graph[data-ready='true']")
    page.locator("#actor-graph").scroll_into_view_if_needed()
    # Cytoscape learns where its box moved from the scroll event, a frame later: wait for it.
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    point = page.evaluate("""() => {
        const cy = window.ckbActorGraph, box = document.getElementById('actor-graph').getBoundingClientRect();
        // The layout is randomised: click the first edge whose midpoint no node covers.
        const clear = (p) => !cy.nodes().some(n => { const b = n.renderedBoundingBox();
            return p.x >= b.x1 - 4 && p.x <= b.x2 + 4 && p.y >= b.y1 - 4 && p.y <= b.y2 + 4; });
        const e = cy.edges().filter(e => clear(e.renderedMidpoint()))[0] || cy.edges()[0];
        const p = e.renderedMidpoint();
        return {x: box.left + p.x, y: box.top + p.y};
    }""")
    page.mouse.click(point["x"], point["y"])
    page.wait_for_function("() => document.getElementById('edge-info').innerText.includes('claim')")
    info = page.locator("#edge-info").inner_text()
    assert "backs" in info and "claim" in info


def test_actor_graph_is_readable_on_every_size_and_its_list_one_step_away(sized_page, page_check) -> None:
    pg = sized_page
    pg.goto(pg.base + "/actors")
    pg.wait_for_selector("#actor-graph[data-ready='true']")
    page_check(pg)
    view = pg.viewport_size
    box = pg.locator("#actor-graph").bounding_box()
    # a sensible size: most of the screen's width and more than half its height, starting on the
    # first screen (on a phone it was a 420 px box below the filters, its labels 5 px high)
    assert box["width"] >= 0.6 * view["width"] and box["height"] >= 0.55 * view["height"], box
    assert box["y"] < 0.65 * view["height"], box
    sizes = pg.evaluate("""() => { const cy = window.ckbActorGraph;
        return cy.nodes().map(n => parseFloat(n.style('font-size')) * cy.zoom()); }""")
    assert min(sizes) >= 9, f"node labels are drawn {min(sizes):.1f} px high"
    assert max(sizes) <= 18, f"node labels are drawn {max(sizes):.1f} px high"
    # the text alternative: a link before the graph, reachable by keyboard, lands on the list
    skip = pg.locator("#to-facts-list")
    assert pg.evaluate("""() => document.getElementById('to-facts-list').compareDocumentPosition(
        document.getElementById('actor-graph')) & Node.DOCUMENT_POSITION_FOLLOWING""")
    skip.focus()
    pg.keyboard.press("Enter")
    pg.wait_for_function("() => location.hash === '#facts-list-h'")
    heading = pg.locator("#facts-list-h").bounding_box()
    assert -2 <= heading["y"] < view["height"], heading
    assert pg.evaluate("document.activeElement.id") == "facts-list-h"
    edges = pg.evaluate("window.ckbActorGraph.edges().length")
    assert pg.locator("#actor-facts tbody tr").count() == edges > 0


PAGES = ("/", "/id/Russia", "/id/Hezbollah", "/id/event-infighting", "/id/claim-strike-blew-up",
         "/source?iri=" + quote(str(CKBR.AnonymousSyrianOfficial), safe=""),
         "/source?iri=" + quote(str(CKBR.BasNews), safe=""),
         "/claims", "/claims?anonymity=anonymous&q=Russian", "/actors", "/actors?relation=fought",
         "/search?q=rep", "/export", "/ontology", "/timeline", "/map", "/reader", "/query",
         "/sparql")  # a browser asking /sparql for HTML is sent to the editor


def test_every_page_fits_and_passes_axe(sized_page, page_check, shot) -> None:
    pg = sized_page
    for url in PAGES:
        pg.goto(pg.base + url)
        pg.wait_for_load_state("load")
        if url in ("/actors", "/actors?relation=fought"):
            pg.wait_for_selector("#actor-graph[data-ready='true']")
        if url == "/timeline":
            pg.wait_for_selector("#timeline[data-items]")
        page_check(pg)
    assert pg.url.endswith("/query")
    if pg.size == "desktop":
        pg.goto(pg.base + "/id/Russia")
        shot(pg.locator("#key-facts"), "key-facts")
        pg.goto(pg.base + "/source?iri=" + quote(str(CKBR.AnonymousSyrianOfficial), safe=""))
        shot(pg, "source-page")


def test_every_page_fits_a_phone_before_its_scripts_run(browser, server: str, overflow) -> None:
    # A slow phone lays the page out before the scripts run (folding the filters, sizing the
    # graph); it must not pan sideways meanwhile, nor without JavaScript at all.
    context = browser.new_context(viewport={"width": 390, "height": 844}, java_script_enabled=False)
    try:
        pg = context.new_page()
        for url in PAGES:
            pg.goto(server + url)
            assert not overflow(pg), ("without scripts", overflow(pg))
    finally:
        context.close()


def test_query_page_keyboard_sorting_names_and_phone_fit(sized_page, page_check, kb: KnowledgeBase) -> None:
    from kb.query.examples import load_examples

    pg = sized_page
    ex = next(e for e in load_examples() if kb.query(e.sparql).kind == "select"
              and len(kb.query(e.sparql).rows) > 1)
    pg.goto(pg.base + "/query?example=" + ex.name)
    pg.wait_for_selector("#result-table tbody tr")
    page_check(pg)  # the loaded example must not widen the page (it did, to 945 px, on a phone)
    # the keyboard: Escape leaves the editor and lands on Run; Enter runs the query
    pg.click(".CodeMirror")
    pg.keyboard.press("Escape")
    assert pg.evaluate("document.activeElement.id") == "run"
    assert "Escape leaves the editor" in pg.locator("#editor-hint").inner_text()
    # downloads are named after the example: what the browser really saves, in every format
    names = pg.locator("#downloads a").evaluate_all("els => els.map(e => e.getAttribute('download'))")
    assert names and all(n.startswith(ex.name + ".") for n in names)
    for fmt in ("csv", "json"):
        with pg.expect_download() as saved:
            pg.click(f"#downloads a[data-format='{fmt}']")
        assert saved.value.suggested_filename == f"{ex.name}.{'srj' if fmt == 'json' else fmt}"
    # no badge for plain strings and integers
    badges = pg.locator("#result-table .dt").all_inner_texts()
    assert not {"string", "integer", "@en"} & {b.strip() for b in badges}
    # sortable: the first column, ascending then descending
    header = pg.locator("#result-table thead th button.sort").first
    header.click()
    assert pg.locator("#result-table thead th").first.get_attribute("aria-sort") == "ascending"
    header.click()
    assert pg.locator("#result-table thead th").first.get_attribute("aria-sort") == "descending"
    # once edited, the query is not the example any more: its downloads say so
    pg.evaluate("() => window.ckbYasqe.setValue(window.ckbYasqe.getValue() + '\\n# edited')")
    pg.click("#run")
    pg.wait_for_function("() => { const a = document.querySelector('#downloads a[data-format=csv]');"
                         " return a && a.download === 'query.csv'; }")
    with pg.expect_download() as saved:
        pg.click("#downloads a[data-format='csv']")
    assert saved.value.suggested_filename == "query.csv"


def test_actor_graph_keeps_the_raw_node_link_mode(page, kb: KnowledgeBase) -> None:
    from webui.actors import RAW_QUERY

    expected = len(kb.query(RAW_QUERY).triples)
    page.goto(page.base + "/actors")
    page.click("#raw-mode")
    page.wait_for_function("() => document.getElementById('result-graph')"
                           " && document.getElementById('result-graph').dataset.nodeCount > 1")
    assert int(page.locator("#result-graph").get_attribute("data-edge-count")) == expected > 0
    assert page.locator("#status").inner_text().startswith(f"{expected} triple")


def test_timeline_open_range_reads_since_and_its_label_is_whole(sized_page, page_check,
                                                                kb: KnowledgeBase) -> None:
    from kb.views.timeline import timeline

    pg = sized_page
    dated, _undated = timeline(kb)
    open_ended = [i for i in dated if i.open_end]
    assert open_ended  # the article: "since September 2015"
    pg.goto(pg.base + "/timeline")
    pg.wait_for_selector("#timeline .vis-item.open-end .vis-item-content")
    page_check(pg)
    # one bar per fact, and each open-ended one fades out and shows its whole label inside it
    assert pg.locator("#timeline .vis-item").count() == len(dated)
    shown = pg.evaluate("""() => [...document.querySelectorAll('#timeline .vis-item.open-end')].map(e => {
        const c = e.querySelector('.vis-item-content').getBoundingClientRect(), b = e.getBoundingClientRect();
        return {text: e.innerText, inside: c.left >= b.left - 1 && c.right <= b.right + 1 &&
                c.top >= b.top - 1 && c.bottom <= b.bottom + 1,
                fades: getComputedStyle(e).backgroundImage.includes('gradient')}; })""")
    assert len(shown) == len(open_ended)
    for bar in shown:
        assert "since" in bar["text"].lower() and bar["inside"] and bar["fades"], bar


def test_search_and_suggestions_put_actors_first_without_repeated_badges(sized_page, page_check) -> None:
    pg = sized_page
    pg.goto(pg.base + "/search?q=rep")
    page_check(pg)
    assert pg.locator("ol.hits li a").first.inner_text() == "Syrian Republican Guard"
    for badges in pg.locator("ol.hits li .types").all_inner_texts():
        names = [b.strip() for b in badges.split(",")]
        assert len(names) == len(set(names)), badges
    # the suggestions under the home page's box rank the same way
    pg.goto(pg.base + "/")
    pg.fill("#home-q", "rep")
    pg.wait_for_selector("#home-suggestions li a")
    assert pg.locator("#home-suggestions li a").first.inner_text() == "Syrian Republican Guard"


def test_query_page_on_a_phone_folds_the_examples_above_the_editor(sized_page, page_check) -> None:
    pg = sized_page
    pg.goto(pg.base + "/query")
    pg.wait_for_selector(".CodeMirror")
    page_check(pg)
    folded = not pg.evaluate("document.getElementById('examples-fold').open")
    assert folded == (pg.size == "phone")
    editor = pg.locator(".CodeMirror").bounding_box()
    assert editor["y"] < pg.viewport_size["height"] * 0.6, editor  # was 1,700 px down on a phone
    # Run is reachable by keyboard from the editor, and the hint says how
    pg.click(".CodeMirror")
    pg.keyboard.press("Escape")
    assert pg.evaluate("document.activeElement.id") == "run"
