"""Lanes, deadlines and killable workers, below the web layer: real workers on a real store.

Bounds are generous (a loaded 2-core machine); the assertions are about order, status and
whether the work really stopped.
"""

from __future__ import annotations

import gc
import os
import resource
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Iterator

import pyoxigraph as ox
import pytest

from kb.errors import ForbiddenQuery, QueryTimeout
from kb.query import parsecheck, scheduling
from kb.query.engine import StoreSpec
from kb.query.forkserver import Forked
from kb.query.scheduling import HEAVY, INTERACTIVE, PROBE, Gate, LanePools, NoRoom, Overloaded
from kb.query.worker import Worker, WorkerPool
from kb.store.backend import QueryRequest

HEAVY_Q = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . ?m ?n1 ?o }"
CHEAP_Q = "ASK { ?s ?p ?o }"


@pytest.fixture(scope="module")
def spec(tmp_path_factory: pytest.TempPathFactory) -> StoreSpec:
    path = tmp_path_factory.mktemp("lanes") / "s"
    store = ox.Store(str(path))
    ex = "http://example.org/"
    store.extend([ox.Quad(ox.NamedNode(f"{ex}s{i}"), ox.NamedNode(f"{ex}p"), ox.Literal(str(i)),
                          ox.NamedNode(f"{ex}g")) for i in range(200)])
    store.flush()
    del store  # closed: workers open it read-only
    return StoreSpec(path=str(path))


def job(text: str, timeout: float) -> QueryRequest:
    return QueryRequest(text, None, None, limit=10, timeout=timeout)


def test_a_forked_worker_is_killed_at_its_limit_and_is_gone(spec: StoreSpec) -> None:
    worker = Worker(spec, 0, require_fence=False)
    assert isinstance(worker.proc, Forked)  # forked from the template, not started from scratch
    pid = worker.proc.pid
    start = time.monotonic()
    with pytest.raises(QueryTimeout):
        worker.ask(job(HEAVY_Q, 1.0), 1.0)
    assert time.monotonic() - start < 1.0 + 5.0
    # The work really stops: the process ends (reaped in the background, so poll for it).
    gone_by = time.monotonic() + 20
    while time.monotonic() < gone_by:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_a_check_cut_short_by_the_jobs_limit_is_a_timeout_not_a_bad_query(monkeypatch) -> None:
    # FROM makes the checker parse it (texts that cannot name a dataset or SERVICE skip the parse).
    text = "SELECT * FROM <http://e/g> WHERE { " + " UNION ".join(
        f"{{ ?s <http://e/p{i}> ?o }}" for i in range(300)) + " }"
    with pytest.raises(QueryTimeout):
        parsecheck.Analyses().get(text, False, timeout=0.0004)  # its share of a nearly spent limit
    monkeypatch.setattr(parsecheck, "CHECK_LIMIT", 0.0002)
    with pytest.raises(ForbiddenQuery, match="took longer than"):  # the check's own cap: a 400
        parsecheck.Analyses().get(text, False, timeout=10.0)


class _Garbage:
    """A stream of cyclic garbage: each finalizer burns CPU, then leaves the next one."""

    def __init__(self) -> None:
        self.on = True

    def leave(self) -> None:
        """One more cycle for the collector to find, unless the stream was stopped."""
        if self.on:
            cycle: list[object] = []
            cycle.append(cycle)
            weakref.finalize(_Cycle(cycle), self.burn)

    def burn(self) -> None:
        """Where the check's alarm lands: it is swallowed if raised here."""
        end = time.process_time() + 0.0002
        while time.process_time() < end:
            pass
        self.leave()


class _Cycle:
    def __init__(self, cycle: list[object]) -> None:
        self.cycle = cycle
        cycle.append(self)


def test_a_check_stops_even_when_the_collector_runs_finalizers(monkeypatch) -> None:
    # An alarm raised inside a finalizer is swallowed; the check must stop all the same.
    text = "SELECT * FROM <http://e/g> WHERE { " + " UNION ".join(
        f"{{ ?s <http://e/q{i}> ?o }}" for i in range(300)) + " }"
    monkeypatch.setattr(parsecheck, "CHECK_LIMIT", 0.01)
    thresholds = gc.get_threshold()
    garbage = _Garbage()
    for _ in range(5):
        garbage.leave()
    gc.set_threshold(50, 1, 1)  # collected often, so while the check runs too
    try:
        with pytest.raises(ForbiddenQuery, match="took longer than"):
            parsecheck.Analyses().get(text, False, timeout=10.0)
    finally:
        garbage.on = False
        gc.set_threshold(*thresholds)
        gc.collect()


def test_a_gate_refuses_at_once_when_its_queue_is_full_and_waiters_leave_at_their_deadline() -> None:
    gate = Gate(1, max_waiting=1)
    held, release = threading.Event(), threading.Event()
    outcome: list[tuple[str, float]] = []

    def hold() -> None:
        with gate.slot(None):
            held.set()
            release.wait(30)

    def wait_for_slot() -> None:
        try:
            with gate.slot(time.monotonic() + 1.0):
                outcome.append(("slot", time.monotonic()))
        except Overloaded:
            outcome.append(("overloaded", time.monotonic()))

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait(10)
    waiter = threading.Thread(target=wait_for_slot)
    waiter.start()
    deadline = time.monotonic() + 10
    while gate.load()[1] < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    with pytest.raises(Overloaded) as refused, gate.slot(time.monotonic() + 30):  # queue (1) full: no wait
        pass
    refused_at = time.monotonic()
    assert refused.value.retry_after >= 1
    waiter.join(10)
    release.set()
    holder.join(10)
    assert outcome and outcome[0][0] == "overloaded"  # its deadline passed while the slot was held
    assert refused_at < outcome[0][1]  # the full-queue refusal did not wait for anything


def test_a_freed_slot_goes_to_the_nearest_deadline_not_the_first_or_fastest_waiter() -> None:
    gate = Gate(1)
    order: list[str] = []
    release = threading.Event()

    def hold() -> None:
        with gate.slot(None):
            release.wait(30)

    def wait(name: str, deadline: float) -> None:
        with gate.slot(deadline):
            order.append(name)

    holder = threading.Thread(target=hold)
    holder.start()
    now = time.monotonic()
    late = threading.Thread(target=wait, args=("late", now + 60))
    late.start()
    while gate.load()[1] < 1:
        time.sleep(0.01)
    soon = threading.Thread(target=wait, args=("soon", now + 30))  # arrives second, due first
    soon.start()
    while gate.load()[1] < 2:
        time.sleep(0.01)
    release.set()
    for t in (holder, late, soon):
        t.join(10)
    assert order == ["soon", "late"]
    assert gate.load() == (0, 0)


@pytest.fixture
def lanes(spec: StoreSpec) -> Iterator[LanePools]:
    pools = LanePools(interactive=1, heavy=1, heavy_queue=1)
    pools.keep_warm = True
    pools.reset(spec)
    yield pools
    pools.close()


def _in_lane(pools: LanePools, name: str, text: str, limit: float, out: list) -> None:
    arrival = time.monotonic()
    try:
        with scheduling.lane(name, arrival + limit):
            pools.run(job(text, limit))
        out.append(("ok", arrival, time.monotonic()))
    except (QueryTimeout, Overloaded) as err:
        out.append((type(err).__name__, arrival, time.monotonic()))


def test_cheap_work_runs_while_the_heavy_lane_and_its_queue_are_full(lanes: LanePools) -> None:
    running: list = []
    queued: list = []
    first = threading.Thread(target=_in_lane, args=(lanes, HEAVY, HEAVY_Q, 4.0, running))
    first.start()
    deadline = time.monotonic() + 10
    while lanes.gates[HEAVY].load()[0] < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    second = threading.Thread(target=_in_lane, args=(lanes, HEAVY, HEAVY_Q, 2.0, queued))
    second.start()
    while lanes.gates[HEAVY].load()[1] < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    refused: list = []
    _in_lane(lanes, HEAVY, HEAVY_Q, 4.0, refused)
    cheap: list = []
    for _ in range(3):
        _in_lane(lanes, INTERACTIVE, CHEAP_Q, 10.0, cheap)
    first.join(30)
    second.join(30)
    assert refused[0][0] == "Overloaded" and refused[0][2] < running[0][2]  # 503 at once, queue full
    assert [c[0] for c in cheap] == ["ok"] * 3
    assert max(c[2] for c in cheap) < running[0][2]  # no cheap answer waited for the heavy one
    assert running[0][0] == "QueryTimeout" and running[0][2] - running[0][1] < 4.0 + 3.0
    # Queued behind it, with a shorter limit than the running one has left: it ends at its own
    # deadline, counted from its arrival, without ever getting a worker.
    assert queued[0][0] in ("Overloaded", "QueryTimeout")
    assert queued[0][2] - queued[0][1] < 2.0 + 3.0
    assert queued[0][2] < running[0][2]


def test_a_slice_starts_after_the_check_and_the_check_still_refuses(spec: StoreSpec) -> None:
    from kb.query.worker import WorkerPool

    pool = WorkerPool(1)
    pool.reset(spec)
    try:
        # Checked first on the request's time (up to check_by), then evaluated within the slice.
        text = "ASK { " + " UNION ".join(f"{{ ?s <http://e/p{i}> ?o }}" for i in range(400)) + " }"
        answer = pool.run(job(text, 2.0), check_by=time.monotonic() + 30)
        assert answer["kind"] == "ask"
        with pytest.raises(ForbiddenQuery, match="SERVICE"):  # the check's verdict is kept
            pool.run(job("ASK { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }", 2.0),
                     check_by=time.monotonic() + 30)
        with pytest.raises(QueryTimeout):  # the slice still stops the evaluation
            pool.run(job(HEAVY_Q, 0.5), check_by=time.monotonic() + 30)
        assert pool.run(job(CHEAP_Q, 5.0))["kind"] == "ask"  # the worker was not killed
    finally:
        pool.close()


def test_opening_and_querying_load_no_checker_grammar_or_reasoner(tmp_path) -> None:
    # What keeps `import kb` + open + first answer light: the SPARQL grammar lives in workers.
    import subprocess
    import sys

    code = ("import sys; from kb import KnowledgeBase; k = KnowledgeBase.open(sys.argv[1]); "
            "k.query('ASK {}'); k.close(); "
            "print(','.join(m for m in ('rdflib.plugins.sparql.parser', 'pyshacl', 'owlready2', "
            "'kb.query.guard') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "s")], capture_output=True, text=True,
                         check=True, timeout=120)
    assert out.stdout.strip() == ""


def test_a_freed_slot_goes_first_to_the_client_holding_fewest() -> None:
    """One client's pages hold both slots and wait for more with the nearest deadline; another
    client's one query, due later, still gets the next slot (the pages attack of issue 19)."""
    gate = Gate(2)
    order: list[str] = []
    releases = [threading.Event(), threading.Event()]

    def run(client: str, name: str, deadline: float | None, release: threading.Event | None) -> None:
        scheduling.CLIENT.set(client)  # each thread has its own context, as each request has
        with gate.slot(deadline):
            order.append(name)
            if release is not None:
                release.wait(30)

    now = time.monotonic()
    holders = [threading.Thread(target=run, args=("attacker", f"hold{i}", None, r))
               for i, r in enumerate(releases)]
    for t in holders:
        t.start()
    while gate.load()[0] < 2:
        time.sleep(0.01)
    waiters = [threading.Thread(target=run, args=("attacker", "page", now + 20, None)),
               threading.Thread(target=run, args=("cheap", "ask", now + 40, None))]
    for n, t in enumerate(waiters, 1):
        t.start()
        while gate.load()[1] < n:
            time.sleep(0.01)
    releases[0].set()  # one slot comes free
    while len(order) < 3:
        time.sleep(0.01)
    assert order[2] == "ask", order  # deadline order alone would give it to the attacker's page
    releases[1].set()
    for t in (*holders, *waiters):
        t.join(10)
    assert order[3] == "page" and gate.load() == (0, 0)


def test_one_client_never_holds_every_interactive_worker() -> None:
    """The lanes' interactive gate leaves one worker to the other clients: one client's second
    query waits even while a worker is free, and another client's query takes that worker at once
    (the pages attack of issue 19: page queries of seconds held both workers)."""
    gate = LanePools(interactive=2).gates[INTERACTIVE]
    held, release = threading.Event(), threading.Event()
    outcome: list[tuple[str, str, float]] = []

    def run(client: str, deadline: float | None, hold: bool) -> None:
        scheduling.CLIENT.set(client)
        start = time.monotonic()
        try:
            with gate.slot(deadline):
                outcome.append((client, "slot", time.monotonic() - start))
                if hold:
                    held.set()
                    release.wait(30)
        except Overloaded:
            outcome.append((client, "overloaded", time.monotonic() - start))

    holder = threading.Thread(target=run, args=("attacker", None, True))
    holder.start()
    held.wait(10)
    second = threading.Thread(target=run, args=("attacker", time.monotonic() + 1.0, False))
    second.start()
    second.join(10)  # its deadline passed while a worker stood free: capped, not queued behind one
    cheap = threading.Thread(target=run, args=("cheap", time.monotonic() + 1.0, False))
    cheap.start()
    cheap.join(10)
    release.set()
    holder.join(10)
    assert outcome[1][:2] == ("attacker", "overloaded"), outcome
    assert outcome[2][:2] == ("cheap", "slot") and outcome[2][2] < 0.5, outcome
    # Callers that name no client (the CLI, library users) are not capped.
    held.clear()
    release.clear()
    holder = threading.Thread(target=run, args=("", None, True))
    holder.start()
    held.wait(10)
    run("", time.monotonic() + 1.0, False)
    release.set()
    holder.join(10)
    assert [o[:2] for o in outcome[3:]] == [("", "slot"), ("", "slot")], outcome
    assert gate.load() == (0, 0)


@pytest.fixture
def high_descriptors() -> Iterator[None]:
    """Every descriptor opened in the test is numbered above 1024 (a server with many connections)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 1400:
        pytest.skip(f"the descriptor limit ({hard}) is too low to pass 1024")
    if soft != resource.RLIM_INFINITY and soft < 1400:
        resource.setrlimit(resource.RLIMIT_NOFILE, (1400, hard))
    fillers = []
    try:
        while not fillers or fillers[-1] < 1030:
            fillers.append(os.open(os.devnull, os.O_RDONLY))
        yield
    finally:
        for fd in fillers:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_workers_wait_on_descriptors_past_1024(spec: StoreSpec, high_descriptors: None) -> None:
    """select() refuses descriptors >= 1024: the pool's wait for an answer raised ValueError, and a
    running worker's pidfd read as ended."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        proc = Forked(child.pid)
        assert proc._pidfd is not None and proc._pidfd > 1024
        assert proc.poll() is None  # still running
        with pytest.raises(subprocess.TimeoutExpired):
            proc.wait(0.2)
        proc.kill()
        assert proc.wait(10) == -1
    finally:
        child.kill()
        child.wait()
    pool = WorkerPool(1)
    pool.reset(spec)
    try:
        assert pool.run(job(CHEAP_Q, 10.0))["kind"] == "ask"
        with pytest.raises(QueryTimeout):  # the wait still ends at the limit
            pool.run(job(HEAVY_Q, 0.5))
    finally:
        pool.close()


def test_a_new_text_from_a_client_at_its_share_goes_to_the_heavy_lane_at_once(spec: StoreSpec) -> None:
    """It would otherwise hold the one probe slot while waiting for an interactive worker it may
    not take, and every other client's new text would find no probe slot (NoRoom) meanwhile."""
    pools = LanePools(interactive=2)
    pools.reset(spec)
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        scheduling.CLIENT.set("a")
        with pools.gates[INTERACTIVE].slot(None):
            held.set()
            release.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        held.wait(10)
        scheduling.CLIENT.set("a")
        start = time.monotonic()
        with pytest.raises(NoRoom), scheduling.lane(PROBE, start + 10):
            pools.run(job(CHEAP_Q, 5.0))
        assert time.monotonic() - start < 1.0 and pools.gates[PROBE].load() == (0, 0)
        scheduling.CLIENT.set("b")  # another client's new text still probes
        with scheduling.lane(PROBE, time.monotonic() + 10):
            assert pools.run(job(CHEAP_Q, 5.0))["kind"] == "ask"
    finally:
        scheduling.CLIENT.set("")
        release.set()
        holder.join(10)
        pools.close()
