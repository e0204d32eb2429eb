"""/timeline and /map with the 601 UCDP GED Bangladesh rows imported: the answers, checked against the CSV."""

from __future__ import annotations

import csv
import re
from collections import Counter
from collections.abc import Iterator
from datetime import date
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode

import pytest
from flask.testing import FlaskClient

from kb import KnowledgeBase
from kb.imports import run_import
from kb.namespaces import CKB
from tests.conftest import GED_BANGLADESH
from webui import create_app

GED = GED_BANGLADESH
if not GED.is_file():
    GED = Path(__file__).resolve().parents[1] / "fixtures" / "ucdp-ged-19.1-bangladesh.csv"
HTML = {"Accept": "text/html"}


@pytest.fixture(scope="module")
def rows() -> list[dict[str, str]]:
    if not GED.is_file():
        pytest.skip("UCDP GED Bangladesh sample not available")
    with GED.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def web(rows: list[dict[str, str]]) -> Iterator[tuple[FlaskClient, str]]:
    """The bundle plus the GED rows, served without the page cache; yields (client, import graph)."""
    with KnowledgeBase.open(memory=True) as kb:
        kb.load()
        graph = run_import(kb, GED, "ucdp-ged").graph
        app = create_app({"KB": kb, "PAGE_CACHE_BYTES": 0})
        yield app.test_client(), graph


def _json(web: FlaskClient, url: str, **args: str) -> dict:
    response = web.get(url + ("?" + urlencode(args) if args else ""))
    assert response.status_code == 200, (url, args, response.data[:300])
    return response.get_json()


def _day(text: str) -> date:
    return date.fromisoformat(text[:10])


class _Text(HTMLParser):
    """The text a reader sees (no tags, attributes, scripts or styles)."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: object) -> None:
        self._skip += tag in ("script", "style")

    def handle_endtag(self, tag: str) -> None:
        self._skip -= tag in ("script", "style")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def _visible(html: str) -> str:
    p = _Text()
    p.feed(html)
    return " ".join(p.parts)


def test_histogram_buckets_sum_to_the_csv(web: tuple[FlaskClient, str], rows: list[dict[str, str]]) -> None:
    client, graph = web
    per_year = Counter(_day(r["date_start"]).year for r in rows)
    dead_per_year = Counter()
    for r in rows:
        dead_per_year[_day(r["date_start"]).year] += int(r["best"])
    data = _json(client, "/api/timeline", graph=graph, per="year")
    assert data["unit"] == "year" and not data["items"]
    assert data["total"] == len(rows) == sum(b["count"] for b in data["buckets"])
    assert data["fatalities"] == sum(int(r["best"]) for r in rows) == sum(
        b["fatalities"] for b in data["buckets"])
    got = {int(b["start"][:4]): (b["count"], b["fatalities"]) for b in data["buckets"] if b["count"]}
    assert got == {y: (per_year[y], dead_per_year[y]) for y in per_year}
    # thirty years are too many months to draw: the unit asked for gives way to the year
    assert _json(client, "/api/timeline", graph=graph, per="month")["unit"] == "year"
    # four years by month: the bucket of each row's first day, for the rows that overlap them
    first, last = date(2005, 1, 1), date(2008, 12, 31)
    overlapping = [r for r in rows if _day(r["date_start"]) <= last and _day(r["date_end"]) >= first]
    monthly = _json(client, "/api/timeline", graph=graph, per="month",
                    **{"from": first.isoformat(), "to": last.isoformat()})
    assert monthly["unit"] == "month" and monthly["total"] == len(overlapping) > 150
    per_month = Counter(r["date_start"][:7] for r in overlapping)
    assert {b["start"][:7]: b["count"] for b in monthly["buckets"] if b["count"]} == dict(per_month)
    # the page says the same, in words, and picks a unit that keeps the bars readable
    html = client.get("/timeline?" + urlencode({"graph": graph}), headers=HTML).get_data(as_text=True)
    assert f"{len(rows)} events from" in html and 'id="events-chart"' in html
    bars = int(re.search(r'id="events-chart" data-unit="(\w+)" data-buckets="(\d+)"', html)[2])
    assert 0 < bars <= 160


def test_few_events_are_single_labelled_items(web: tuple[FlaskClient, str],
                                              rows: list[dict[str, str]]) -> None:
    client, graph = web
    first, last = date(2013, 11, 1), date(2013, 12, 31)
    expected = {f"https://w3id.org/conflict-kb/id/ucdp-ged-{r['id']}" for r in rows
                if _day(r["date_start"]) <= last and _day(r["date_end"]) >= first}
    assert 0 < len(expected) <= 150
    data = _json(client, "/api/timeline", graph=graph, **{"from": first.isoformat(), "to": last.isoformat()})
    assert "buckets" not in data
    assert {i["id"] for i in data["items"]} == expected
    # labelled in words: the imported label's ISO day is said as a person says it
    assert all(not re.search(r"\d{4}-\d{2}-\d{2}", i["content"]) for i in data["items"])
    assert any("December 2013" in i["content"] for i in data["items"])


def test_map_clusters_count_every_located_event_once(web: tuple[FlaskClient, str],
                                                     rows: list[dict[str, str]]) -> None:
    client, graph = web
    located = [r for r in rows if r["latitude"] and r["longitude"]]
    dead = sum(int(r["best"]) for r in located)
    for zoom in ("1", "4", "7", "10", "14"):
        data = _json(client, "/api/map/clusters", graph=graph, zoom=zoom)
        assert sum(c["count"] for c in data["clusters"]) == data["total"] == len(located), zoom
        assert sum(c["fatalities"] for c in data["clusters"]) == dead, zoom
    # more clusters as the map zooms in, and every point alone at street level
    assert len(_json(client, "/api/map/clusters", graph=graph, zoom="2")["clusters"]) < len(
        _json(client, "/api/map/clusters", graph=graph, zoom="9")["clusters"])
    # a box: exactly the rows whose points lie in it
    box = (22.0, 90.0, 23.5, 92.0)
    inside = [r for r in located if box[0] <= float(r["latitude"]) <= box[2]
              and box[1] <= float(r["longitude"]) <= box[3]]
    data = _json(client, "/api/map/clusters", graph=graph, zoom="8", bbox=",".join(map(str, box)))
    assert sum(c["count"] for c in data["clusters"]) == len(inside) > 0
    view = _json(client, "/api/map", graph=graph, bbox=",".join(map(str, box)))
    assert view["total"] == len(inside)
    assert len(view["events"]) == min(100, len(inside))
    # the events table has no box: its link carries the filters, and the page says it lists them all
    assert view["eventsUrl"] == "/events?" + urlencode({"graph": graph})


def test_map_filter_gives_exactly_the_right_events(web: tuple[FlaskClient, str],
                                                   rows: list[dict[str, str]]) -> None:
    client, graph = web
    first, last = date(2015, 1, 1), date(2016, 12, 31)
    expected = {r["id"] for r in rows if r["type_of_violence"] == "3" and r["latitude"]
                and _day(r["date_start"]) <= last and _day(r["date_end"]) >= first}
    args = {"graph": graph, "type": str(CKB.OneSidedViolence), "from": first.isoformat(),
            "to": last.isoformat()}
    view = _json(client, "/api/map", **args)
    assert view["total"] == len(expected) > 0
    assert {e["iri"].rsplit("-", 1)[-1] for e in view["events"]} == expected  # fewer than 100: all listed
    clusters = _json(client, "/api/map/clusters", zoom="6", **args)
    assert sum(c["count"] for c in clusters["clusters"]) == len(expected)
    # a bad filter is a 400 with its reason, not a 500
    assert client.get("/api/map?from=not-a-date").status_code == 400
    assert client.get("/api/map/clusters?bbox=1,2,3").status_code == 400
    assert client.get("/timeline?per=fortnight", headers=HTML).status_code == 400


def test_pages_say_words_not_codes(web: tuple[FlaskClient, str]) -> None:
    client, _graph = web
    for url in ("/map", "/timeline", "/timeline?from=2013-11-01&to=2013-12-31",
                "/map?type=" + str(CKB.OneSidedViolence).replace("#", "%23")):
        response = client.get(url, headers=HTML)
        assert response.status_code == 200, url
        text = _visible(response.get_data(as_text=True))
        for code in ("OneSidedViolence", "ExactLocation", "NearLocation", "SecondOrderAdminArea",
                     "DayPrecision", "https://w3id.org"):
            assert code not in text, (url, code)
        iso = re.search(r".{0,40}\b\d{4}-\d{2}-\d{2}\b.{0,20}", text)
        assert not iso, (url, iso and iso[0])
    text = _visible(client.get("/map", headers=HTML).get_data(as_text=True))
    assert "One-sided violence" in text and "exact location" in text


def test_a_sparql_server_store_reads_the_same_event_rows(rows: list[dict[str, str]]) -> None:
    """A store that keeps no index (a SPARQL server's) is read through SPARQL: the same rows."""
    from kb.derived import eventbuild
    from kb.views import remoteevents

    with KnowledgeBase.open(memory=True) as kb:
        kb.load()
        run_import(kb, GED, "ucdp-ged")
        scanned, queried = eventbuild.ready(kb, wait=True), remoteevents.read(kb)
        assert queried.size == scanned.size == len(rows) + 12  # the GED rows and the article's events
        assert queried.events == scanned.events and queried.labels == scanned.labels
