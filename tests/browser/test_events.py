"""The events table in a real browser, with the 601 UCDP GED rows and the ACLED sample imported."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest

from kb import KnowledgeBase
from kb.imports import run_import
from tests.browser.conftest import serving
from tests.conftest import GED_BANGLADESH

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
GED = GED_BANGLADESH
if not GED.is_file():
    GED = FIXTURES / "ucdp-ged-19.1-bangladesh.csv"
MAX_HEIGHT = 5000  # px on a desktop (issue 20)


@pytest.fixture(scope="module")
def imported_kb() -> Iterator[KnowledgeBase]:
    if not GED.is_file():
        pytest.skip("UCDP GED Bangladesh sample not available")
    with KnowledgeBase.open(memory=True) as k:
        k.load()
        run_import(k, GED, "ucdp-ged")
        run_import(k, FIXTURES / "acled-syria-sample.csv", "acled")
        yield k


@pytest.fixture(scope="module")
def server(imported_kb: KnowledgeBase) -> Iterator[str]:
    """This module's own server: the bundled KB plus the imports (overrides the session one)."""
    with serving(imported_kb) as base:
        yield base


def _count(page) -> int:
    return int(page.get_attribute("#events-count strong", "data-total"))


def test_events_table_narrows_by_a_facet_and_stays_short(page, shot) -> None:
    page.goto(page.base + "/events")
    assert _count(page) == 601 + 3 + 12  # the GED rows, the ACLED rows, the article's events
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height <= MAX_HEIGHT, height
    shot(page, "events")
    # the admin-1 facet: click the largest division; the table says as many as the facet did
    link = page.locator('#facet-admin1 a[data-facet="admin1"]').first
    name = link.inner_text()
    said = int(link.locator("xpath=..").locator(".count").inner_text().replace(",", ""))
    with GED.open(encoding="utf-8", newline="") as fh:
        in_csv = sum(1 for r in csv.DictReader(fh) if r["adm_1"].replace("ā", "a") == name.replace("ā", "a"))
    assert said == in_csv
    link.click()
    page.wait_for_selector('.chip.filter[data-filter="admin1"]')
    assert _count(page) == said
    assert page.locator("#events-table tbody tr").count() == min(said, 50)
    # sorted by deaths, most first: the first row has the most
    page.locator('a[data-sort="fatalities"]').click()
    page.wait_for_selector('th[aria-sort] a[data-sort="fatalities"]')
    deaths = [int(t.split()[0]) for t in page.locator("#events-table tbody td.num").all_inner_texts()
              if t.strip() and t.strip() != "—"]
    assert deaths == sorted(deaths, reverse=True) and deaths


def test_events_table_fits_both_sizes(sized_page, page_check) -> None:
    pg = sized_page
    for url in ("/events", "/events?type=https://w3id.org/conflict-kb/ontology%23Clash&size=200"):
        pg.goto(pg.base + url)
        pg.wait_for_selector("#events-table")
        page_check(pg)
