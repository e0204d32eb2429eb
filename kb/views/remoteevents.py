"""The event index of a SPARQL server's KB: read through SPARQL, kept in memory and beside the client.

kb.derived.eventbuild reads an embedded store by predicate scans and keeps the index for the
store's generation. A server's store has no scans, and others may write to it: here each
predicate the same reading code (eventbuild._read) asks for is fetched by one SELECT over the
KB's graphs (the inferred one aside, as there), so the rows, and the pages built from them, are
those of an embedded store with the same data. The index is kept in memory while the graph
registry (kb.store.registry) is as it was read, which every write through the KB changes, and
in a file beside the client (kb.derived.eventfile, in the sidecar of kb.derived.sidecar) that
'ckb --endpoint … index' writes ahead: at 10M triples the reading takes minutes, a page none.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox

from kb.derived import eventbuild, eventfile
from kb.derived.events import EventIndex
from kb.derived.memo import memo
from kb.errors import KBError
from kb.namespaces import GRAPH_INFERRED
from kb.store import protocol, registry
from kb.terms import iri_ref, to_ox
from kb.views.naming import values_block

log = logging.getLogger("ckb.eventindex")
ROWS = 50_000_000  # rows read per predicate at most (a KB's own cap is for pages)
READ_TIMEOUT = 600.0  # seconds per predicate: the reading runs off the request path
WAIT_SECONDS = 20.0  # a page waits this long for a reading under way (below ckb serve's 30 s)


def read(kb: Any, wait: float = WAIT_SECONDS) -> EventIndex:
    """The event index of ``kb`` as it is now: from memory (kb.derived.memo REMOTE, per state of
    the graph registry), else from the file 'ckb --endpoint … index' keeps beside the client,
    else read through SPARQL; either on a background thread (one per store state), for which a
    page waits up to ``wait`` seconds before answering 503 (IndexBuilding) while it goes on."""
    held = memo(kb, "remote-event-index")
    if held is not None and "index" in held:
        return held["index"]
    if not hasattr(getattr(kb, "backend", None), "counts"):  # a store with no registry: read now
        index = _read(kb)
    else:  # one job per store state reads the file (or the server): callers meanwhile wait for it
        job = _start(kb, stamp(kb))
        job.done.wait(wait)
        if not job.done.is_set():
            raise IndexBuilding("the event index is being built from the store; try again in a few seconds")
        if job.error is not None or job.index is None:
            raise job.error or IndexBuilding("the event index was not built; try again")
        index = job.index
    if held is not None:
        held["index"] = index
    return index


def build(kb: Any) -> EventIndex:
    """Read the event index through SPARQL now and keep it beside the client ('ckb index')."""
    under = stamp(kb)
    index = _read(kb)
    if stamp(kb) == under:  # no write through the KB meanwhile: the file names the right state
        eventfile.save(kb, index, eventfile.rows_of(index), under)
    return index


def stamp(kb: Any) -> str:
    """What the kept file must be stamped with to be the store's as it is now."""
    return f"remote {eventbuild.VERSION} {registry.digest(kb.backend.counts())}"


class IndexBuilding(KBError):
    """The event index is being read from the server: a 503 with a time to come back."""

    status = 503


@dataclass
class _Job:
    done: threading.Event = field(default_factory=threading.Event)
    index: EventIndex | None = None
    error: KBError | None = None


_jobs: dict[tuple[int, str], _Job] = {}
_jobs_lock = threading.Lock()


def _start(kb: Any, under: str) -> _Job:
    """The reading of ``kb``'s index under ``under``, started now unless under way (one per state)."""
    key = (id(kb.backend), under)
    with _jobs_lock:
        job = _jobs.get(key)
        if job is not None and not (job.done.is_set() and job.index is None):
            return job
        job = _jobs[key] = _Job()
        for old in [k for k, j in _jobs.items() if k[0] == key[0] and k != key and j.done.is_set()]:
            del _jobs[old]  # earlier states' indexes: the memo and the file hold what is current
    threading.Thread(target=_run, args=(kb, job, under), daemon=True, name="ckb-remote-event-index").start()
    return job


def _run(kb: Any, job: _Job, under: str) -> None:
    try:
        job.index = eventfile.load(kb, under, None) or build(kb)
    except KBError as err:
        job.error = err
    except Exception as err:  # the store closed meanwhile: said on the next visit
        log.info("remote event index not built: %s", err)
    finally:
        job.done.set()


def _read(kb: Any) -> EventIndex:
    graphs = sorted(g for g in kb.graphs() if g != GRAPH_INFERRED)
    fetched: dict[str, list[ox.Quad]] = {}
    by_subject: dict[str, dict[Any, list[ox.Quad]]] = {}

    def by_predicate(pred: str) -> list[ox.Quad]:
        if pred not in fetched:
            # Every row: the KB's row cap for pages (10,000) cut the reading at 1M triples to 12
            # events of 16,497. The VALUES block names the KB's own graphs, so no dataset is sent.
            select = (f"SELECT ?s ?o ?g WHERE {{ VALUES ?g {{ {values_block(graphs)} }} "
                      f"GRAPH ?g {{ ?s {iri_ref(pred)} ?o }} }}")
            p = ox.NamedNode(pred)
            if hasattr(kb.backend, "solutions"):  # a server's answer read as the engine's terms
                fetched[pred] = [ox.Quad(r["s"], p, r["o"], r["g"])
                                 for r in kb.backend.solutions(select, READ_TIMEOUT)]
                _whole(kb, select, pred, len(fetched[pred]))
            else:
                found = kb.query(select, inferred=False, limit=ROWS, timeout=READ_TIMEOUT)
                if found.truncated:
                    raise KBError(f"the event index needs more than {ROWS:,} rows of <{pred}>")
                fetched[pred] = [ox.Quad(to_ox(r["s"]), p, to_ox(r["o"]), ox.NamedNode(str(r["g"])))
                                 for r in found.rows]
        return fetched[pred]

    def quads(s: Any, p: Any, o: Any) -> Iterator[ox.Quad]:
        # every call names its predicate (eventbuild reads by predicate): filter that one's quads
        if s is None:
            return (q for q in by_predicate(p.value) if o is None or q.object == o)
        if p.value not in by_subject:
            index: dict[Any, list[ox.Quad]] = defaultdict(list)
            for q in by_predicate(p.value):
                index[q.subject].append(q)
            by_subject[p.value] = index
        return (q for q in by_subject[p.value].get(s, ()) if o is None or q.object == o)

    @contextmanager
    def step() -> Iterator[Any]:
        yield quads

    def scan(pred: str, subjects: Any) -> dict[str, list[Any]]:
        out: dict[str, list[Any]] = defaultdict(list)
        for q in by_predicate(pred):
            if q.subject.value in subjects:
                out[q.subject.value].append(q.object)
        return out

    return eventbuild._read(None, step, scan)


def _whole(kb: Any, select: str, pred: str, rows: int) -> None:
    """Refuse an answer Virtuoso cut at its ResultSetMaxRows: it says so only in a header
    (X-SPARQL-MaxRows), so its own count, answered from its index, is compared."""
    if getattr(kb.backend, "engine", None) is not protocol.VIRTUOSO:
        return
    count = select.replace("SELECT ?s ?o ?g", "SELECT (COUNT(*) AS ?n)", 1)
    total = sum(int(r["n"].value) for r in kb.backend.solutions(count, READ_TIMEOUT))
    if total != rows:
        raise KBError(f"Virtuoso answered {rows:,} of the {total:,} rows of <{pred}> the event index "
                      "needs: raise ResultSetMaxRows in virtuoso.ini ([SPARQL]) above that")
