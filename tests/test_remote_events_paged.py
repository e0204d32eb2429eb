"""The event index of a KB on a SPARQL server read in pages (issue 23): Virtuoso answers at most
2^20 rows over HTTP whatever its ResultSetMaxRows, so at 10M triples one SELECT per predicate
failed and /timeline answered 503 forever. Here the page is lowered so that a small KB is read
in many pages on real servers; and a reading a real server refuses is not started again on
every visit, but said (503 with the reason) until the next write through the KB."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks import generate
from kb import KnowledgeBase
from kb.namespaces import CKB, CKBR, GRAPH_DATA
from tests import engines
from tests.engines import Server
from webui import create_app

pytestmark = pytest.mark.remote

PAGE = 150  # rows per request in these tests: the biggest predicates read take several pages
READS = "GRAPH ?g { ?s <"  # in every query that reads rows for the event index


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("paged") / "paged-test.nt"
    with path.open("w", encoding="utf-8") as fh:
        generate.write(4_000, fh, seed=11)
    return path


@pytest.fixture(scope="module")
def remote(server: Server, data: Path) -> Iterator[KnowledgeBase]:
    with KnowledgeBase.open(endpoint=server.query, update_endpoint=server.update, update_token="t") as k:
        k.load()
        k.import_file(data)  # its graph named by the file, as conftest's ``embedded`` does
        yield k


@pytest.fixture(scope="module", params=("oxigraph", "virtuoso"))
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server of the module's own: nothing else is loaded into it."""
    folder = tmp_path_factory.mktemp(request.param)
    start = engines.oxigraph_server if request.param == "oxigraph" else engines.virtuoso_server
    with start(folder) as s:
        yield s


@pytest.fixture
def paged(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The page lowered, and no index file beside the client: the server is read."""
    from kb.views import remoteevents

    monkeypatch.setattr(remoteevents, "PAGE", PAGE)
    monkeypatch.setenv("CKB_DERIVED_DIR", str(tmp_path / "derived"))


def _fresh(server: Server) -> KnowledgeBase:
    return KnowledgeBase.open(endpoint=server.query, update_endpoint=server.update, update_token="t")


def test_the_event_index_read_in_pages_is_the_embedded_one(
        server: Server, remote: KnowledgeBase, embedded: KnowledgeBase, paged: None, sent: list[str]) -> None:
    from kb.derived import eventbuild
    from kb.views import remoteevents

    want = eventbuild.ready(embedded, wait=True)
    with _fresh(server) as k:
        got = remoteevents.build(k)
    assert want is not None and want.size > 50 and sum(1 for e in want.events if e.place) > 50
    assert got.size == want.size and got.events == want.events  # dates, places, actors, types
    assert got.labels == want.labels and got.kinds == want.kinds
    # read in pages: some predicate took three pages or more, and no answer held more than a page
    assert [q for q in sent if f"OFFSET {2 * PAGE}" in q], sent
    if server.name == "oxigraph":  # (Virtuoso reads what it counted within a page unordered)
        assert not [q for q in sent if READS in q and "LIMIT" not in q]


def test_the_pages_read_in_pages_answer_as_embedded(
        server: Server, remote: KnowledgeBase, embedded: KnowledgeBase, paged: None, sent: list[str]) -> None:
    pages = ("/timeline", "/api/timeline", "/events", "/events?sort=date", "/map", "/api/map")
    with _fresh(server) as k:
        client = create_app({"KB": k, "TESTING": True}).test_client()
        got = {page: client.get(page) for page in pages}
    assert [q for q in sent if f"OFFSET {2 * PAGE}" in q]  # the pages' index was read in pages
    local = create_app({"KB": embedded, "TESTING": True}).test_client()
    want = {page: local.get(page) for page in pages}
    assert {p: r.status_code for p, r in got.items()} == dict.fromkeys(pages, 200)
    for api in ("/api/timeline", "/api/map"):
        assert got[api].get_json() == want[api].get_json(), api
    assert want["/api/timeline"].get_json()["items"]  # (the generated places have no coordinates)
    links = re.compile(rb'href="/id/[^"]+"')
    for page in ("/events", "/events?sort=date"):
        assert links.findall(got[page].data) == links.findall(want[page].data), page
        assert links.findall(want[page].data)


@pytest.fixture(scope="module")
def capped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Virtuoso cutting every answer at 50 rows (its ResultSetMaxRows): a real server's limit that
    refuses the event index's reading, as its 2^20-row HTTP cap did at 10M triples; and sorting
    at most 30 rows for a LIMIT (MaxSortedTopRows, 10,000 by default: SR353 at 10M)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(engines, "VIRTUOSO_INI", engines.VIRTUOSO_INI.replace(
            "ResultSetMaxRows = 1000000", "ResultSetMaxRows = 50").replace(
            "DirsAllowed = .", "DirsAllowed = .\nMaxSortedTopRows = 30"))
        with engines.virtuoso_server(tmp_path_factory.mktemp("capped")) as s:
            with _fresh(s) as k:
                k.load()
            yield s


def test_rows_past_virtuosos_cap_are_read_whole_in_pages_below_it(
        capped: Server, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from kb.derived import eventbuild
    from kb.views import remoteevents

    monkeypatch.setattr(remoteevents, "PAGE", 40)  # below the server's cap, as 500,000 is below 2^20
    monkeypatch.setenv("CKB_DERIVED_DIR", str(tmp_path / "derived"))
    with KnowledgeBase.open(memory=True) as local:
        local.load()
        want = eventbuild.ready(local, wait=True)
    with _fresh(capped) as k:
        got = remoteevents.build(k)
    assert want is not None and want.size > 0
    assert got.events == want.events and got.labels == want.labels and got.kinds == want.kinds


def test_a_failed_reading_is_said_and_not_started_again_before_a_write(
        capped: Server, sent: list[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CKB_DERIVED_DIR", str(tmp_path / "derived"))
    with _fresh(capped) as k:
        client = create_app({"KB": k, "TESTING": True}).test_client()
        sent.clear()
        first = client.get("/timeline")
        read_first = [q for q in sent if READS in q]
        assert first.status_code == 503 and read_first
        assert b"ResultSetMaxRows" in first.data and b"could not be read" in first.data, first.data[:500]
        sent.clear()
        again = {page: client.get(page) for page in ("/timeline", "/events", "/map")}
        assert not [q for q in sent if READS in q], "a second visit started a second reading"
        for page, answer in again.items():
            assert answer.status_code == 503 and b"ResultSetMaxRows" in answer.data, page
        # a write through the KB is the store's next state: the reading is tried again (and refused)
        extra = str(CKBR["paged-test-report"])
        k.update(f"INSERT DATA {{ GRAPH <{GRAPH_DATA}> {{ <{extra}> a <{CKB.Report}> }} }}", "t")
        sent.clear()
        try:
            after = client.get("/timeline")
        finally:
            k.update(f"DELETE DATA {{ GRAPH <{GRAPH_DATA}> {{ <{extra}> a <{CKB.Report}> }} }}", "t")
        assert [q for q in sent if READS in q], "the write did not start a new reading"
        assert after.status_code == 503 and b"ResultSetMaxRows" in after.data
