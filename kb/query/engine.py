"""What runs inside a query or update worker: fence, check, evaluate, serialise.

The worker is a child process (see ``kb.query.worker``). Before it reads anything it
fences itself off the network (``kb.query.sandbox``); then it parses every query with
a real SPARQL parser (``kb.query.guard``), lets Oxigraph evaluate it with the
dataset the KB asks for, and has Oxigraph write the answer (``kb.query.results``).
"""

from __future__ import annotations

import pickle
import signal
import struct
import time
from dataclasses import replace
from typing import Any, BinaryIO

import pyoxigraph as ox

from kb.errors import KBError, QuerySyntaxError, QueryTimeout
from kb.query import memory, uploads
from kb.query.parsecheck import Analyses, load_checker
from kb.query.results import capture
from kb.query.sandbox import install_fence
from kb.query.view import StoreSpec, StoreView, missing_file
from kb.store.backend import CheckRequest, ExportRequest, QueryRequest, UpdateRequest
from kb.store.lifecycle import crash_point

_HEADER = struct.Struct("!Q")
# No frame is larger: answers stop at memory.ANSWER_LIMIT (64 MB), and a header that claims more
# is not a frame (the reader would otherwise allocate whatever it says before reading a byte).
_MAX_FRAME = 4 * memory.ANSWER_LIMIT
_BACKSTOP = 1.5  # a worker ends itself at 1.5 x its time limit (+2 s) if nobody killed it
DEFAULT_GRAPH = ""  # in a list of graph IRIs: the store's own (unnamed) default graph


def write_frame(stream: BinaryIO, obj: Any) -> None:
    """Send one pickled object with its length."""
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(data)))  # two writes, not one concatenation: no copy of a large answer
    stream.write(data)
    stream.flush()


def read_frame(stream: BinaryIO) -> Any:
    """Receive one pickled object; EOFError if the other side is gone."""
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        raise EOFError("worker pipe closed")
    size = _HEADER.unpack(header)[0]
    if size > _MAX_FRAME:
        raise EOFError(f"worker pipe out of step (a frame of {size} bytes)")
    data = stream.read(size)
    if len(data) < size:
        raise EOFError("worker pipe closed")
    return pickle.loads(data)  # only ever between this process and its own parent or child


def graph_terms(iris: list[str] | None) -> list[Any] | None:
    """Graph IRIs as pyoxigraph terms; DEFAULT_GRAPH stands for the store's default graph."""
    if iris is None:
        return None
    return [ox.DefaultGraph() if i == DEFAULT_GRAPH else ox.NamedNode(i) for i in iris]


def _backstop(timeout: float) -> None:
    # If the parent dies mid-query nobody kills this process, so it arms its own alarm:
    # SIGALRM's default action ends the process even inside Oxigraph's Rust code.
    if timeout:
        signal.setitimer(signal.ITIMER_REAL, timeout * _BACKSTOP + 2)


def run_query(store: ox.Store, job: QueryRequest, analyses: Analyses) -> dict[str, Any]:
    """Check and evaluate one query; the answer as the engine wrote it."""
    analysis = analyses.get(job.query, False, job.timeout) if job.check else load_checker().Analysis(False)
    _backstop(job.timeout)
    options: dict[str, Any] = {}
    if job.default_graphs is not None:
        options["default_graph"] = graph_terms(job.default_graphs)
    elif analysis.has_dataset:
        pass  # the query's own FROM / FROM NAMED: the engine reads them
    elif job.plain_default_graphs is not None:
        options["default_graph"] = graph_terms(job.plain_default_graphs)
    else:
        # The KB's default graph is every graph; the engine's union does that without a list.
        options["use_default_graph_as_union"] = True
    if job.named_graphs is not None:
        options["named_graphs"] = graph_terms(job.named_graphs)
    answer = store.query(job.query, prefixes=job.prefixes, base_iri=job.base_iri, **options)
    return capture(answer, job.limit, job.format, job.prefixes)


def run_update(store: ox.Store, job: UpdateRequest, analyses: Analyses) -> dict[str, Any]:
    """Check and apply one update: one transaction, all or nothing (its commit marker included)."""
    if job.check:
        analyses.get(job.update, True, job.timeout)
    _backstop(job.timeout)
    crash_point("update-started")
    if not job.marker:
        store.update(job.update, prefixes=job.prefixes, base_iri=job.base_iri)
    else:
        _apply_with_marker(store, job)
    crash_point("update-applied")
    return {"done": True}


def _apply_with_marker(store: ox.Store, job: UpdateRequest) -> None:
    # One call to Store.update is one transaction: the marker (kb.store.commits) goes in the
    # same text, after the request's operations. "text ; marker" is the join, except after a
    # text that already ends in ';' (or in a PREFIX after one), where only "text marker" parses.
    assert job.marker is not None
    first: SyntaxError | None = None
    for joint in ("\n;\n", "\n"):
        try:
            store.update(job.update + joint + job.marker, prefixes=job.prefixes, base_iri=job.base_iri)
            return
        except SyntaxError as err:  # nothing ran: a text that does not parse changes nothing
            first = first or err
    # Neither join parses, so the request itself does not: its own error (and position) is the
    # answer. The probe store is empty and thrown away.
    ox.Store().update(job.update, prefixes=job.prefixes, base_iri=job.base_iri)
    assert first is not None
    raise first


class _Stale(Exception):
    """A store file the worker's view listed is gone."""


def _answer(view: StoreView, job: Any, analyses: Analyses) -> dict[str, Any]:
    started = time.monotonic()
    try:
        try:
            return _evaluate(view.current(), job, analyses, view.spec, stale=view.reopenable)
        except _Stale:
            pass
        # A file the view listed is gone (the writer compacted it away): a fresh view reads the
        # current file list. Once, within what is left of the job's time: a second miss is
        # reported, not chased.
        signal.setitimer(signal.ITIMER_REAL, 0)
        if job.timeout:
            left = job.timeout - (time.monotonic() - started)
            if left <= 0:
                return {"error": "QueryTimeout", "seconds": job.timeout}
            job = replace(job, timeout=left)
        return _evaluate(view.reopen(), job, analyses, view.spec)
    except (OSError, RuntimeError) as err:  # the store could not be reopened (RocksDB: "Corruption")
        return {"error": "store", "message": str(err)}
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def _evaluate(store: ox.Store, job: Any, analyses: Analyses, spec: StoreSpec,
              stale: bool = False) -> dict[str, Any]:
    """Run one job on ``store``; with ``stale``, raise _Stale if a store file it needs is gone."""
    try:
        if isinstance(job, CheckRequest):
            return {"has_dataset": analyses.get(job.text, job.update, job.timeout).has_dataset}
        if isinstance(job, ExportRequest):
            from kb.export.stream import write_export  # only export workers need it

            _backstop(job.timeout)
            return write_export(store, job)
        if isinstance(job, uploads.ParseRequest):
            _backstop(job.timeout)
            return uploads.parse_here(job, memory.answer_limit(spec.memory))
        if isinstance(job, UpdateRequest):
            done = run_update(store, job, analyses)
            if spec.path is not None:
                store.flush()
                crash_point("update-flushed")
            elif spec.dump_out:
                store.dump(output=spec.dump_out, format=ox.RdfFormat.N_QUADS)
            return done
        answer = run_query(store, job, analyses)
        # An answer past the limit is refused here: the server would hold it whole, twice.
        limit = memory.answer_limit(spec.memory)
        return memory.too_large(len(answer["body"]), limit) if len(answer["body"]) > limit else answer
    except MemoryError:
        # Python's allocator hit the worker's limit (Oxigraph's aborts the worker instead).
        return {"error": "MemoryLimit", "message": str(memory.exceeded(spec.memory)), "retire": True}
    except SyntaxError as err:
        return {"error": "syntax", "message": str(err)}
    except QuerySyntaxError as err:
        return {"error": "checker", "line": err.line, "column": err.column, "message": err.detail}
    except QueryTimeout as err:
        return {"error": "QueryTimeout", "seconds": err.seconds}
    except KBError as err:
        return {"error": type(err).__name__, "message": str(err)}
    except OSError as err:
        if stale and missing_file(err):
            raise _Stale from err
        return {"error": "store", "message": str(err)}


def serve(inp: BinaryIO, out: BinaryIO) -> None:
    """Worker main loop: fence, limit its memory, open the store, then answer jobs until EOF."""
    fence_problem = install_fence()
    load_checker()  # before the first job, so its time limit is not spent importing
    spec: StoreSpec = read_frame(inp)
    memory.confine(spec.memory)  # before the open: a store too large for the limit fails to start
    try:
        view = StoreView(spec)
    except (OSError, RuntimeError) as err:  # say why (a full disk, a held LOCK), then end
        write_frame(out, {"error": "store", "message": str(err)})
        return
    write_frame(out, {"ready": True, "fence": fence_problem})
    analyses = Analyses()
    while True:
        try:
            job = read_frame(inp)
        except EOFError:
            return
        answer = _answer(view, job, analyses)
        try:
            write_frame(out, answer)
        except MemoryError:  # pickling the answer passed the limit: nothing was written yet
            answer = {"error": "MemoryLimit", "message": str(memory.exceeded(spec.memory)), "retire": True}
            write_frame(out, answer)
        if answer.get("retire"):
            return  # after a MemoryError nothing in this process is sure to be whole
