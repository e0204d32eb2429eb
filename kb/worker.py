"""Query worker processes: the time limit kills the process doing the work.

Neither rdflib nor Oxigraph can interrupt a running query, so each query runs in
a worker process that opens the store itself (read-only on disk, or from a
dump for a memory store). When a query overruns, the worker is killed and the
work really stops; the next query gets a fresh worker.

Workers are plain ``python -c`` subprocesses talking length-prefixed
pickles over stdin/stdout: unlike multiprocessing's spawn, they never re-import
the caller's main script, so library users need no ``if __name__`` guard.
"""

from __future__ import annotations

import os
import pickle
import re
import select
import signal
import struct
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import pyoxigraph as ox

from .backend import QueryRequest
from .errors import QuerySyntaxError, QueryTimeout, StoreError
from .terms import encode

_HEADER = struct.Struct("!Q")
# Run through -c, not -m: "-m kb.worker" would load this module twice (as kb.worker and __main__).
_CHILD = "import sys; from kb.worker import serve; serve(sys.stdin.buffer, sys.stdout.buffer)"
_START_TIMEOUT = 60.0
_BACKSTOP = 1.5  # a worker ends itself at 1.5 x its time limit (+2 s) if nobody killed it


def write_frame(stream: BinaryIO, obj: Any) -> None:
    """Send one pickled object with its length."""
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(data)) + data)
    stream.flush()


def read_frame(stream: BinaryIO) -> Any:
    """Receive one pickled object; EOFError if the other side is gone."""
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        raise EOFError("worker pipe closed")
    size = _HEADER.unpack(header)[0]
    data = stream.read(size)
    if len(data) < size:
        raise EOFError("worker pipe closed")
    return pickle.loads(data)  # only ever from our own worker process


@dataclass(frozen=True)
class StoreSpec:
    """Where a worker finds the store: a store directory, or an N-Quads dump file."""

    path: str | None = None
    dump: str | None = None


def _graph_terms(iris: list[str] | None) -> list[Any] | None:
    if iris is None:
        return None
    return [ox.NamedNode(i) for i in iris]  # [] is an empty dataset part, as SPARQL says


def _execute(store: ox.Store, job: QueryRequest) -> dict[str, Any]:
    """Run one job on the worker's store and encode the answer."""
    try:
        result = store.query(
            job.query,
            prefixes=job.prefixes,
            default_graph=_graph_terms(job.default_graphs),
            named_graphs=_graph_terms(job.named_graphs),
            base_iri=getattr(job, "base_iri", None),
        )
    except SyntaxError as err:
        return {"error": "syntax", "message": str(err)}
    return encode_result(result, job.limit)


def encode_result(result: Any, limit: int) -> dict[str, Any]:
    """Encode a pyoxigraph result (boolean, solutions or triples), keeping at most ``limit`` rows."""
    if isinstance(result, ox.QueryBoolean | bool):
        return {"kind": "ask", "boolean": bool(result)}
    rows: list[Any] = []
    truncated = False
    seen: dict[Any, Any] = {}  # one tuple per distinct term: less encoding, and pickle memoises it

    def enc(term: Any) -> Any:
        if term is None:
            return None
        found = seen.get(term)
        if found is None:
            found = seen[term] = encode(term)
        return found

    if isinstance(result, ox.QuerySolutions):
        names = [v.value for v in result.variables]
        for solution in result:
            if len(rows) == limit:
                truncated = True
                break
            rows.append([enc(solution[n]) for n in names])
        return {"kind": "select", "variables": names, "rows": rows, "truncated": truncated}
    for triple in result:
        if len(rows) == limit:
            truncated = True
            break
        rows.append((enc(triple.subject), enc(triple.predicate), enc(triple.object)))
    return {"kind": "graph", "triples": rows, "truncated": truncated}


def serve(inp: BinaryIO, out: BinaryIO) -> None:
    """Worker main loop: read the store spec, open the store, then answer jobs until EOF."""
    spec: StoreSpec = read_frame(inp)
    if spec.path is not None:
        store = ox.Store.read_only(spec.path)
    else:
        store = ox.Store()
        if spec.dump:
            store.load(path=spec.dump, format=ox.RdfFormat.N_QUADS)
    write_frame(out, {"ready": True})
    while True:
        try:
            job = read_frame(inp)
        except EOFError:
            return
        # If the parent dies mid-query nobody kills this process, so it arms its own alarm:
        # SIGALRM's default action ends the process even inside Oxigraph's Rust code.
        if job.timeout:
            signal.setitimer(signal.ITIMER_REAL, job.timeout * _BACKSTOP + 2)
        try:
            answer = _execute(store, job)
        except OSError as err:
            answer = {"error": "store", "message": str(err)}
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        write_frame(out, answer)


_POSITION = re.compile(r"error at (\d+):(\d+):\s*(.*)", re.DOTALL)


def syntax_error(message: str, line_shift: int = 0) -> QuerySyntaxError:
    """Turn Oxigraph's 'error at L:C: ...' into a QuerySyntaxError with its position."""
    m = _POSITION.search(message)
    if m:
        return QuerySyntaxError(int(m.group(1)) - line_shift, int(m.group(2)), _short(m.group(3)))
    return QuerySyntaxError(None, None, _short(message))


def _short(detail: str, limit: int = 200) -> str:
    # Oxigraph lists every token it expected; a reader needs the start of that list.
    detail = " ".join(detail.split())
    return detail if len(detail) <= limit else detail[: limit - 1] + "…"


def _raise_error(answer: dict[str, Any]) -> None:
    if answer["error"] == "syntax":
        raise syntax_error(answer["message"])
    raise StoreError(f"query failed: {answer['message']}")


class _Worker:
    def __init__(self, spec: StoreSpec, generation: int) -> None:
        self.generation = generation
        env = dict(os.environ)
        # The child must import this very kb package, installed or not.
        root = str(Path(__file__).resolve().parent.parent)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _CHILD], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env
        )
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.inp, self.out = self.proc.stdin, self.proc.stdout
        try:
            write_frame(self.inp, spec)
            if not self.wait(_START_TIMEOUT) or not read_frame(self.out).get("ready"):
                raise EOFError("no answer")
        except (EOFError, OSError) as err:
            self.kill()
            raise StoreError(f"query worker failed to start: {err}") from None

    def wait(self, timeout: float) -> bool:
        """True once an answer is ready to read; False when ``timeout`` passes first."""
        ready, _, _ = select.select([self.out], [], [], max(timeout, 0))
        return bool(ready)

    def kill(self) -> None:
        """Stop the worker at once, whatever it is doing, and reap it."""
        self.proc.kill()
        self.proc.wait(5)
        for stream in (self.inp, self.out):
            stream.close()


class WorkerPool:
    """A small pool of query workers bound to one store generation."""

    def __init__(self, size: int = 2) -> None:
        self.size = size
        self._spec: StoreSpec | None = None
        self._generation = 0
        self._idle: list[_Worker] = []
        self._busy = 0
        self._cond = threading.Condition()

    def reset(self, spec: StoreSpec) -> None:
        """Point the pool at new store contents; idle workers are retired now, busy ones on return."""
        with self._cond:
            self._spec = spec
            self._generation += 1
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.kill()

    def _acquire(self) -> _Worker:
        with self._cond:
            while not self._idle and self._busy >= self.size:
                self._cond.wait()
            self._busy += 1
            worker = self._idle.pop() if self._idle else None
            spec, generation = self._spec, self._generation
        if worker is None:
            try:
                assert spec is not None, "WorkerPool.reset() must be called first"
                worker = _Worker(spec, generation)
            except BaseException:
                self._release(None)
                raise
        return worker

    def _release(self, worker: _Worker | None) -> None:
        with self._cond:
            self._busy -= 1
            if worker is not None and worker.generation == self._generation:
                self._idle.append(worker)
                worker = None
            self._cond.notify()
        if worker is not None:
            worker.kill()

    def run(self, job: QueryRequest) -> dict[str, Any]:
        """Run a query; kill its worker and raise QueryTimeout past its time limit."""
        timeout = job.timeout
        worker = self._acquire()
        deadline = time.monotonic() + timeout
        try:
            write_frame(worker.inp, job)
            if not worker.wait(deadline - time.monotonic()):
                worker.kill()
                worker = None
                raise QueryTimeout(timeout)
            answer = read_frame(worker.out)
        except (EOFError, OSError) as err:
            if worker is not None:
                worker.kill()
            worker = None
            raise StoreError(f"query worker died: {err}") from err
        finally:
            self._release(worker)
        if "error" in answer:
            _raise_error(answer)
        return answer

    def close(self) -> None:
        """Stop every idle worker (busy ones stop when they return)."""
        with self._cond:
            self._generation += 1
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.kill()

