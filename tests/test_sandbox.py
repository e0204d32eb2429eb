"""The kernel fence: a worker cannot open a network connection, whatever the query says."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pyoxigraph as ox
import pytest

from kb.errors import ForbiddenQuery, StoreError
from kb.query.engine import StoreSpec
from kb.query.sandbox import fenced
from kb.query.worker import WorkerPool, run_update
from kb.store.backend import QueryRequest, UpdateRequest

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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


_NO_SECCOMP = """
import errno, os, sys
import pyseccomp as seccomp
# Deny every later seccomp filter, as a container without seccomp support would.
f = seccomp.SyscallFilter(seccomp.ALLOW)
f.add_rule(seccomp.ERRNO(errno.EPERM), "seccomp")
f.add_rule(seccomp.ERRNO(errno.EPERM), "prctl", seccomp.Arg(0, seccomp.EQ, 22))  # PR_SET_SECCOMP
f.load()
os.execv(sys.executable, [sys.executable, "-m", "kb.cli", *sys.argv[1:]])
"""


def _serve(port: int, *extra: str) -> subprocess.Popen[str]:
    args = [sys.executable, "-c", _NO_SECCOMP, "--memory", "serve", "--port", str(port), *extra]
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)


def _answers(port: int, proc: subprocess.Popen[str]) -> bool:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/sparql?query=ASK%7B%7D", timeout=5) as r:
                return r.status == 200
        except OSError:
            time.sleep(0.5)
    return False


def test_serve_refuses_to_start_without_the_fence() -> None:
    proc = _serve(_free_port())
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 2, err
    assert err.strip().splitlines()[-1].startswith(
        "ckb: error: the network fence (seccomp) could not be set up")
    assert "--no-sandbox" in err and "Traceback" not in err


def test_no_sandbox_starts_and_says_what_it_gives_up() -> None:
    port = _free_port()
    proc = _serve(port, "--no-sandbox")
    try:
        assert _answers(port, proc)
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    assert "without the network fence" in err and "Traceback" not in err
