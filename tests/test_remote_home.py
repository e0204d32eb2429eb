"""The home page, the graph counts and the event pages of a KB on a SPARQL server (issue 23):
nothing on the request path counts or reads the whole KB; 'ckb --endpoint … index' builds ahead
what the pages read, and a page after a write through the KB says its counts are older."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks import generate
from kb import KnowledgeBase
from kb.namespaces import CKB, CKBR, GRAPH_DATA
from tests.engines import Server
from tests.test_cli import ckb
from webui import create_app

pytestmark = pytest.mark.remote

RELATIONS = 200
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
XSD_DATETIME = "http://www.w3.org/2001/XMLSchema#dateTime"


@pytest.fixture(scope="module", params=("oxigraph", "virtuoso"))
def server(request: pytest.FixtureRequest) -> Server:
    return request.getfixturevalue(request.param)


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("remote-home") / "home-test.nt"
    with path.open("w", encoding="utf-8") as fh:
        generate.write(3_000, fh, seed=5)
        # More dated relations than the timeline draws one by one (ITEMS_MAX), beside few events.
        for n in range(RELATIONS):
            b = f"<{CKBR}home-test-backing/{n}>"
            fh.write(f"{b} <{RDF_TYPE}> <{CKB.Backing}> .\n{b} <{LABEL}> \"backing {n}\"@en .\n"
                     f"{b} <{CKB.earliestDate}> \"2014-01-{1 + n % 28:02d}T00:00:00\"^^<{XSD_DATETIME}> .\n")
    return path


@pytest.fixture(scope="module")
def remote(server: Server, data: Path) -> Iterator[KnowledgeBase]:
    with KnowledgeBase.open(endpoint=server.query, update_endpoint=server.update, update_token="t") as k:
        k.load()
        k.import_file(data)  # its graph named by the file, as conftest's ``embedded`` does
        yield k


def _fresh(server: Server) -> KnowledgeBase:
    """A KB opened anew on the server, as 'ckb serve' opens it: nothing in memory yet."""
    return KnowledgeBase.open(endpoint=server.query, update_endpoint=server.update, update_token="t")


def _classes(body: bytes) -> list[str]:
    """The home page's list of classes and counts, as lines."""
    text = body.decode("utf-8")
    part = text[text.index("What is in the data"):]
    return re.findall(r"<li>.*?</li>", part[:part.index("</ul>")], flags=re.S)


def _index(server: Server, *flags: str) -> str:
    proc = ckb("--endpoint", server.query, "--update-endpoint", server.update, "index", *flags, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_ckb_index_counts_each_graph_without_a_group_by_over_every_quad(
        remote: KnowledgeBase, embedded: KnowledgeBase, sent: list[str]) -> None:
    counts = remote.backend.recount()
    assert {g: c.triples for g, c in counts.items()} == embedded.graphs()
    assert sent and not [q for q in sent if "GROUP BY" in q]  # Virtuoso scans every quad for it


def test_the_home_page_counts_nothing_over_the_kb_after_ckb_index(
        server: Server, remote: KnowledgeBase, embedded: KnowledgeBase, sent: list[str]) -> None:
    said = _index(server, "--counts")
    with _fresh(server) as k:
        sent.clear()
        got = create_app({"KB": k, "TESTING": True}).test_client().get("/")
    assert got.status_code == 200
    assert not [q for q in sent if "COUNT(" in q.upper()], [q for q in sent if "COUNT(" in q.upper()]
    want = create_app({"KB": embedded, "TESTING": True}).test_client().get("/")
    assert _classes(got.data) == _classes(want.data) and len(_classes(want.data)) == 16
    assert b'id="types-stale"' not in got.data and "class counts:" in said


def test_counting_graph_by_graph_equals_one_count_over_their_union(remote: KnowledgeBase) -> None:
    from kb.derived import classcounts

    # One subject typed alike in two graphs is one instance, as the one-query count has it.
    twice = str(CKBR["actor/0"])
    remote.update(f"INSERT DATA {{ GRAPH <{GRAPH_DATA}> {{ <{twice}> a <{CKB.Militia}> }} }}", "t")
    try:
        graphs = classcounts.counted_graphs(remote.graphs())
        rows = remote.query(classcounts.whole_query(graphs)).rows
        one = {str(r["t"]): int(r["n"].toPython()) for r in rows}
        assert classcounts.count(remote) == classcounts.top(one)
        assert dict(classcounts.count(remote))[str(CKB.Militia)] == one[str(CKB.Militia)]
    finally:
        remote.update(f"DELETE DATA {{ GRAPH <{GRAPH_DATA}> {{ <{twice}> a <{CKB.Militia}> }} }}", "t")


def test_a_write_leaves_the_counts_older_said_so_then_recounted(remote: KnowledgeBase) -> None:
    from kb.derived import classcounts

    before = classcounts.build(remote)
    n = dict(before.counts)[str(CKB.Report)]
    extra = str(CKBR["home-test-report"])
    remote.update(f"INSERT DATA {{ GRAPH <{GRAPH_DATA}> {{ <{extra}> a <{CKB.Report}> }} }}", "t")
    try:
        seen = classcounts.read(remote, wait=0)
        assert seen is not None and not seen.current and dict(seen.counts)[str(CKB.Report)] == n
        deadline = time.monotonic() + 60
        while not seen.current and time.monotonic() < deadline:  # the recount runs in the background
            time.sleep(0.2)
            seen = classcounts.read(remote, wait=0)
        assert seen.current and dict(seen.counts)[str(CKB.Report)] == n + 1
    finally:
        remote.update(f"DELETE DATA {{ GRAPH <{GRAPH_DATA}> {{ <{extra}> a <{CKB.Report}> }} }}", "t")


def test_the_events_page_answers_at_the_first_visit(server: Server, remote: KnowledgeBase) -> None:
    with _fresh(server) as k:
        got = create_app({"KB": k, "TESTING": True}).test_client().get("/events")
    assert got.status_code == 200, got.data[:300]
    assert b"event" in got.data


def test_ckb_index_builds_the_event_index_the_pages_read(
        server: Server, remote: KnowledgeBase, embedded: KnowledgeBase, sent: list[str]) -> None:
    assert "event index:" in _index(server)
    with _fresh(server) as k:
        sent.clear()
        client = create_app({"KB": k, "TESTING": True}).test_client()
        pages = {page: client.get(page) for page in ("/timeline", "/map", "/events", "/api/timeline")}
    assert {p: r.status_code for p, r in pages.items()} == dict.fromkeys(pages, 200)
    # the index came from the file: no query read an event predicate over every graph
    assert not [q for q in sent if "GRAPH ?g { ?s <" in q], sent
    want = create_app({"KB": embedded, "TESTING": True}).test_client().get("/events")
    links = re.compile(rb'href="/id/[^"]+"')
    assert links.findall(pages["/events"].data) == links.findall(want.data)


def test_the_timeline_draws_at_most_its_items_and_says_how_many_relations_more(
        server: Server, remote: KnowledgeBase, embedded: KnowledgeBase) -> None:
    from webui.timeline import ITEMS_MAX

    pages = {}
    for name, k in (("remote", remote), ("embedded", embedded)):
        client = create_app({"KB": k, "TESTING": True}).test_client()
        pages[name] = (client.get("/timeline"), client.get("/api/timeline").get_json())
    for page, api in pages.values():
        assert page.status_code == 200 and api["items"]  # few events: items, not a histogram
        assert len(api["items"]) <= ITEMS_MAX  # 5,556 relations at 1M made a page of 1.2 MB in 28-59 s
        assert api["relations_more"] > 0 and b'id="relations-more"' in page.data
    assert pages["remote"][1] == pages["embedded"][1]


def test_the_event_index_reads_every_row_past_the_kbs_row_cap(server: Server, remote: KnowledgeBase,
                                                               embedded: KnowledgeBase) -> None:
    from kb.derived import eventbuild
    from kb.views import remoteevents

    want = eventbuild.ready(embedded, wait=True)
    # The KB's row cap is for pages (10,000 rows): at 1M triples it cut the reading to 12 events of 16,497.
    with KnowledgeBase.open(endpoint=server.query, row_limit=100) as k:
        got = remoteevents.build(k)
    assert want is not None and want.size > 30
    assert got.size == want.size and got.events == want.events


def test_an_answer_virtuoso_cut_at_its_row_limit_is_refused_not_read_as_whole(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from kb.errors import KBError
    from kb.views import remoteevents
    from tests import engines

    # Virtuoso cuts every answer at ResultSetMaxRows and says so only in a header: at 10M triples
    # one predicate of the event index passes the usual 1,000,000.
    monkeypatch.setattr(engines, "VIRTUOSO_INI", engines.VIRTUOSO_INI.replace(
        "ResultSetMaxRows = 1000000", "ResultSetMaxRows = 50"))
    with engines.virtuoso_server(tmp_path) as s, \
            KnowledgeBase.open(endpoint=s.query, update_endpoint=s.update, update_token="t") as k:
        k.load()
        with pytest.raises(KBError, match="ResultSetMaxRows"):
            remoteevents.build(k)


def test_serve_reads_a_servers_derived_state_ahead_once_at_a_time(
    server: Server, remote: KnowledgeBase
) -> None:
    # The claim index keeper calls _derived_ready every second: at 10M on Virtuoso each call
    # started another reading, and the readings piled up until a registry read waited 60 s.
    import threading

    from webui import server as serving

    with _fresh(server) as kb:
        for _ in range(5):
            serving._derived_ready(kb)
        readers = [t for t in threading.enumerate() if t.name == "ckb-remote-ready"]
        assert len(readers) == 1
        readers[0].join(120)
