"""The answers on every kind of page, in a real chromium at desktop and phone size.

The server here holds the bundle and four synthetic UCDP GED rows in Syria (three in Idlib
governorate, one in Aleppo: tests/fixtures/ucdp-ged-syria-synthetic.csv), so a place page has
events to list. Every page must fit its viewport, raise no console error and pass axe (conftest).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kb import KnowledgeBase
from kb.namespaces import CKB, CKBR
from tests.browser.conftest import serving
from tests.conftest import IDLIB

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def loaded(syria_loaded: KnowledgeBase) -> KnowledgeBase:
    return syria_loaded


@pytest.fixture(scope="module")
def server(loaded: KnowledgeBase) -> Iterator[str]:
    """This module's server: the bundle plus the synthetic rows (overrides conftest's)."""
    with serving(loaded) as base:
        yield base


def test_hezbollah_page_shows_russian_air_support_through_the_militants(sized_page, page_check) -> None:
    pg = sized_page
    pg.goto(pg.base + "/id/Hezbollah")
    pg.wait_for_selector("#key-facts")
    page_check(pg)
    backed = pg.locator('#key-facts li.fact[data-group="backed-by"]').all_inner_texts()
    air = [t for t in backed if t.startswith("Russia") and "air support" in t]
    assert air, backed
    assert "through Iranian-backed Shiite militants loyal to Assad, which include Hezbollah" in air[0]
    assert "1 claim" in air[0]  # still with its source


def test_iran_page_shows_the_25000_fighters_at_least_and_reportedly(sized_page, page_check) -> None:
    pg = sized_page
    pg.goto(pg.base + "/id/Iran")
    pg.wait_for_selector("#key-facts")
    page_check(pg)
    fact = pg.locator('#key-facts li.fact[data-group="deployed"]').filter(has_text="25,000")
    assert fact.count() == 1
    hedges = fact.locator(".badge.hedge").all_inner_texts()
    assert {"at least", "reportedly"} <= set(hedges), hedges
    assert "at least 25,000" in fact.inner_text()


def test_idlib_page_lists_the_events_in_idlib(sized_page, page_check, shot, loaded: KnowledgeBase) -> None:
    pg = sized_page
    pg.goto(pg.base + "/id/" + IDLIB[len(str(CKBR)):])
    pg.wait_for_selector("#place-events")
    page_check(pg)
    shown = pg.locator("#place-events li > a.iri").evaluate_all("els => els.map(e => e.title)")
    expected = {str(r["e"]) for r in loaded.query(f"""SELECT ?e WHERE {{
      ?e <{CKB.place}>/<{CKB.partOfPlace}>* <{IDLIB}> }}""").rows}
    assert len(expected) == 3 and sorted(shown) == sorted(expected)
    assert pg.locator("#place-count").inner_text().startswith("3 events in Idlib province")
    if pg.size == "desktop":
        shot(pg, "place-page")


def test_event_page_shows_the_sides(sized_page, page_check, shot) -> None:
    pg = sized_page
    pg.goto(pg.base + "/id/event-infighting")
    pg.wait_for_selector("#event-who")
    page_check(pg)
    who = pg.locator("#event-who")
    assert who.get_attribute("data-kind") == "fought"
    sides = who.locator(".side")
    assert sides.count() == 2
    direct = [sides.nth(i).locator(":scope > a.party").all_inner_texts() for i in range(2)]
    backers = [sides.nth(i).locator(".backers a.party").all_inner_texts() for i in range(2)]
    assert direct == [["Russian-backed regime military divisions"], ["Syrian Republican Guard"]]
    assert backers == [["Russia"], ["Iran"]]  # indirect parties: backers of their side, never fighters
    assert who.locator(".verb").inner_text() == "fought"
    if pg.size == "desktop":
        shot(pg, "event-page")


@pytest.mark.parametrize(("who", "quote"), [
    ("BasNews", "the Russian military recently “blew up” targets held by Iranian militias"),
    ("AhmedRahal", "Russia is confronting Iran in Syria for two reasons."),
])
def test_outlet_and_person_pages_show_quotes(page, page_check, who: str, quote: str) -> None:
    page.goto(page.base + f"/id/{who}")
    page.wait_for_selector("#said")
    page_check(page)
    quotes = page.locator("#said blockquote.quote").all_inner_texts()
    assert any(q.startswith(quote) for q in quotes), quotes
    # the words come before the claims about the source
    assert page.evaluate("""() => document.getElementById('said').compareDocumentPosition(
        document.getElementById('claims')) & Node.DOCUMENT_POSITION_FOLLOWING""")
