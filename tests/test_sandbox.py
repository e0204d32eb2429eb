"""The kernel fence: a worker cannot open a network connection, whatever the query says."""

from __future__ import annotations

import time
from pathlib import Path

import pyoxigraph as ox
import pytest

from kb.backend import QueryRequest, UpdateRequest
from kb.engine import StoreSpec
from kb.errors import ForbiddenQuery, StoreError
from kb.sandbox import fenced
from kb.worker import WorkerPool, run_update


def _dump(tmp_path: Path) -> str:
    store = ox.Store()
    store.add(ox.Quad(ox.NamedNode("http://e/s"), ox.NamedNode("http://e/p"), ox.Literal("o")))
    path = tmp_path / "dump.nq"
    store.dump(output=str(path), format=ox.RdfFormat.N_QUADS)
    return str(path)


def test_the_listener_sees_an_unfenced_engine(listener) -> None:
    """Control: without the fence, Oxigraph does call the SERVICE (so the next tests can fail)."""
    port, hits = listener
    with pytest.raises(OSError):
        list(ox.Store().query(f"SELECT * WHERE {{ SERVICE <http://127.0.0.1:{port}/x> {{ ?s ?p ?o }} }}"))
    time.sleep(0.3)
    assert hits


def test_service_past_every_check_makes_no_connection(tmp_path: Path, listener) -> None:
    port, hits = listener
    pool = WorkerPool(1, require_fence=True)
    pool.reset(StoreSpec(dump=_dump(tmp_path)))
    try:
        assert pool.fence_problem() is None
        job = QueryRequest(f"SELECT * WHERE {{ SERVICE <http://127.0.0.1:{port}/x> {{ ?s ?p ?o }} }}",
                           None, None, limit=10, timeout=10, check=False)
        with pytest.raises(StoreError, match="query failed"):
            pool.run(job)
        # The worker still answers afterwards: the fence refused a call, it did not crash anything.
        ok = pool.run(QueryRequest("ASK { ?s ?p ?o }", None, None, limit=10, timeout=10))
        assert ok["body"].strip().endswith(b"true}")
    finally:
        pool.close()
    time.sleep(0.3)
    assert hits == []


def test_load_in_an_update_worker_makes_no_connection(tmp_path: Path, listener) -> None:
    port, hits = listener
    spec = StoreSpec(dump=_dump(tmp_path), write=True, dump_out=str(tmp_path / "out.nq"))
    job = UpdateRequest(f"LOAD <http://127.0.0.1:{port}/x.ttl>", timeout=10, check=False)
    with pytest.raises(StoreError, match="update failed"):
        run_update(spec, job, require_fence=True)
    time.sleep(0.3)
    assert hits == []


def test_this_process_is_not_fenced() -> None:
    """The fence is the workers' alone: the server keeps its sockets."""
    assert not fenced()


def test_an_engine_crash_in_an_update_writes_nothing(tmp_path: Path) -> None:
    """5,000 nested groups overflow Oxigraph's parser stack; sent past the check, the worker dies."""
    from kb import KnowledgeBase

    nested = "INSERT { <http://e/a> <http://e/b> <http://e/c> } WHERE " + "{ " * 5000 + "}" * 5000
    with KnowledgeBase.open(tmp_path / "store", workers=1, update_token="t") as kb:
        kb.update('INSERT DATA { <http://e/x> <http://e/y> "before" }', token="t")
        with pytest.raises(StoreError, match="update failed"):
            kb.backend.update(UpdateRequest(nested, timeout=20, check=False))
        assert kb.query('ASK { <http://e/x> <http://e/y> "before" }').boolean is True
        assert kb.query("ASK { <http://e/a> <http://e/b> <http://e/c> }").boolean is False
        # Through the public API the check refuses it before any engine sees it.
        with pytest.raises(ForbiddenQuery, match="nested too deeply"):
            kb.update(nested, token="t")
