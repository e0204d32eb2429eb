"""Worker memory limits, the worker template's exit statuses, the probe lane and upload parsing.

Real workers on real stores; the web-level attacks are in tests/webui/test_abuse_memory.py.
"""

from __future__ import annotations

import itertools
import os
import resource
import signal
import threading
import time
from collections.abc import Iterator

import pyoxigraph as ox
import pytest

from kb.errors import ParseError
from kb.query import memory, scheduling, uploads
from kb.query.engine import StoreSpec
from kb.query.scheduling import INTERACTIVE, PROBE, LanePools, NoRoom
from kb.query.worker import Worker, WorkerPool
from kb.store.backend import QueryRequest, UpdateRequest

# 10^9 characters by nested CONCAT: gigabytes without a limit.
_NAMES = ["?a", "?b", "?c", "?d", "?e", "?f", "?g", "?h", "?z"]
HUGE = ('SELECT (STRLEN(?z) AS ?n) WHERE { BIND("aaaaaaaaaa" AS ?a) '
        + " ".join(f"BIND(CONCAT({', '.join([v] * 10)}) AS {w})" for v, w in itertools.pairwise(_NAMES))
        + " }")


@pytest.fixture
def small_limit() -> Iterator[None]:
    before = memory.limit()
    memory.set_limit(300)
    yield
    memory.set_limit(before / 2**20)


@pytest.fixture(scope="module")
def spec(tmp_path_factory: pytest.TempPathFactory) -> StoreSpec:
    path = tmp_path_factory.mktemp("limits") / "s"
    store = ox.Store(str(path))
    store.add(ox.Quad(ox.NamedNode("http://e/s"), ox.NamedNode("http://e/p"), ox.Literal("o"),
                      ox.NamedNode("http://e/g")))
    store.flush()
    del store
    return StoreSpec(path=str(path))


def query(text: str, timeout: float = 30.0) -> QueryRequest:
    return QueryRequest(text, None, None, limit=10, timeout=timeout)


def test_a_worker_runs_under_the_limit_it_was_given(spec: StoreSpec, small_limit: None) -> None:
    worker = Worker(spec, 0, require_fence=False)
    try:
        with open(f"/proc/{worker.proc.pid}/limits") as f:
            line = next(li for li in f if li.startswith("Max data size"))
        assert line.split()[3] == str(300 * 2**20)
        assert worker.ask(query("ASK {}"), 30)["kind"] == "ask"
    finally:
        worker.kill()


def test_a_query_past_the_limit_is_memory_limit_and_the_pool_serves_on(spec: StoreSpec,
                                                                       small_limit: None) -> None:
    pool = WorkerPool(1)
    pool.reset(spec)
    try:
        with pytest.raises(memory.MemoryLimit, match="300 MB") as err:
            pool.run(query(HUGE))
        assert err.value.status == 503
        assert pool.run(query("ASK { ?s ?p ?o }"))["kind"] == "ask"  # a fresh worker
    finally:
        pool.close()


def test_an_update_past_the_limit_is_memory_limit_and_writes_nothing(tmp_path, small_limit: None) -> None:
    from kb.query.worker import run_update

    path = tmp_path / "s"
    ox.Store(str(path)).flush()
    update = "INSERT { <http://e/s> <http://e/p> ?z } WHERE {" + HUGE.split("WHERE {", 1)[1]
    with pytest.raises(memory.MemoryLimit, match="update needed more"):
        run_update(StoreSpec(path=str(path), write=True), UpdateRequest(update, 30.0, {}, None))
    assert len(ox.Store.read_only(str(path))) == 0


def test_an_answer_past_its_limit_is_refused_in_the_worker(spec: StoreSpec, small_limit: None) -> None:
    assert memory.answer_limit(memory.limit()) == 64 * 2**20
    pool = WorkerPool(1)
    pool.reset(spec)
    try:
        text = HUGE.replace("(STRLEN(?z) AS ?n)", "?z").replace(" BIND(CONCAT(?h, ?h, ?h, ?h, ?h, ?h, ?h, "
                                                               "?h, ?h, ?h) AS ?z)", " BIND(?h AS ?z)")
        with pytest.raises(memory.MemoryLimit, match=r"the answer is \d+\.\d MB|needed more"):
            pool.run(query(text))
    finally:
        pool.close()


def test_the_template_tells_how_a_worker_ended(spec: StoreSpec) -> None:
    worker = Worker(spec, 0, require_fence=False)
    os.kill(worker.proc.pid, signal.SIGABRT)
    assert worker.proc.exit_status() == -signal.SIGABRT
    assert worker.ended_by_memory() is not None  # it had a limit, and ended as a failed allocation does
    worker.kill()
    other = Worker(spec, 0, require_fence=False)
    other.proc.kill()
    assert other.proc.exit_status() == -signal.SIGKILL
    assert other.ended_by_memory() is None
    other.kill()


def test_the_limit_is_checked_and_never_applied_to_this_process(spec: StoreSpec) -> None:
    before = resource.getrlimit(resource.RLIMIT_DATA)
    with pytest.raises(Exception, match="at least 256 MB"):
        memory.set_limit(100)
    Worker(spec, 0, require_fence=False).kill()
    assert resource.getrlimit(resource.RLIMIT_DATA) == before


def test_new_texts_never_hold_the_last_interactive_worker(spec: StoreSpec) -> None:
    lanes = LanePools(interactive=2, heavy=1)
    lanes.reset(spec)
    pool = lanes.pools[INTERACTIVE]
    started, release = threading.Event(), threading.Event()
    real = pool.run
    slow = "ASK { <urn:slow> ?p ?o }"

    def run(job: QueryRequest, check_by: float | None = None) -> dict:
        if job.query == slow:  # a new text holding its probe slot and an interactive worker
            started.set()
            release.wait(10)
        return real(job, check_by)

    def probe(text: str) -> dict:
        with scheduling.lane(PROBE, None):  # context variables do not follow a thread
            return lanes.run(query(text))

    first = threading.Thread(target=probe, args=(slow,))
    try:
        pool.run = run  # type: ignore[method-assign]
        first.start()
        assert started.wait(10)
        assert lanes.gates[INTERACTIVE].load() == (1, 0)
        begin = time.monotonic()
        with pytest.raises(NoRoom):  # the second new text waits PROBE_WAIT, then is told
            probe("ASK { ?s ?p ?o }")
        assert scheduling.PROBE_WAIT - 0.05 <= time.monotonic() - begin < scheduling.PROBE_WAIT + 2
        assert lanes.run(query("ASK {}"))["kind"] == "ask"  # known work finds the other worker
    finally:
        release.set()
        first.join(10)
        lanes.close()


XML = b"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:ex="http://e/">
  <rdf:Description rdf:about="http://e/a">
    <ex:p rdf:parseType="Resource"><ex:q>x</ex:q></ex:p></rdf:Description>
</rdf:RDF>
"""


def test_an_upload_is_parsed_in_a_worker_with_fresh_blank_nodes() -> None:
    first = uploads.parse(XML, ox.RdfFormat.RDF_XML, None, "body", 30.0)
    second = uploads.parse(XML, ox.RdfFormat.RDF_XML, None, "body", 30.0)
    assert len(first) == len(second) == 2
    blank = {t.object for t in first if isinstance(t.object, ox.BlankNode)}
    assert blank and blank.isdisjoint({t.object for t in second})


@pytest.mark.parametrize("cut", [b"</rdf:RDF>\n", b"</rdf:Description>\n</rdf:RDF>\n", b"x</ex:q>"])
def test_truncated_rdf_xml_is_a_parse_error_with_a_position(cut: bytes) -> None:
    with pytest.raises(ParseError) as err:
        uploads.parse(XML[: XML.rindex(cut)], ox.RdfFormat.RDF_XML, None, "body", 30.0)
    assert err.value.line is not None and err.value.status == 400


def test_entity_declarations_are_refused_before_any_worker_sees_them(monkeypatch) -> None:
    monkeypatch.setattr(uploads, "_workers", lambda: pytest.fail("the body reached a worker"))
    bomb = b'<?xml version="1.0"?>\n<!DOCTYPE r [\n  <!ENTITY a "lol">\n]>\n<r>&a;</r>\n'
    with pytest.raises(ParseError, match=r"body:3:3: RDF/XML that declares DTD entities"):
        uploads.parse(bomb, ox.RdfFormat.RDF_XML, None, "body", 30.0)


def test_a_worker_refuses_an_entity_the_byte_scan_cannot_read() -> None:
    # UTF-16: the scan for '<!ENTITY' sees other bytes; expat in the worker still refuses it.
    bomb = '<?xml version="1.0" encoding="UTF-16"?>\n<!DOCTYPE r [<!ENTITY a "lol">]>\n<r>&a;</r>\n'
    with pytest.raises(ParseError, match="DTD entities"):
        uploads.parse(bomb.encode("utf-16"), ox.RdfFormat.RDF_XML, None, "body", 30.0)
