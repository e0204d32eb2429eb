"""Fair scheduling in the web layer, on a real waitress server on loopback and real workers.

The assertions are about order and status (a cheap query answers while heavy ones still run;
a full heavy queue answers 503 before anything ahead of it ends), plus one bound from the
issue's target: a queued heavy query ends by its limit + 1 s, counted from its arrival.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator

import pytest
import waitress
from werkzeug.exceptions import TooManyRequests

from kb import KnowledgeBase
from tests.webui.conftest import write_mini_project
from webui import create_app
from webui.budget import Budget
from webui.server import waitress_options

HEAVY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . ?m ?n1 ?o }"
CHEAP = "ASK { ?s ?p ?o }"


@pytest.fixture(scope="module")
def lane_kb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KnowledgeBase]:
    files = write_mini_project(tmp_path_factory.mktemp("mini"))
    with KnowledgeBase.open(tmp_path_factory.mktemp("store") / "s", workers=2) as k:
        k.load(files)
        yield k


def serve(kb: KnowledgeBase, **config: object) -> Iterator[str]:
    app = create_app({"KB": kb, "QUERY_TIMEOUT": 3.0, "TRUSTED_PROXIES": ("127.0.0.1",), **config})
    server = waitress.create_server(app, host="127.0.0.1", port=0, **waitress_options(app))
    closing = threading.Event()

    def run() -> None:
        try:
            server.run()
        except OSError:
            # close() from this thread can pull a socket from under the loop's select (EBADF)
            if not closing.is_set():
                raise

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.effective_port}"
    ask(url, CHEAP, "10.0.9.9", [])
    time.sleep(3)  # a server's workers start ahead of need; a test must let them
    try:
        yield url
    finally:
        closing.set()
        server.close()
        thread.join(10)


@pytest.fixture
def base(lane_kb: KnowledgeBase) -> Iterator[str]:
    yield from serve(lane_kb)


def ask(base: str, query: str, client: str, out: list, timeout: float = 30) -> None:
    """Send one query as ``client`` (through the trusted proxy); append (status, seconds, headers, end)."""
    url = f"{base}/sparql?" + urllib.parse.urlencode({"query": query, "format": "json"})
    req = urllib.request.Request(url, headers={"X-Forwarded-For": client})
    start = time.monotonic()
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            json.loads(r.read())
            out.append((r.status, time.monotonic() - start, dict(r.headers), time.monotonic()))
    except urllib.error.HTTPError as err:
        out.append((err.code, time.monotonic() - start, dict(err.headers), time.monotonic()))
        err.close()


def background(base: str, query: str, client: str, out: list) -> threading.Thread:
    t = threading.Thread(target=ask, args=(base, query, client, out))
    t.start()
    return t


def test_cheap_queries_answer_while_heavy_ones_run(base: str) -> None:
    heavy: list = []
    threads = [background(base, HEAVY, f"10.0.0.{i}", heavy) for i in (1, 2)]
    time.sleep(1.0)  # both heavy queries are past their interactive slice by now
    cheap: list = []
    for i in range(5):
        ask(base, CHEAP, f"10.0.1.{i}", cheap)
    cheap_done = time.monotonic()
    for t in threads:
        t.join()
    assert [c[0] for c in cheap] == [200] * 5
    assert sorted(h[0] for h in heavy) == [503, 503]
    assert cheap_done < min(h[3] for h in heavy)  # not one cheap answer waited for a heavy one
    for _status, seconds, headers, _ in heavy:
        assert int(headers["Retry-After"]) >= 1
        assert seconds <= 3.0 + 1.0  # each ends by its limit + 1 s


def test_full_heavy_queue_answers_503_at_once(lane_kb: KnowledgeBase) -> None:
    for base in serve(lane_kb, HEAVY_QUEUE=1):
        first: list = []
        t1 = background(base, HEAVY, "10.0.2.1", first)
        time.sleep(1.0)  # demoted: running in the heavy lane, and its text is now known as heavy
        second: list = []
        t2 = background(base, HEAVY, "10.0.2.2", second)  # waits in the queue (length 1)
        time.sleep(0.3)
        third: list = []
        ask(base, HEAVY, "10.0.2.3", third)
        t1.join()
        t2.join()
        status, _seconds, headers, end = third[0]
        assert status == 503 and int(headers["Retry-After"]) >= 1
        assert end < first[0][3]  # answered before the query ahead of it ended
        assert first[0][0] == second[0][0] == 503
        assert second[0][1] <= 3.0 + 1.0  # queued, yet it ended by its limit + 1 s from arrival


def test_one_client_gets_one_heavy_query_at_a_time(lane_kb: KnowledgeBase) -> None:
    for base in serve(lane_kb, HEAVY_PER_CLIENT=1):
        first: list = []
        t = background(base, HEAVY, "10.0.3.1", first)
        time.sleep(1.0)
        again: list = []
        ask(base, HEAVY, "10.0.3.1", again)
        other: list = []
        ask(base, CHEAP, "10.0.3.1", other)  # its cheap queries still run
        t.join()
        assert again[0][0] == 429 and int(again[0][2]["Retry-After"]) >= 1
        assert again[0][3] < first[0][3]
        assert other[0][0] == 200


def test_budget_is_charged_at_admission_so_a_burst_cannot_overdraw() -> None:
    budget = Budget(2.0)
    assert budget.reserve("c", 1.5) == 1.5
    assert budget.reserve("c", 1.5) == pytest.approx(0.5, abs=0.01)  # what is left becomes its limit
    with pytest.raises(TooManyRequests):
        budget.reserve("c", 1.5)
    budget.settle("c", 1.5, 0.2)  # the first query used 0.2 s: 1.3 s come back
    assert budget.reserve("c", 1.0) == 1.0
    assert budget.reserve("other", 1.0) == 1.0


def test_client_is_the_remote_address_unless_a_trusted_proxy_forwards(lane_kb: KnowledgeBase) -> None:
    app = create_app({"KB": lane_kb, "QUERY_BUDGET": 0.3, "QUERY_TIMEOUT": 0.3, "TESTING": True,
                      "TRUSTED_PROXIES": ("10.9.9.9",)})
    client = app.test_client()

    def get(addr: str, forwarded: str) -> int:
        return client.get("/sparql", query_string={"query": HEAVY, "format": "json"},
                          headers={"X-Forwarded-For": forwarded},
                          environ_base={"REMOTE_ADDR": addr}).status_code

    assert get("10.1.1.1", "1.2.3.4") == 503  # spends 10.1.1.1's budget, whatever it forwards
    assert get("10.1.1.1", "5.6.7.8") == 429
    assert get("10.9.9.9", "1.2.3.4") == 503  # behind the trusted proxy: client 1.2.3.4
    assert get("10.9.9.9", "1.2.3.4") == 429
    assert get("10.9.9.9", "5.6.7.8, 1.2.3.4") == 429  # the last untrusted hop is the client
    assert get("10.9.9.9", "1.2.3.4, 5.6.7.8") == 503


def test_heavy_queries_cannot_take_every_server_thread(lane_kb: KnowledgeBase) -> None:
    # THREADS=2 asks for fewer threads than heavy queries may hold (1 running + 1 queued):
    # the server keeps threads for cheap work anyway, so a cheap query is not stuck behind them.
    for base in serve(lane_kb, THREADS=2, HEAVY_QUEUE=1):
        running: list = []
        first = background(base, HEAVY, "10.0.5.1", running)
        time.sleep(1.0)  # demoted to the heavy lane, its text known as heavy
        heavy: list = []
        others = [background(base, HEAVY, f"10.0.5.{i}", heavy) for i in range(2, 6)]
        time.sleep(0.5)
        cheap: list = []
        for i in range(3):
            ask(base, CHEAP, f"10.0.6.{i}", cheap)
        for t in [first, *others]:
            t.join()
        assert [c[0] for c in cheap] == [200] * 3
        assert max(c[3] for c in cheap) < running[0][3]  # answered while the heavy query ran
        # One queued (503 at its deadline), the rest refused at once (queue full); the running one
        # is stopped at its limit.
        assert running[0][0] == 503 and sorted(h[0] for h in heavy) == [503] * 4


def test_a_request_past_its_clients_page_places_waits_briefly_before_its_429(lane_kb: KnowledgeBase) -> None:
    """A flood of pages from one client is answered about once per REFUSAL_WAIT per connection:
    refused at once, each refusal (a rendered error page) took the server's interpreter for a
    millisecond, hundreds a second, and another client's cheap requests waited for it."""
    from webui.admission import LINGERING, REFUSAL_WAIT

    app = create_app({"KB": lane_kb, "TESTING": True, "PAGES_PER_CLIENT": 1, "PAGES_WAITING": 1})
    admission = app.extensions["ckb.admission"]
    outcome: dict[str, tuple[str, float]] = {}

    def enter(name: str) -> None:
        start = time.monotonic()
        try:
            admission.enter_page("a", start + 10)
            outcome[name] = ("place", time.monotonic() - start)
        except TooManyRequests:
            outcome[name] = ("429", time.monotonic() - start)

    def _brief(took: float) -> bool:  # waited REFUSAL_WAIT, within a loaded machine's margin
        return REFUSAL_WAIT - 0.1 <= took <= REFUSAL_WAIT + 2

    def until(check) -> None:
        deadline = time.monotonic() + 10
        while not check() and time.monotonic() < deadline:
            time.sleep(0.01)

    enter("running")
    queued = threading.Thread(target=enter, args=("queued",))
    queued.start()
    until(lambda: admission._queued["a"] == 1)
    enter("refused")  # no room came: 429 after the brief wait
    assert outcome["refused"][0] == "429" and _brief(outcome["refused"][1]), outcome
    lingering = [threading.Thread(target=enter, args=(f"linger{i}",)) for i in range(LINGERING)]
    for t in lingering:
        t.start()
    until(lambda: admission._lingering == LINGERING)
    enter("past the lingering bound")  # every lingering place taken: 429 at once
    assert outcome["past the lingering bound"][0] == "429"
    assert outcome["past the lingering bound"][1] < REFUSAL_WAIT / 2
    admission.leave_page("a", 0.0)  # "running" ends: "queued" runs, a lingering request queues
    queued.join(10)
    deadline = time.monotonic() + 15
    while any(t.is_alive() for t in lingering) and time.monotonic() < deadline:
        if admission._pages["a"] and admission._queued["a"]:
            admission.leave_page("a", 0.0)  # the page running ends: the queued one runs
        time.sleep(0.02)
    lingered = [outcome[f"linger{i}"] for i in range(LINGERING)]
    assert outcome["queued"][0] == "place" and "place" in [what for what, _ in lingered], outcome
    # The rest waited their brief time for room, then got their 429.
    assert all(_brief(took) for what, took in lingered if what == "429"), outcome
    assert admission._lingering == 0
