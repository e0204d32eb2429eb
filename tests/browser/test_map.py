"""The map and the timeline in a real browser, with UCDP GED and ACLED events imported."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import waitress

from kb import KnowledgeBase
from kb.imports import run_import
from webui import create_app

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
GED = Path("/work/shared/data/ucdp-ged-19.1-bangladesh.csv")
if not GED.is_file():
    GED = FIXTURES / "ucdp-ged-19.1-bangladesh.csv"


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
    srv = waitress.create_server(create_app({"KB": imported_kb}), host="127.0.0.1", port=0, threads=4)
    threading.Thread(target=srv.run, name="ckb-map-test-server", daemon=True).start()
    yield f"http://127.0.0.1:{srv.effective_port}"
    srv.close()


def test_map_draws_imported_events_with_honest_precision(page, shot) -> None:
    page.goto(page.base + "/map")
    page.wait_for_selector("#map[data-events]")
    drawn = int(page.get_attribute("#map", "data-events"))
    assert drawn == 601 + 3  # every located GED row and ACLED row; the article's events have no coordinates
    # the world outline is drawn from the vendored file, as vector paths (no tiles, no img)
    assert page.locator("#map .leaflet-overlay-pane path").count() > drawn
    assert page.locator("#map img.leaflet-tile").count() == 0
    # approximate points (province-level, ...) are drawn dashed
    assert page.locator('#map path[stroke-dasharray="4 3"]').count() > 0
    assert "approximate" in page.locator("#located").inner_text()
    shot(page, "map")


def test_map_filters(page) -> None:
    page.goto(page.base + "/map?type=one-sided&from=2015-01-01&to=2016-12-31")
    page.wait_for_selector("#map[data-events]")
    n = int(page.get_attribute("#map", "data-events"))
    assert 0 < n < 124  # one-sided violence in Bangladesh, 2015-2016 only
    page.goto(page.base + "/map?actor=https://w3id.org/conflict-kb/id/Hezbollah")
    page.wait_for_selector("#map[data-events]")
    assert page.get_attribute("#map", "data-events") == "2"  # the ACLED rows naming Hezbollah
    resp = page.request.get(page.base + "/api/map?from=not-a-date")
    assert resp.status == 400


def test_timeline_fills_from_imports(page) -> None:
    page.goto(page.base + "/timeline")
    page.wait_for_selector("#timeline[data-items]")
    assert int(page.get_attribute("#timeline", "data-items")) > 600
    assert "UCDP" not in page.locator("#undated").inner_text()


def test_map_and_timeline_with_imports_fit_both_sizes(sized_page, page_check) -> None:
    """Hundreds of imported events: still no sideways panning, no axe violation, at both sizes."""
    pg = sized_page
    for url, ready in (("/map", "#map[data-events]"), ("/timeline", "#timeline[data-items]"),
                       ("/map?type=one-sided", "#map[data-events]")):
        pg.goto(pg.base + url)
        pg.wait_for_selector(ready)
        page_check(pg)
