"""Parallel exports and Graph Store reads of a generated store never take the server down.

Against a real `ckb serve` over a store of TRIPLES generated triples (benchmarks.generate;
the benchmark benchmarks/abuse_serve.py runs the same at 1M): 8 clients at once, each from
its own address, plus 8 more from one address, ask for whole-graph exports and Graph Store
reads. Each gets the file (complete), a 429 or a 503, never a 500; the server process
stays under SERVER_GROWTH above its size at rest (it once built each answer in memory: GBs);
a cheap client from another address is answered within CHEAP_BOUND seconds throughout.
The same holds for 16 clients on one address asking for pages that grow with the data.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.webui.serving import ROOT, Server, ckb_serve

TRIPLES = 100_000
CHEAP_BOUND = 3.0  # seconds per cheap request from another address (at rest: ~10 ms)
SERVER_GROWTH = 200 * 1024 * 1024  # bytes the server process may grow by under the attack
TREE_PEAK = 2 * 1024 ** 3  # bytes the server and its workers may hold at once
IMPORT = "https://w3id.org/conflict-kb/graph/import/synthetic"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An on-disk store with TRIPLES generated triples imported into their own graph."""
    folder = tmp_path_factory.mktemp("abuse-store")
    data = folder / "synthetic.nt"
    subprocess.run([sys.executable, "-m", "benchmarks.generate", "--triples", str(TRIPLES), "-o", str(data)],
                   cwd=ROOT, check=True, capture_output=True)
    subprocess.run([sys.executable, "-m", "kb.cli", "--store", str(folder / "store"), "load"],
                   cwd=ROOT, check=True, capture_output=True)
    subprocess.run([sys.executable, "-m", "kb.cli", "--store", str(folder / "store"), "import", str(data)],
                   cwd=ROOT, check=True, capture_output=True)
    return folder / "store"


@pytest.fixture(scope="module")
def server(store: Path) -> Iterator[Server]:
    with ckb_serve("--no-index", store=store) as running:
        yield running


ATTACKS = [
    "/export/all.jsonld", "/export/all.nt", "/export/all.ttl", "/export/all.rdf",
    "/rdf-graph-store?" + urllib.parse.urlencode({"graph": IMPORT}),
    "/export/all.nq", "/export/all.trig",
    "/rdf-graph-store?" + urllib.parse.urlencode({"graph": IMPORT, "format": "jsonld"}),
]


class Watch:
    """Samples the server's and its tree's resident memory until stopped."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.rest = _rss(server.proc.pid)
        self.server_peak = self.tree_peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.1):
            self.server_peak = max(self.server_peak, _rss(self.server.proc.pid))
            self.tree_peak = max(self.tree_peak, self.server.tree_rss())

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def _rss(pid: int) -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmRSS:"))


def _cheap(server: Server, stop: threading.Event, timings: list[float]) -> None:
    paths = ("/static/js/common.js", "/sparql?query=ASK%7B%7D")
    i = 0
    while not stop.is_set():
        status, _, took = server.get(paths[i % 2], "127.0.0.2", timeout=30)
        assert status == 200
        timings.append(took)
        i += 1
        time.sleep(0.1)


def _run_attack(server: Server, sources: list[str]) -> list[tuple[str, int, int]]:
    def one(i: int) -> tuple[str, int, int]:
        path = ATTACKS[i % len(ATTACKS)]
        status, body, _ = server.get(path, sources[i], timeout=120)
        return path, status, len(body)

    with ThreadPoolExecutor(len(sources)) as pool:
        return list(pool.map(one, range(len(sources))))


def _until_sent(server: Server) -> list[tuple[str, int, int]]:
    """Ask again (as a client told 503 + Retry-After would) until every file is sent."""
    deadline = time.monotonic() + 300
    while True:
        answers = _run_attack(server, [f"127.0.0.{10 + i}" for i in range(8)])
        if all(a[1] == 200 for a in answers) or time.monotonic() > deadline:
            return answers
        time.sleep(3)


def test_parallel_exports_and_graph_reads(server: Server, store: Path) -> None:
    watch = Watch(server)
    stop, timings = threading.Event(), []
    cheap = threading.Thread(target=_cheap, args=(server, stop, timings), daemon=True)
    cheap.start()
    try:
        many = _run_attack(server, [f"127.0.0.{10 + i}" for i in range(8)])  # 8 addresses
        one = _run_attack(server, ["127.0.0.1"] * 8)  # 8 at once from one address
        again = _until_sent(server)
    finally:
        stop.set()
        cheap.join()
        watch.stop()
    answers = many + one + again
    print(f"cheap max {max(timings):.3f} s over {len(timings)}; server {watch.rest / 2**20:.0f} -> "
          f"{watch.server_peak / 2**20:.0f} MiB; tree peak {watch.tree_peak / 2**20:.0f} MiB; "
          f"statuses {sorted(a[1] for a in many + one)}")
    assert not [a for a in answers if a[1] not in (200, 429, 503)], answers
    assert [a for a in one if a[1] == 429], "one address got more than its share of downloads"
    assert all(status == 200 for _, status, _ in again), again
    assert server.alive()
    # Each file was written once, for this generation, into the derived folder beside the store.
    built = list((store.parent / "store.cache" / "exports").glob("g*/*"))
    assert len(built) == len(ATTACKS), built
    assert timings and max(timings) <= CHEAP_BOUND, f"cheap requests: max {max(timings):.2f} s"
    grew = watch.server_peak - watch.rest
    assert grew <= SERVER_GROWTH, f"the server process grew by {grew / 2**20:.0f} MiB"
    assert watch.tree_peak <= TREE_PEAK, f"the process tree peaked at {watch.tree_peak / 2**20:.0f} MiB"


def test_exports_are_complete(server: Server) -> None:
    status, body, _ = server.get("/export/all.nt", "127.0.0.30", timeout=120)
    assert status == 200
    lines = sum(1 for line in body.splitlines() if line.strip() and not line.startswith(b"#"))
    assert lines >= TRIPLES * 0.9
    status, body, _ = server.get("/rdf-graph-store?" + urllib.parse.urlencode({"graph": IMPORT}),
                                 "127.0.0.31", timeout=120, headers={"Accept": "application/n-triples"})
    assert status == 200
    assert sum(1 for line in body.splitlines() if line.strip()) >= TRIPLES * 0.9


PAGES_CHEAP_MAX = 10.0  # seconds: the slowest cheap request while 16 clients ask for new pages
PAGES = ["/map?from={y}-01-01", "/claims?page={p}", "/search?q=a{n}", "/timeline?from={y}-02-01",
         "/api/map?to={y}-12-31", "/claims?page={p}&sort=date"]


def test_new_pages_from_one_address_do_not_starve_another(server: Server) -> None:
    """16 clients on one address, each asking for pages never asked before (no page cache)."""
    stop, timings, answers = threading.Event(), [], []
    counter = iter(range(10**9))

    def attacker() -> None:
        while not stop.is_set():
            n = next(counter)
            path = PAGES[n % len(PAGES)].format(y=1990 + n % 30, p=1 + n % 40, n=n)
            try:
                answers.append(server.get(path, "127.0.0.1", timeout=60, headers={"Accept": "text/html"})[0])
            except OSError:  # past the address's 16 connections: refused at accept
                answers.append(0)

    threads = [threading.Thread(target=attacker, daemon=True) for _ in range(16)]
    for t in threads:
        t.start()
    time.sleep(2)
    cheap = threading.Thread(target=_cheap, args=(server, stop, timings), daemon=True)
    cheap.start()
    time.sleep(15)
    stop.set()
    for t in (*threads, cheap):
        t.join(90)
    assert server.alive()
    # 0: refused at accept (past the address's 16 connections); 4xx: a page's own verdict (a
    # filter it refuses), 429 past the client's places; 503 past its deadline. Never a 500.
    assert not [a for a in answers if a not in (0, 200, 503) and not 400 <= a < 500], sorted(set(answers))
    assert 429 in answers  # one client, at most its share of places
    timings.sort()
    print(f"pages: cheap p50 {timings[len(timings) // 2]:.3f} s, max {timings[-1]:.3f} s over "
          f"{len(timings)}; attacker {sorted(set(answers))}")
    # Bounds for a shared 2-core CI machine (pages are rendered under the server's GIL): at rest
    # ~10 ms; before per-client places, one request took the whole 15 s.
    assert len(timings) >= 10 and timings[len(timings) // 2] <= 1.0
    assert timings[-1] <= PAGES_CHEAP_MAX, f"cheap requests: max {timings[-1]:.2f} s"


def test_one_address_of_slow_pages_never_holds_every_interactive_worker(server: Server) -> None:
    """Pages whose queries take seconds (the timeline over the generated events: ~10 s at 100k),
    never asked before, from one address: another address's ASK {} does not wait for them.

    Before one client's hold on the interactive lane was capped (all its workers but one), the
    attacker's two page places held both workers and each cheap query waited for a page query
    to end (seconds); the 1M benchmark's cheap p99 was 1.3 s.
    """
    stop, answers, asks = threading.Event(), [], []
    counter = iter(range(10**9))

    def attacker() -> None:
        while not stop.is_set():
            n = next(counter)
            path = f"/timeline?from={1990 + n % 30}-{1 + n % 12:02d}-{1 + n % 28:02d}"
            answers.append(server.get(path, "127.0.0.60", timeout=60, headers={"Accept": "text/html"})[0])

    threads = [threading.Thread(target=attacker, daemon=True) for _ in range(4)]
    for t in threads:
        t.start()
    try:
        time.sleep(2)  # the attacker's page places are taken and its queries run
        for _ in range(20):
            status, body, took = server.get("/sparql?query=ASK%7B%7D", "127.0.0.61", timeout=60)
            assert status == 200, f"cheap ASK: {status} after {took:.2f} s: {body[:120]!r}"
            asks.append(took)
            time.sleep(0.2)
    finally:
        stop.set()
        for t in threads:
            t.join(90)
    asks.sort()
    print(f"slow pages: cheap ASK p50 {asks[len(asks) // 2]:.3f} s, max {asks[-1]:.3f} s; "
          f"attacker {sorted(set(answers))}")
    assert server.alive()
    assert not [a for a in answers if a not in (200, 503) and not 400 <= a < 500], sorted(set(answers))
    # At rest ~10 ms; a bound for a shared 2-core machine, far below one page query (~10 s).
    assert asks[-1] <= 2.0, f"cheap ASK waited {asks[-1]:.2f} s behind one address's pages"
