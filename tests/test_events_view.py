"""The events table (/events) and the event index under it: answers checked against the data itself.

The 601 UCDP GED rows of Bangladesh are imported beside the bundle; each facet's counts, the
fatalities, and a filtered view's rows are computed again from the CSV file and must agree.
The SPARQL the page offers must give the page's own rows; the index in the sidecar is derived
(deleting it gives the same answers; a write leaves it behind).
"""

from __future__ import annotations

import csv
import io
import re
import shutil
import time
from collections import Counter
from datetime import date
from html import unescape
from pathlib import Path
from urllib.parse import quote

import pytest
from flask.testing import FlaskClient

from kb import KnowledgeBase
from kb.derived import claimindex, eventbuild, sidecar
from kb.derived.events import SORTS, EventFilters, EventIndex
from kb.imports import run_import
from kb.imports.common import slug
from kb.namespaces import CKB, CKBR
from kb.views.events import build_query
from tests.conftest import GED_BANGLADESH
from webui import create_app

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
GED = GED_BANGLADESH
if not GED.is_file():
    GED = FIXTURES / "ucdp-ged-19.1-bangladesh.csv"
needs_ged = pytest.mark.skipif(not GED.is_file(), reason="UCDP GED Bangladesh sample not available")
EVENT_CLASS = {"1": "Clash", "2": "Clash", "3": "OneSidedViolence"}


def ged_rows() -> list[dict[str, str]]:
    with GED.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def ged() -> tuple[KnowledgeBase, EventIndex, FlaskClient, str]:
    if not GED.is_file():
        pytest.skip("UCDP GED Bangladesh sample not available")
    with KnowledgeBase.open(memory=True) as kb:
        kb.load()
        graph = run_import(kb, GED, "ucdp-ged").graph
        index = eventbuild.ready(kb, wait=True)
        assert index is not None
        yield kb, index, create_app({"KB": kb, "PAGE_CACHE_BYTES": 0}).test_client(), graph


def _labels(index: EventIndex, counts: list[tuple[str, int]]) -> Counter:
    """Counts by the place's name as the importer keys places (kb.imports.places: by slug, so
    "Barisal Division" and "Barisāl Division" are one place)."""
    out: Counter = Counter()
    for value, n in counts:
        out[slug(index.label(value))] += n
    return out


def _named(values: list[str]) -> Counter:
    return Counter(slug(v) for v in values if v)


@needs_ged
def test_facet_counts_equal_the_csv(ged) -> None:
    _kb, index, _web, graph = ged
    rows = ged_rows()
    assert len(rows) == 601
    mask = index.matching(EventFilters(graph=graph))
    assert len(mask) == 601
    facets = index.facets(mask, size=10_000)
    assert _labels(index, facets["country"]) == _named([r["country"] for r in rows])
    assert _labels(index, facets["admin1"]) == _named([r["adm_1"] for r in rows])
    assert len(facets["admin1"]) > 5 and len(facets["admin2"]) > 20
    assert _labels(index, facets["admin2"]) == _named([r["adm_2"] for r in rows])
    assert dict(facets["type"]) == dict(Counter(str(CKB) + EVENT_CLASS[r["type_of_violence"]] for r in rows))
    # sides: state-based and non-state rows have side A and side B; one-sided, attacker and target
    two_sided = sum(r["type_of_violence"] in "12" for r in rows)
    assert dict(facets["side"]) == {k: v for k, v in {
        str(CKB.SideA): two_sided, str(CKB.SideB): two_sided,
        str(CKB.Attacker): 601 - two_sided, str(CKB.TargetedParty): 601 - two_sided}.items() if v}
    assert index.fatalities(mask) == sum(int(r["best"]) for r in rows)
    # deaths from 5 to 10 (best estimate)
    assert len(index.matching(EventFilters(graph=graph, fat_min=5, fat_max=10))) == sum(
        5 <= int(r["best"]) <= 10 for r in rows)


def _dates(r: dict[str, str]) -> tuple[str, str]:
    return r["date_start"][:10], r["date_end"][:10]


@needs_ged
def test_a_country_and_date_filter_gives_exactly_the_rows_of_the_csv(ged) -> None:
    _kb, index, web, graph = ged
    rows = ged_rows()
    first, last = "2013-01-01", "2013-12-31"
    wanted = {f"{CKBR}ucdp-ged-{r['id']}" for r in rows
              if _dates(r)[0] <= last and _dates(r)[1] >= first}
    assert 20 < len(wanted) < 200  # a real narrowing, within one page of 200
    country = next(v for v, _n in index.facets(index.every, 100)["country"] if index.label(v) == "Bangladesh")
    html = _page(web, f"/events?country={quote(country)}&from={first}&to={last}&size=200")
    shown = set(re.findall(r'<tr data-iri="([^"]+)"', html))
    assert shown == wanted
    assert f'data-total="{len(wanted)}"' in html
    # the same with the date filter alone: the article's events have no dates, so the same rows
    html = _page(web, f"/events?from={first}&to={last}&size=200")
    assert set(re.findall(r'<tr data-iri="([^"]+)"', html)) == wanted
    # a day that only straddling events cover: begun before it, ended after it
    long = [r for r in rows if _dates(r)[0] < _dates(r)[1]]
    if long:
        r = long[0]
        inside = (date.fromisoformat(_dates(r)[0]).toordinal() + 1)
        day = date.fromordinal(min(inside, date.fromisoformat(_dates(r)[1]).toordinal())).isoformat()
        hits = index.matching(EventFilters(graph=graph, start=day, end=day))
        assert {index.row(n).iri for n in hits} == {f"{CKBR}ucdp-ged-{x['id']}" for x in rows
                                                    if _dates(x)[0] <= day <= _dates(x)[1]}


def _page(web: FlaskClient, url: str) -> str:
    response = web.get(url, headers={"Accept": "text/html"})
    assert response.status_code == 200, (url, response.data[:300])
    return unescape(response.get_data(as_text=True))


@needs_ged
def test_the_bundles_clash_appears_with_its_actors_and_sides(ged) -> None:
    _kb, _index, web, _graph = ged
    html = _page(web, f"/events?type={quote(str(CKB.Clash))}&graph={quote('https://w3id.org/conflict-kb/graph/data')}")
    row = html[html.index(f'data-iri="{CKBR}event-infighting"'):]
    row = row[:row.index("</tr>")]
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row))
    assert "Deadly infighting between Russian-backed and Iranian-allied forces" in text
    assert "Russian-backed regime military divisions (side A)" in text
    assert "Syrian Republican Guard (side B)" in text
    assert "Russia (side A)" in text and "Iran (side B)" in text
    assert "Syria" in text and "Clash" in text


@needs_ged
def test_csv_has_labels_not_iris(ged) -> None:
    _kb, _index, web, graph = ged
    response = web.get(f"/events?graph={quote(graph)}&format=csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    table = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(table) == 601
    by_iri = {r["iri"]: r for r in table}
    for r in ged_rows():
        got = by_iri[f"{CKBR}ucdp-ged-{r['id']}"]
        assert got["country"] == r["country"] and slug(got["admin1"]) == slug(r["adm_1"])
        assert got["deaths best"] == str(int(r["best"])) and got["start"] == r["date_start"][:10]
        assert got["type"] in ("Clash", "One-sided violence")
    for r in table:  # labels only: the IRI sits in its own last column
        assert not any(v.startswith(("http://", "https://")) for k, v in r.items() if k != "iri"), r


@needs_ged
def test_bad_filters_are_400_with_a_reason(ged) -> None:
    _kb, _index, web, _graph = ged
    for url, words in (("/events?from=2019-13-45", "from must be a day"),
                       ("/events?actor=http://x>%20}%20DROP%20ALL%20{", "not a valid IRI"),
                       ("/events?fat_min=-3", "fat_min must be a whole number"),
                       ("/events?sort=colour", "sort must be one of"),
                       ("/events?format=xls", "format must be csv or sparql")):
        response = web.get(url, headers={"Accept": "text/plain"})
        assert response.status_code == 400, url
        assert words in response.get_data(as_text=True), (url, response.data[:200])


@pytest.fixture(scope="module")
def small() -> tuple[KnowledgeBase, EventIndex]:
    """The bundle with a tiny GED and an ACLED sample: small enough to ask the engine often."""
    with KnowledgeBase.open(memory=True) as kb:
        kb.load()
        run_import(kb, FIXTURES / "ucdp-ged-tiny.csv", "ucdp-ged")
        run_import(kb, FIXTURES / "acled-syria-sample.csv", "acled")
        index = eventbuild.ready(kb, wait=True)
        assert index is not None
        yield kb, index


def test_the_sparql_gives_the_same_rows_in_the_same_order(small) -> None:
    kb, index = small
    graphs = eventbuild.graphs_read(kb)
    facets = index.facets(index.every, 2)
    views = [EventFilters(), EventFilters(start="2013-01-01", end="2019-12-31"), EventFilters(fat_min=1),
             EventFilters(place=f"{CKBR}Syria")]
    views += [EventFilters(**{name: value}) for name, found in facets.items() for value, _n in found[:1]]
    actor, side = next((a, s) for e in index.events for a, s in e.actors if s)
    views.append(EventFilters(actor=actor, side=side))
    assert len(views) >= 12
    every_sort = (*SORTS, *(f"-{s}" for s in SORTS))
    for k, f in enumerate(views):
        # every order for the whole table; one of them (in turn) for each narrowed view (the
        # engine's checks take a second or two per new query text on a loaded machine)
        for sort in every_sort if not f.active() else every_sort[k % 10:k % 10 + 1]:
            mine = [index.row(n).iri for n in index.page(index.matching(f), sort, 8, 1)]
            theirs = [str(r["event"]) for r in kb.query(build_query(f, graphs, sort, 8, 1)).rows]
            assert mine == theirs, (f.active(), sort)
        every = kb.query(build_query(f, graphs)).rows
        assert len(every) == len(index.matching(f)) > 0, f.active()


def test_the_page_links_its_sparql_to_the_query_editor(small) -> None:
    kb, _index = small
    web = create_app({"KB": kb, "PAGE_CACHE_BYTES": 0}).test_client()
    html = _page(web, f"/events?country={quote(str(CKBR) + 'Syria')}")
    assert re.search(r'href="/query\?query=[^"]*partOfPlace', html)
    rq = web.get(f"/events?country={quote(str(CKBR) + 'Syria')}&format=sparql")
    assert rq.status_code == 200 and b"ckb:partOfPlace*" in rq.data


def _answers(index: EventIndex) -> tuple:
    f = EventFilters(country=f"{CKBR}place-bangladesh")
    return (index.size, [e.iri for e in index.events], index.facets(index.every, 50),
            index.page(index.matching(f), "-fatalities", 20), index.fatalities(index.every),
            [(b.start, b.count, b.fatalities) for b in index.histogram(index.every, "year")])


def test_the_sidecar_file_is_derived(tmp_path: Path) -> None:
    store = tmp_path / "store"
    with KnowledgeBase.open(store) as kb:
        kb.load()
        run_import(kb, FIXTURES / "ucdp-ged-tiny.csv", "ucdp-ged")
        claimindex.build(kb)
        built = eventbuild.ready(kb, wait=True)
        assert built is not None and built.origin == "store"
        first = _answers(built)
    folder = sidecar.folder_of(store)
    assert (folder / eventbuild.FILE).is_file()
    with KnowledgeBase.open(store) as kb:  # a new process's view: the file, as it was written
        again = eventbuild.ready(kb, wait=True)
        assert again is not None and again.origin == "file"
        assert _answers(again) == first
    shutil.rmtree(folder)
    with KnowledgeBase.open(store) as kb:  # deleted: read from the store again, the same answers
        claimindex.build(kb)
        rebuilt = eventbuild.ready(kb, wait=True)
        assert rebuilt is not None and rebuilt.origin == "store"
        assert _answers(rebuilt) == first
        # a write leaves the file behind: the next index is the store's as it is now
        run_import(kb, FIXTURES / "acled-syria-sample.csv", "acled")
        after = eventbuild.ready(kb, wait=True)
        assert after is not None and after.origin == "store" and after.size == rebuilt.size + 3
    with KnowledgeBase.open(store) as kb:  # the claim index is stale: the old file is not read
        fresh = eventbuild.ready(kb, wait=True)
        assert fresh is not None and fresh.origin == "store" and fresh.size == rebuilt.size + 3
        old = (folder / eventbuild.FILE).stat().st_mtime_ns
        claimindex.build(kb)  # current now: the index read before it is kept (the store is unchanged)
        assert eventbuild.ready(kb) is fresh
        deadline = time.monotonic() + 60
        while (folder / eventbuild.FILE).stat().st_mtime_ns == old and time.monotonic() < deadline:
            time.sleep(0.2)
        later = _answers(fresh)
    with KnowledgeBase.open(store) as kb:
        kept = eventbuild.ready(kb, wait=True)
        assert kept is not None and kept.origin == "file" and _answers(kept) == later


@needs_ged
def test_the_aggregates_the_timeline_and_map_stand_on(ged) -> None:
    """Counts and deaths per year, month and week, and events in a box, as the CSV has them."""
    _kb, index, _web, graph = ged
    rows = ged_rows()
    mask = index.matching(EventFilters(graph=graph))
    years = index.histogram(mask, "year")
    assert {b.start.year: (b.count, b.fatalities) for b in years if b.count} == {
        y: (sum(1 for r in rows if r["date_start"][:4] == str(y)),
            sum(int(r["best"]) for r in rows if r["date_start"][:4] == str(y)))
        for y in {int(r["date_start"][:4]) for r in rows}}
    assert [b.start.year for b in years] == list(range(years[0].start.year, years[-1].start.year + 1))
    for unit in ("month", "week"):
        found = index.histogram(mask, unit)
        assert sum(b.count for b in found) == 601
        assert sum(b.fatalities for b in found) == index.fatalities(mask)
    month = Counter(r["date_start"][:7] for r in rows)
    assert {b.start.isoformat()[:7]: b.count for b in index.histogram(mask, "month") if b.count} == month
    # a box around Dhaka, and one across the antimeridian that holds nothing of Bangladesh
    box = index.in_box(23.5, 90.0, 24.0, 90.6) & mask
    assert {index.row(n).iri for n in box} == {f"{CKBR}ucdp-ged-{r['id']}" for r in rows
                                              if 23.5 <= float(r["latitude"]) <= 24.0
                                              and 90.0 <= float(r["longitude"]) <= 90.6}
    assert len(box) > 10
    assert not index.in_box(-10, 170, 10, -170) & mask
    cells = index.grid(mask, 0.5)
    assert sum(c.count for c in cells) == 601 and sum(c.fatalities for c in cells) == index.fatalities(mask)


def test_the_index_against_brute_force_on_many_events() -> None:
    """12,000 random rows (past the small-view shortcuts): every answer as a plain loop gives it."""
    import random

    rng = random.Random(5)
    countries = [f"{CKBR}c{i}" for i in range(7)]
    rows = []
    for i in range(12_000):
        start = date(1990, 1, 1).toordinal() + rng.randrange(10_000)
        span = rng.choice([0, 0, 0, 3, 40, 400])  # some longer than the index's SHORT_DAYS
        dated = rng.random() > 0.02
        c = rng.choice(countries)
        rows.append(dict(
            iri=f"{CKBR}ev{i:05d}", label=f"event {rng.randrange(999)}", graph="g", type=f"{CKB}T{i % 3}",
            start=date.fromordinal(start).isoformat() if dated else "",
            end=date.fromordinal(start + span).isoformat() if dated and rng.random() > 0.1 else "",
            precision="", country=c, admin1="", admin2="", place="", status="",
            lat=rng.uniform(-60, 60) if i % 5 else None, lon=rng.uniform(-179, 179) if i % 5 else None,
            low=None, best=rng.choice([None, 0, 1, 7, 300, 5000]), high=None,
            actors=((f"{CKBR}a{i % 11}", str(CKB.SideA)), (f"{CKBR}a{(i + 3) % 13}", "")),
            graphs=("g",), within=(c,), type_key=f"T{i % 3}", country_key=c[-2:]))
    index = eventbuild.make(None, rows, {}, {c: "country" for c in countries})
    events = index.events

    def first(e):
        return e.start or e.end

    for lo, hi in (("2000-01-01", "2000-03-31"), ("", "1995-06-01"), ("2010-05-05", ""),
                   ("2005-02-02", "2005-02-02")):
        want = {e.n for e in events if first(e) and (not hi or first(e) <= hi)
                and (not lo or (e.end or first(e)) >= lo)}
        assert set(index.matching(EventFilters(start=lo, end=hi))) == want, (lo, hi)
    mask = index.every - index.matching(EventFilters(country=countries[0]))  # most rows, not all
    assert 5000 < len(mask) < 12_000
    assert index.fatalities(mask) == sum(events[n].best or 0 for n in mask)
    for unit in ("year", "month", "week"):
        found = index.histogram(mask, unit)
        by_key = Counter()
        dead = Counter()
        for n in mask:
            if first(events[n]):
                key = [b.start for b in found if b.start.isoformat() <= first(events[n])][-1]
                by_key[key] += 1
                dead[key] += events[n].best or 0
        assert {b.start: b.count for b in found if b.count} == dict(by_key)
        assert {b.start: b.fatalities for b in found if b.fatalities} == {k: v for k, v in dead.items() if v}
    for box in ((-10, -50, 30, 20), (20, 170, 50, -160)):
        s, w, n_, e_ = box
        want = {e.n for e in events if e.lat is not None and s <= e.lat <= n_
                and ((w <= e.lon <= e_) if w <= e_ else (e.lon >= w or e.lon <= e_))}
        assert set(index.in_box(*box)) == want, box
    for sort in (*SORTS, *(f"-{x}" for x in SORTS)):
        key = sort.lstrip("-")

        def value(e, key=key):
            return {"date": e.start or None, "label": e.label or None, "fatalities": e.best,
                    "country": index.keys["country"][e.n], "type": index.keys["type"][e.n]}[key]
        for view in (index.every, mask, index.matching(EventFilters(country=countries[2], fat_min=300))):
            chosen = sorted((events[n] for n in view), key=lambda e: e.iri)
            chosen.sort(key=lambda e: (value(e) is not None, value(e) if value(e) is not None else 0),
                        reverse=sort.startswith("-"))
            assert index.page(view, sort, 30, 7) == [e.n for e in chosen[7:37]], sort
    facets = index.facets(mask, 5)
    actors = Counter(a for n in mask for a in {a for a, _s in events[n].actors})
    assert facets["actor"] == sorted(actors.items(), key=lambda kv: (-kv[1], kv[0]))[:5]
