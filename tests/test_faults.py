"""Faults heal without a restart, and the writer is told the truth (issue 18 items 4, 9, 10).

Every test runs a real ``ckb serve --update-token T`` on a disk store built by ``ckb load``
(the bundle), and breaks it the way the world does: a time limit, ``kill -9`` of a worker, of
the worker template or of the update worker at chosen and at random moments, a disk that
fills (a real tmpfs). After each fault the server must answer pages, Graph Store reads and
writes again, and every update's answer must agree with what the store holds.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import threading
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest

from kb.store.commits import MARKER_GRAPH
from tests.faultserver import GRAPH, Server, alive, healthy, kill9
from tests.test_cli import ckb

SLOW = ("INSERT { GRAPH <urn:x:slow> { ?a <urn:x:p> ?c } } WHERE { GRAPH ?g1 { ?a ?b ?c } "
        "GRAPH ?g2 { ?d ?e ?f } GRAPH ?g3 { ?g ?h ?i } }")
FEW = "SELECT * { ?s ?p ?o } LIMIT 3"
QUIET = ("--no-index", "--no-warm-pages")  # no background writer besides the test's own requests


def copy_store(src: Path, dest: Path) -> Path:
    """A private copy of a store folder (and the shapes file beside it)."""
    shutil.copytree(src, dest)
    shapes = src.with_name(src.name + ".shapes.nt")
    if shapes.exists():
        shutil.copy(shapes, dest.with_name(dest.name + ".shapes.nt"))
    return dest


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundle in a disk store, built once and copied by each test."""
    path = tmp_path_factory.mktemp("faults") / "store"
    proc = ckb("load", store=path)
    assert proc.returncode == 0, proc.stderr
    return path


@pytest.fixture
def store(bundle: Path, tmp_path: Path) -> Path:
    """This test's own copy of the bundle store."""
    return copy_store(bundle, tmp_path / "store")


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[list[Server]]:
    """Servers a test starts, stopped at its end whatever happened."""
    started: list[Server] = []
    yield started
    for server in started:
        server.stop()


def start(servers: list[Server], store: Path | None, *flags: str,
          env: dict[str, str] | None = None) -> Server:
    """Start ``ckb serve`` (logging beside the store) and have the fixture stop it."""
    log = (store.parent if store else Path(os.environ.get("TMPDIR", "/tmp"))) / f"serve-{len(servers)}.log"
    server = Server(store, log, *flags, env=env)
    servers.append(server)
    return server


def graph_holds(server: Server, graph: str) -> bool:
    """True if the named graph has any triple (asked through the endpoint)."""
    return server.ask(f"ASK {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")


def quads_of(store: Path, graph: str) -> int:
    """How many quads a graph holds, read straight from the folder."""
    return len(list(ox.Store.read_only(str(store)).quads_for_pattern(None, None, None, ox.NamedNode(graph))))


# -- 1. an update that reaches its time limit ---------------------------------


def test_update_past_its_time_limit_leaves_the_server_serving(store, servers):
    server = start(servers, store, "--timeout", "3")  # the server's defaults otherwise (the keeper runs)
    for attempt in range(20):
        status, headers, body = server.update(SLOW)
        assert status == 503, (attempt, status, body, server.output()[-4000:])
        assert int(headers["Retry-After"]) >= 1
        assert "time limit" in body and "nothing was written" in body, body
        healthy(server)
    status, _, _ = server.request("GET", "/rdf-graph-store?graph=urn%3Ax%3Aslow",
                                  headers={"Accept": "application/n-triples"})
    assert status == 404  # never written, not even in part


# -- 2. a dead worker is replaced, never reused -------------------------------


@pytest.mark.parametrize("victims", ["workers", "template", "both"])
def test_killed_idle_workers_are_replaced(store, servers, victims):
    server = start(servers, store, *QUIET)
    for trial in range(4):
        healthy(server)  # leaves idle workers in the pools
        for path in ("/", "/id/Hezbollah"):  # and the pages' own queries too
            server.request("GET", path, headers={"Accept": "text/html"})
        workers, template = server.workers(), server.template()
        targets = set()
        if victims in ("workers", "both"):
            assert workers, "no idle worker to kill"
            targets |= workers
        if victims in ("template", "both"):
            assert template is not None
            targets.add(template)
        for pid in targets:
            kill9(pid)
        assert not any(alive(pid) for pid in targets)
        for _ in range(3):
            for path in ("/", "/id/Hezbollah", "/sparql?query=" + urllib.parse.quote(FEW)):
                status, _, body = server.request("GET", path, headers={"Accept": "text/html, */*;q=0.1"})
                assert status in (200, 303), (trial, victims, path, status, body[-500:])
            assert server.ask("ASK { ?s ?p ?o }")


# -- 3. a memory store's reads right after a write ----------------------------


def test_memory_store_reads_right_after_a_write_all_find_a_worker(servers, tmp_path):
    # A budget no burst of reads spends: only the store's own failures can fail a read here.
    server = start(servers, None, *QUIET, "--query-budget", "100000")
    failures: list[str] = []
    read = f"SELECT ?o WHERE {{ GRAPH <{GRAPH}m> {{ <urn:x:a> ?p ?o }} }}"

    def reader() -> None:
        try:
            server.select(read)
        except AssertionError as err:
            failures.append(str(err))

    # Known to be cheap first: a text the server has never run gets its first slice only as a
    # probe (one at a time per spare worker, webui.admission), else the heavy lane, which allows one
    # query per client: that would be admission answering 429, not the store failing a read.
    server.select(read)
    for round_ in range(25):
        insert = f"INSERT DATA {{ GRAPH <{GRAPH}m> {{ <urn:x:a> <urn:x:n> {round_} }} }}"
        status, _, body = server.update(insert)
        assert status == 204, body
        readers = [threading.Thread(target=reader) for _ in range(6)]
        for thread in readers:
            thread.start()
        for thread in readers:
            thread.join()
    assert not failures, f"{len(failures)} of 150 reads failed: {failures[:2]}"


# -- 4. the writer is told the truth -------------------------------------------

COUNTER = f"{GRAPH}counter"
BUMP = (f"DELETE {{ GRAPH <{COUNTER}> {{ <urn:x:c> <urn:x:n> ?n }} }} "
        f"INSERT {{ GRAPH <{COUNTER}> {{ <urn:x:c> <urn:x:n> ?m }} }} "
        f"WHERE {{ GRAPH <{COUNTER}> {{ <urn:x:c> <urn:x:n> ?n }} BIND(?n + 1 AS ?m) }}")


def counter(server: Server) -> int:
    """The counter BUMP increments."""
    rows = server.select(f"SELECT ?n WHERE {{ GRAPH <{COUNTER}> {{ <urn:x:c> <urn:x:n> ?n }} }}")
    assert len(rows) == 1, rows
    return int(rows[0]["n"]["value"])


@pytest.mark.parametrize(("point", "committed"), [
    ("update-started", False),  # killed before the transaction: nothing written
    ("update-applied", True),  # killed right after the commit, before the flush
    ("update-flushed", True),  # killed after the flush, before it could answer
])
def test_update_worker_killed_at_a_point_answers_what_the_store_holds(store, servers, point, committed):
    server = start(servers, store, *QUIET)
    assert server.update(f"INSERT DATA {{ GRAPH <{COUNTER}> {{ <urn:x:c> <urn:x:n> 0 }} }}")[0] == 204
    server.stop()
    server = start(servers, store, *QUIET, env={"CKB_TEST_CRASH_AT": point})
    for trial in range(3):
        status, _, body = server.update(BUMP, key=f"bump-{trial}")
        if committed:
            assert status == 204, (point, status, body)
            assert counter(server) == trial + 1
        else:
            assert status == 500 and "nothing was written" in body, (point, status, body)
            assert counter(server) == 0
    server.stop()
    # A retry of each (same key) on a server whose workers live: one write per key, in all.
    server = start(servers, store, *QUIET)
    for trial in range(3):
        assert server.update(BUMP, key=f"bump-{trial}")[0] == 204
    assert counter(server) == 3
    assert server.update(BUMP)[0] == 204
    assert counter(server) == 4
    server.stop()
    assert quads_of(store, MARKER_GRAPH) == 0  # no marker outlives its request


def test_idempotency_key_writes_once_across_restarts(store, servers):
    server = start(servers, store, *QUIET)
    assert server.update(f"INSERT DATA {{ GRAPH <{COUNTER}> {{ <urn:x:c> <urn:x:n> 0 }} }}")[0] == 204
    for _ in range(3):
        assert server.update(BUMP, key="once-1")[0] == 204
    assert counter(server) == 1
    server.stop()
    server = start(servers, store, *QUIET)
    assert server.update(BUMP, key="once-1")[0] == 204
    assert server.update(BUMP, key="once-2")[0] == 204
    assert counter(server) == 2
    status, _, body = server.update(BUMP, key='bad "key"')
    assert status == 400 and "Idempotency-Key" in body


def test_server_killed_before_removing_a_marker_leaves_provable_debris(store, servers):
    server = start(servers, store, *QUIET)
    assert server.update(f"INSERT DATA {{ GRAPH <{COUNTER}> {{ <urn:x:c> <urn:x:n> 0 }} }}")[0] == 204
    server.stop()
    server = start(servers, store, *QUIET, env={"CKB_TEST_CRASH_AT": "before-settle"})
    with pytest.raises(OSError):  # the server dies after the commit, before it can answer
        server.update(BUMP, key="crash-1")
    server.proc.wait(30)
    assert quads_of(store, MARKER_GRAPH) == 1  # the marker the crash left
    server = start(servers, store, *QUIET)
    assert "removed 1 commit marker" in server.output()
    assert quads_of_union(server) == 0  # no query sees it
    assert counter(server) == 1
    assert server.update(BUMP, key="crash-1")[0] == 204  # the retry: committed already
    assert counter(server) == 1
    server.stop()
    assert quads_of(store, MARKER_GRAPH) == 0


def quads_of_union(server: Server) -> int:
    """How many marker triples a query finds (the KB's default graph is the union of all graphs)."""
    rows = server.select("SELECT (COUNT(*) AS ?n) WHERE { ?s <urn:x-ckb:idempotency-key> ?o }")
    return int(rows[0]["n"]["value"])


def _copy_update(graph: str, rows: int) -> str:
    # A write of ``rows`` new triples that takes a while to compute, commit and flush.
    return (f"INSERT {{ GRAPH <{graph}> {{ ?a <urn:x:n> ?n }} }} WHERE {{ {{ SELECT ?a ?n WHERE {{ "
            f"GRAPH ?g1 {{ ?a ?b ?c }} GRAPH ?g2 {{ ?d ?e ?f }} BIND(CONCAT(STR(?b), STR(?f)) AS ?n) }} "
            f"LIMIT {rows} }} }}")


def test_update_worker_killed_at_random_moments_answers_what_the_store_holds(store, servers):
    server = start(servers, store, *QUIET, "--timeout", "60")
    began = time.monotonic()
    assert server.update(_copy_update(GRAPH + "calibrate", 60_000))[0] == 204
    took = time.monotonic() - began
    rng = random.Random(18)
    outcomes = []
    for trial in range(10):
        graph = f"{GRAPH}kill-{trial}"
        before = server.workers()
        answer: list = []
        text = _copy_update(graph, 60_000)
        thread = threading.Thread(target=lambda t=text, a=answer: a.append(server.update(t)))
        thread.start()
        deadline = time.monotonic() + 30
        while not (new := server.workers() - before) and time.monotonic() < deadline:
            time.sleep(0.005)
        assert new, "no update worker appeared"
        time.sleep(rng.uniform(0, took * 1.2))
        for pid in new:
            kill9(pid)
        thread.join(120)
        status, _, body = answer[0]
        holds = graph_holds(server, graph)
        outcomes.append((status, holds))
        if status == 204:
            assert holds, (trial, "answered committed, but the store lacks it")
        else:
            assert status == 500 and "nothing was written" in body, (trial, status, body)
            assert not holds, (trial, "answered 'nothing was written', but the store holds it", body)
        healthy(server)
    server.stop()
    assert quads_of(store, MARKER_GRAPH) == 0
    print("outcomes (status, written):", outcomes)


# -- 5. a disk that fills -------------------------------------------------------


def _fill(folder: Path, name: str, leave: int) -> Path:
    """Write a filler file until only ``leave`` bytes are free on ``folder``'s file system."""
    path = folder / name
    with open(path, "ab") as out:
        while True:
            st = os.statvfs(folder)
            free = st.f_bavail * st.f_frsize
            if free <= leave:
                break
            try:
                out.write(b"\0" * min(1 << 16, max(free - leave, 4096)))
                out.flush()
            except OSError:
                break
    return path


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 64 MiB tmpfs mounted for this test (root only)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    try:
        mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(disk)],
                                 capture_output=True, text=True, timeout=30)
    except OSError as err:
        pytest.skip(f"cannot mount a small tmpfs to fill: {err}")
    if mounted.returncode:
        pytest.skip(f"cannot mount a small tmpfs to fill: {mounted.stderr.strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True, timeout=30)


def test_a_disk_that_fills_heals_once_space_is_freed(bundle, servers, small_disk, tmp_path):
    store = copy_store(bundle, small_disk / "store")
    server = start(servers, store, *QUIET, "--timeout", "60")
    healthy(server)
    fillers = [_fill(small_disk, "filler-1", 256 * 1024)]
    big = GRAPH + "big"
    status, _, body = server.update(_copy_update(big, 300_000))  # fills the disk as it commits
    assert status == 507 and "nothing was written" in body, (status, body, server.output()[-3000:])
    # A Graph Store PUT that fills the disk (written in this process, not in a worker).
    triples = "".join(f"<urn:x:s{i}> <urn:x:p> \"{'x' * 40} {i}\" .\n" for i in range(12_000))[:1_000_000]
    triples = triples[: triples.rindex("\n") + 1]
    put = "/rdf-graph-store?graph=" + urllib.parse.quote(GRAPH + "put")
    headers = {"Authorization": "Bearer T", "Content-Type": "application/n-triples", "Accept": "text/plain"}
    status, _, answer = server.request("PUT", put, triples.encode(), headers)
    assert status == 507, (status, answer, server.output()[-3000:])
    fillers.append(_fill(small_disk, "filler-2", 0))  # and now not one byte is left
    for _ in range(2):
        assert not graph_holds(server, big)
        for path in ("/", "/id/Hezbollah"):
            status, _, body = server.request("GET", path, headers={"Accept": "text/html"})
            assert status == 200, (path, status, body[-500:])
        status, _, body = server.update(f"INSERT DATA {{ GRAPH <{GRAPH}small> {{ <urn:x:a> <urn:x:b> 1 }} }}")
        assert status == 507 and "nothing was written" in body, (status, body)
    for filler in fillers:
        filler.unlink()
    healthy(server)  # writes work again, without a restart
    status, _, answer = server.request("PUT", put, triples.encode(), headers)
    assert status in (201, 204), (status, answer, server.output()[-3000:])
    assert graph_holds(server, GRAPH + "put")
    status, _, body = server.update(_copy_update(big, 20_000))
    assert status == 204, body
    assert graph_holds(server, big)
    server.stop()
    # With not one byte free, the commands that only read still open the store.
    filler = _fill(small_disk, "filler-3", 0)
    for args in (("query", "ASK { ?s ?p ?o }"), ("export", "--format", "nt"), ("validate",)):
        proc = ckb(*args, store=store)
        assert proc.returncode == 0, (args, proc.stderr)
        assert "Traceback" not in proc.stderr
    filler.unlink()
