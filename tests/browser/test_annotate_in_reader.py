"""Annotation in the reader, in a real chromium: select words, fill the form, save; change the claim;
withdraw it. Each step is checked in the store (SPARQL) and in the annotation sheet on disk.
Without the token the form never opens, and a forged request is refused with 403."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
import yaml

from kb import KnowledgeBase
from tests.annotating import CKBR, DOC, QUOTE, TEXT, forged
from tests.browser.conftest import _open, serving

pytestmark = pytest.mark.browser

CKB = "https://w3id.org/conflict-kb/ontology#"
PROV = "http://www.w3.org/ns/prov#"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
TOKEN = "browser-annotate-token"
GRAPH = "https://w3id.org/conflict-kb/graph/import/sheet-vantor-basin-annotations"


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("annotations")


@pytest.fixture(scope="module")
def server(annotated_kb: KnowledgeBase, folder: Path) -> Iterator[str]:
    """This module's pages: the KB served with an update token and a folder for annotation sheets."""
    with serving(annotated_kb, UPDATE_TOKEN=TOKEN, ANNOTATION_DIR=str(folder)) as base:
        yield base


def _reader(pg) -> None:
    pg.goto(f"{pg.base}/reader?doc={quote(DOC, safe='')}")
    pg.wait_for_selector("#source-text")


def _select(pg, words: str) -> None:
    """Drag the mouse across ``words`` in the source text, as a reader selects them."""
    box = pg.evaluate("""words => {
        const text = document.getElementById('source-text');
        const walker = document.createTreeWalker(text, NodeFilter.SHOW_TEXT);
        const nodes = []; let n;
        while ((n = walker.nextNode())) { if (!n.parentElement.closest('sup')) nodes.push(n); }
        const all = nodes.map(t => t.data).join(''), at = all.indexOf(words);
        const point = i => {
            for (const t of nodes) { if (i <= t.data.length) return [t, i]; i -= t.data.length; } };
        const r = document.createRange(); r.setStart(...point(at)); r.setEnd(...point(at + words.length));
        r.startContainer.parentElement.scrollIntoView({block: 'center'});
        const rects = [...r.getClientRects()].filter(x => x.width > 0);
        const a = rects[0], b = rects[rects.length - 1];
        return [a.left + 1, a.top + a.height / 2, b.right - 1, b.top + b.height / 2];
    }""", words)
    pg.mouse.move(box[0], box[1])
    pg.mouse.down()
    pg.mouse.move(box[2], box[3], steps=8)
    pg.mouse.up()


def _pick(pg, name: str, typed: str, label: str) -> None:
    pg.fill(f".ann-form input[name={name}]", typed)
    pg.locator(f".ann-form #ann-list-{name} .ann-pick", has_text=label).first.click()


def _claim(kb: KnowledgeBase) -> dict:
    """The store's one annotated claim on QUOTE, read back with SPARQL."""
    rows = kb.query(f"""SELECT ?claim ?type ?hedge ?what ?speaker WHERE {{ GRAPH <{GRAPH}> {{
        ?claim <{CKB}hasQuote> ?q . ?q <{CKB}exact> {json.dumps(QUOTE)} ;
               <{CKB}startOffset> {TEXT.index(QUOTE)} .
        ?claim a ?type . OPTIONAL {{ ?claim <{CKB}hedge> ?hedge }} OPTIONAL {{ ?claim <{CKB}supports> ?what }}
        OPTIONAL {{ ?claim <{PROV}wasDerivedFrom>/<{PROV}wasAttributedTo> ?speaker }} }} }}""",
                    inferred=False).rows
    return {"claims": {str(r["claim"]) for r in rows}, "types": {str(r["type"]) for r in rows},
            "hedges": {str(r["hedge"]) for r in rows if r.get("hedge")},
            "what": {str(r["what"]) for r in rows if r.get("what")},
            "speakers": {str(r["speaker"]) for r in rows if r.get("speaker")}}


def _sheet(folder: Path) -> list[dict]:
    sheet = folder / "vantor-basin" / "annotations.yaml"
    return yaml.safe_load(sheet.read_text(encoding="utf-8"))["claims"]


def test_create_edit_withdraw_by_selecting_text(page, page_check, shot, annotated_kb: KnowledgeBase,
                                                folder: Path) -> None:
    pg = page
    _reader(pg)
    _select(pg, QUOTE)
    assert pg.evaluate("window.getSelection().toString()").strip() == QUOTE
    pg.wait_for_timeout(300)  # the form would open on the next tick after the mouse is released
    assert pg.locator(".ann-form").count() == 0  # no token presented yet: selecting opens nothing
    pg.fill("input[name=annotator]", "Ada Analyst")
    pg.fill("input[name=token]", TOKEN)
    pg.click("text=Start annotating")
    pg.wait_for_selector("text=Annotating as Ada Analyst")

    # create: the selection fills the quote and its selectors
    _select(pg, QUOTE)
    pg.wait_for_selector(".ann-form")
    page_check(pg)  # the form fits the page and axe finds nothing serious
    start = TEXT.index(QUOTE)
    assert pg.input_value(".ann-form textarea[name=quote]") == QUOTE
    assert pg.input_value(".ann-form input[name=start]") == str(start)
    assert pg.input_value(".ann-form input[name=end]") == str(start + len(QUOTE))
    assert pg.input_value(".ann-form input[name=prefix]") == TEXT[start - 32:start]
    assert pg.input_value(".ann-form input[name=suffix]") == TEXT[start + len(QUOTE):start + len(QUOTE) + 32]
    pg.select_option(".ann-form select[name=kind]", "report")
    pg.select_option(".ann-form select[name=hedge]", "reportedly")
    _pick(pg, "speaker", "Irena", "Irena Vosk")
    pg.select_option(".ann-form select[name=relation]", "backs")
    _pick(pg, "actor1", "Kingdom of", "Kingdom of Sorve")
    _pick(pg, "actor2", "Kessani", "Kessani Home Guard")
    pg.select_option(".ann-form select[name=term]", "funding")
    shot(pg, "reader-annotate")
    with pg.expect_navigation():
        pg.click("text=Save claim")
    mark = pg.locator("a.hl[data-annotation]")
    mark.first.wait_for()
    words = mark.evaluate_all("els => els.map(e => [...e.childNodes].filter(n => n.nodeType === 3)"
                              ".map(n => n.data).join('')).join('')")
    assert words == QUOTE  # the new claim is highlighted (its footnote mark aside)
    held = _claim(annotated_kb)
    assert len(held["claims"]) == 1 and CKB + "Report" in held["types"]
    assert held["hedges"] == {CKB + "Reportedly"} and held["speakers"] == {CKBR + "actor-irena-vosk"}
    assert held["what"] == {CKBR + "backing-kingdom-of-sorve-kessani-home-guard-fundingsupport"}
    (entry,) = _sheet(folder)
    assert (entry["quote"], entry["start"]) == (QUOTE, start)
    assert (entry["kind"], entry["hedge"]) == ("report", "reportedly")

    # edit: an assessment of a rivalry, no hedge
    pg.locator(".notes li[data-annotation] button[data-ann=edit]").click()
    pg.wait_for_selector(".ann-form")
    assert pg.input_value(".ann-form textarea[name=quote]") == QUOTE
    assert pg.input_value(".ann-form input[name=prefix]") == TEXT[start - 32:start]
    pg.select_option(".ann-form select[name=kind]", "assessment")
    pg.select_option(".ann-form select[name=hedge]", "")
    pg.select_option(".ann-form select[name=relation]", "rivalry")
    with pg.expect_navigation():
        pg.click("text=Save claim")
    pg.locator("a.hl[data-annotation]").first.wait_for()
    held = _claim(annotated_kb)
    assert CKB + "Assessment" in held["types"] and CKB + "Report" not in held["types"] and not held["hedges"]
    assert held["what"] == {CKBR + "rivalry-kessani-home-guard-kingdom-of-sorve"}
    (entry,) = _sheet(folder)
    assert (entry["kind"], "hedge" in entry, list(entry["states"][0])) == ("assessment", False, ["rivalry"])

    # withdraw: kept as a record of who and when, gone from the text and from the facts
    pg.locator(".notes li[data-annotation] button[data-ann=withdraw]").click()
    pg.fill(".ann-form input[name=reason]", "misread the sentence")
    with pg.expect_navigation():
        pg.click("text=Withdraw claim")
    pg.wait_for_selector("#source-text")
    assert pg.locator("a.hl[data-annotation]").count() == 0
    assert not _claim(annotated_kb)["claims"]
    (entry,) = _sheet(folder)
    assert (entry["withdrawn"]["by"], entry["withdrawn"]["reason"]) == ("Ada Analyst", "misread the sentence")
    rows = annotated_kb.query(f"""SELECT ?at ?who WHERE {{ ?c <{PROV}invalidatedAtTime> ?at ;
        <{PROV}wasInvalidatedBy>/<{PROV}wasAssociatedWith>/<{RDFS_LABEL}> ?who }}""").rows
    assert [(str(r["at"]), str(r["who"])) for r in rows] == [(entry["withdrawn"]["at"], "Ada Analyst")]


def test_without_the_token_there_is_no_form(browser, annotated_kb: KnowledgeBase) -> None:
    with serving(annotated_kb) as plain:  # a server with no update token
        for pg in _open(browser, plain, {"width": 1366, "height": 900}):
            _reader(pg)
            assert pg.locator("#annotate-panel, script[src*='annotate']").count() == 0
            _select(pg, QUOTE)
            assert pg.evaluate("window.getSelection().toString()").strip() == QUOTE  # the words were selected
            pg.wait_for_timeout(300)
            assert pg.locator(".ann-form").count() == 0


def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    req = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def test_a_forged_post_gets_403(browser, server: str, annotated_kb: KnowledgeBase, folder: Path) -> None:
    graphs, sheet = annotated_kb.graphs(), sorted(folder.rglob("*"))
    pair = [CKBR + "actor-kingdom-of-sorve", CKBR + "actor-republic-of-dalmark"]
    body = json.dumps({"doc": DOC, "quote": QUOTE, "start": TEXT.index(QUOTE), "kind": "report",
                       "states": [{"relation": "alliance", "actors": pair}]}).encode()
    json_type = {"Content-Type": "application/json"}
    for headers, said in forged(TOKEN):
        status, text = _post(server + "/annotate/claims", body, {**json_type, **headers})
        assert status == 403 and said in text and "Traceback" not in text, (headers, status, text)
    # a page on another site submits a form to the reader's server (CSRF): refused, readably
    context = browser.new_context()
    try:
        other = context.new_page()
        other.set_content(f"""<form method="post" action="{server}/annotate/claims">
            <input name="quote" value="forged"><button>go</button></form>""")
        with other.expect_navigation() as nav:
            other.click("button")
        assert nav.value.status == 403
        assert "another site" in other.inner_text("body")
    finally:
        context.close()
    assert annotated_kb.graphs() == graphs and sorted(folder.rglob("*")) == sheet
