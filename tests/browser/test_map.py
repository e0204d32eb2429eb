"""The map and the timeline in a real browser, with UCDP GED and ACLED events imported."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from kb import KnowledgeBase
from kb.derived import eventbuild
from kb.imports import run_import
from kb.namespaces import CKB
from tests.browser.conftest import serving
from tests.conftest import GED_BANGLADESH

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
GED = GED_BANGLADESH
if not GED.is_file():
    GED = FIXTURES / "ucdp-ged-19.1-bangladesh.csv"
LOCATED = 601 + 3  # every GED row and every ACLED row has a point; the article's events have none
MAX_HEIGHT = 5000  # px, on a desktop
ONE_SIDED = quote(str(CKB.OneSidedViolence), safe="")


@pytest.fixture(scope="module")
def imported_kb() -> Iterator[KnowledgeBase]:
    if not GED.is_file():
        pytest.skip("UCDP GED Bangladesh sample not available")
    with KnowledgeBase.open(memory=True) as k:
        k.load()
        run_import(k, GED, "ucdp-ged")
        run_import(k, FIXTURES / "acled-syria-sample.csv", "acled")
        assert eventbuild.ready(k, wait=True) is not None  # the pages never meet a 503 while it builds
        yield k


@pytest.fixture(scope="module")
def server(imported_kb: KnowledgeBase) -> Iterator[str]:
    """This module's own server: the bundled KB plus the imports (overrides the session one)."""
    with serving(imported_kb) as base:
        yield base


def _height(pg) -> int:
    return int(pg.evaluate("document.documentElement.scrollHeight"))


def _drawn(pg) -> tuple[int, int]:
    """(clusters drawn, the events they count): read from the markers themselves."""
    return pg.evaluate("""() => {
        const m = [...document.querySelectorAll('#map .leaflet-marker-icon.cluster')];
        return [m.length, m.reduce((n, e) => n + (e.classList.contains('single') ? 1 :
                Number(e.textContent.replace(/,/g, ''))), 0)]; }""")


def test_map_clusters_every_located_event_and_lists_the_view(page, shot) -> None:
    page.goto(page.base + "/map")
    page.wait_for_selector("#map[data-ready]")
    assert int(page.get_attribute("#map", "data-events")) == LOCATED
    clusters, counted = _drawn(page)
    assert counted == LOCATED and 0 < clusters == int(page.get_attribute("#map", "data-clusters")) < LOCATED
    # the world outline is drawn from the vendored file, as vector paths (no tiles, no img)
    page.wait_for_selector("#map[data-world-drawn]")
    assert page.locator("#map .leaflet-world-pane path").count() > 0
    assert page.locator("#map img.leaflet-tile").count() == 0
    # approximate areas only on demand
    assert page.locator('#map path[stroke-dasharray="4 3"]').count() == 0
    page.check("#show-areas")
    assert page.locator('#map path[stroke-dasharray="4 3"]').count() > 0
    # the events in view: a count, a capped table that scrolls inside itself, a link to /events
    assert page.locator("#in-view-count").inner_text() == f"{LOCATED:,}"
    assert page.locator("#located tbody tr").count() == 100
    assert page.evaluate("() => { const b = document.querySelector('.in-view');"
                         " return b.scrollHeight > b.clientHeight; }")
    assert page.get_attribute("#in-view-link", "href").startswith("/events")
    assert _height(page) <= MAX_HEIGHT
    shot(page, "map")
    # zoomed in on Dhaka: fewer events in view, more (smaller) clusters, the table and link follow
    page.evaluate("() => window.ckbMap.setView([23.8, 90.4], 10)")
    page.wait_for_function(f"() => Number(document.getElementById('map').dataset.events) < {LOCATED}")
    page.wait_for_function("() => document.getElementById('map').getAttribute('aria-busy') === 'false'")
    n = int(page.get_attribute("#map", "data-events"))
    assert page.locator("#in-view-count").inner_text() == f"{n:,}"
    assert _drawn(page)[1] == n
    assert page.get_attribute("#in-view-link", "href") == "/events"  # no filters: every event


def test_map_filters(page) -> None:
    page.goto(page.base + f"/map?type={ONE_SIDED}&from=2015-01-01&to=2016-12-31")
    page.wait_for_selector("#map[data-ready]")
    n = int(page.get_attribute("#map", "data-events"))
    assert 0 < n < 124  # one-sided violence in Bangladesh, 2015-2016 only
    assert _drawn(page)[1] == n
    page.goto(page.base + "/map?actor=https://w3id.org/conflict-kb/id/Hezbollah")
    page.wait_for_selector("#map[data-ready]")
    assert page.get_attribute("#map", "data-events") == "2"  # the ACLED rows naming Hezbollah
    resp = page.request.get(page.base + "/api/map?from=not-a-date")
    assert resp.status == 400


def test_timeline_is_a_histogram_until_zoomed_in(page, shot) -> None:
    page.goto(page.base + "/timeline")
    bars = int(page.get_attribute("#events-chart", "data-buckets"))
    assert 0 < bars <= 160 and page.locator("#events-chart .bars a").count() == bars
    assert page.locator("#timeline").count() == 0  # no vis-timeline of hundreds of slivers
    assert _height(page) <= MAX_HEIGHT
    assert page.evaluate("() => { const b = document.querySelector('.bucket-table');"
                         " return b.scrollHeight > b.clientHeight; }")
    shot(page, "timeline-histogram")
    # a row of the table zooms in: November and December 2013 hold few enough to draw one by one
    page.goto(page.base + "/timeline?from=2013-11-01&to=2013-12-31")
    page.wait_for_selector("#timeline[data-items]")
    n = int(page.get_attribute("#timeline", "data-items"))
    assert 0 < n <= 150 and page.locator("#dated tbody tr").count() == n
    assert "December 2013" in page.locator("#dated").inner_text()


def test_map_and_timeline_with_imports_fit_both_sizes(sized_page, page_check) -> None:
    """Hundreds of imported events: no sideways panning, no axe violation, at most 5,000 px tall."""
    pg = sized_page
    for url, ready in (("/map", "#map[data-ready]"), ("/timeline", "#events-chart"),
                       ("/timeline?from=2013-11-01&to=2013-12-31", "#timeline[data-items]"),
                       (f"/map?type={ONE_SIDED}", "#map[data-ready]")):
        pg.goto(pg.base + url)
        pg.wait_for_selector(ready)
        page_check(pg)
        if pg.size == "desktop":
            assert _height(pg) <= MAX_HEIGHT, (url, _height(pg))
