"""The event index of a SPARQL server's KB: read through SPARQL, kept in memory and beside the client.

kb.derived.eventbuild reads an embedded store by predicate scans and keeps the index for the
store's generation. A server's store has no scans, and others may write to it: here each
predicate the same reading code (eventbuild._read) asks for is fetched by SELECTs over the KB's
graphs (the inferred one aside, as there), in pages (rdf:type class by class), so the rows,
and the pages built from them, are those of an embedded store with the same data. The index
is kept in memory while the graph registry (kb.store.registry) is as it was read, which every
write through the KB changes, and in a file beside the client (kb.derived.eventfile, in the
sidecar of kb.derived.sidecar) that 'ckb --endpoint … index' writes ahead: at 10M triples the
reading takes minutes, a page none.
"""

from __future__ import annotations

import logging
import sqlite3
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pyoxigraph as ox

from kb.derived import background, eventbuild, eventfile
from kb.derived.eventread import TYPE
from kb.derived.events import EventIndex
from kb.derived.memo import memo
from kb.errors import KBError
from kb.namespaces import GRAPH_INFERRED
from kb.store import protocol, registry
from kb.terms import iri_ref, to_ox
from kb.views.naming import values_block

log = logging.getLogger("ckb.eventindex")
ROWS = 50_000_000  # rows read per predicate at most from an embedded store (a KB's own cap is for pages)
# Rows per request to a server: well under the 2^20 (1,048,576) rows Virtuoso answers at most over
# HTTP (at 10M triples rdf:type alone has 1,961,976); a test lowers it to read a small KB in pages.
PAGE = 500_000
READ_TIMEOUT = 600.0  # seconds per predicate: the reading runs off the request path
WAIT_SECONDS = 20.0  # a page waits this long for a reading under way (below ckb serve's 30 s)
# One reading per state of the graph registry (the memo it is held in); one that failed is not
# tried again before the next write through the KB: at 10M triples each reading takes minutes.
JOB = background.Job("index", "ckb-remote-event-index",
                     (KBError, OSError, RuntimeError, ValueError, sqlite3.Error), log,
                     "remote event index not built: %s", retry=False)


def read(kb: Any, wait: float = WAIT_SECONDS) -> EventIndex:
    """The event index of ``kb`` as it is now: from memory (kb.derived.memo REMOTE, per state of
    the graph registry), else from the file 'ckb --endpoint … index' keeps beside the client,
    else read through SPARQL; either on a background thread (one per store state), for which a
    page waits up to ``wait`` seconds before answering 503 (IndexBuilding) while it goes on. A
    reading that failed is not started again before the store's next state (IndexFailed)."""
    held = memo(kb, "remote-event-index")
    if held is None or not hasattr(getattr(kb, "backend", None), "counts"):  # no registry: read now
        if held is not None and "index" in held:
            return held["index"]
        index = _read(kb)
        if held is not None:
            held["index"] = index
        return index
    under = stamp(kb)
    index = background.ready(held, JOB, lambda: eventfile.load(kb, under, None) or build(kb), within=wait)
    if index is not None:
        return index
    failed = background.failure(held)
    if failed is not None:
        raise IndexFailed(f"the event index could not be read from the SPARQL server: {failed}. It is "
                          "read again after the next write through the KB (or a restart of ckb serve)")
    raise IndexBuilding("the event index is being built from the store; try again in a few seconds")


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


class IndexFailed(KBError):
    """The event index could not be read from the server: a 503 that says why."""

    status = 503


def _read(kb: Any) -> EventIndex:
    graphs = sorted(g for g in kb.graphs() if g != GRAPH_INFERRED)
    fetched: dict[tuple[str, str | None], list[ox.Quad]] = {}
    by_subject: dict[str, dict[Any, list[ox.Quad]]] = {}

    def rows(pred: str, obj: str | None = None) -> list[ox.Quad]:
        if (pred, obj) not in fetched:
            fetched[pred, obj] = list(_fetch(kb, graphs, pred, obj))
        return fetched[pred, obj]

    def quads(s: Any, p: Any, o: Any) -> Iterator[ox.Quad]:
        # every call names its predicate (eventbuild reads by predicate): filter that one's quads
        if s is None and p.value == TYPE and isinstance(o, ox.NamedNode):
            # rdf:type is read class by class, as eventbuild asks (the event classes, then the
            # place kinds): at 10M triples all of rdf:type is 1,961,976 rows, mostly not events
            return iter(rows(TYPE, o.value))
        if s is None:
            return (q for q in rows(p.value) if o is None or q.object == o)
        if p.value not in by_subject:
            index: dict[Any, list[ox.Quad]] = defaultdict(list)
            for q in rows(p.value):
                index[q.subject].append(q)
            by_subject[p.value] = index
        return (q for q in by_subject[p.value].get(s, ()) if o is None or q.object == o)

    @contextmanager
    def step() -> Iterator[Any]:
        yield quads

    def scan(pred: str, subjects: Any) -> dict[str, list[Any]]:
        # streamed, not kept: at 10M triples the predicates scanned are answers of 50-120 MB each
        out: dict[str, list[Any]] = defaultdict(list)
        for q in _fetch(kb, graphs, pred, None):
            if q.subject.value in subjects:
                out[q.subject.value].append(q.object)
        return out

    return eventbuild._read(None, step, scan)


def _fetch(kb: Any, graphs: list[str], pred: str, obj: str | None) -> Iterator[ox.Quad]:
    """Every quad of ``pred`` (with the object ``obj``, if given) in ``graphs``, page by page."""
    p = ox.NamedNode(pred)
    # The VALUES block names the KB's own graphs, so no dataset is sent; a bound object is
    # written into the pattern (the servers' own index on it), not filtered.
    pattern = (f"VALUES ?g {{ {values_block(graphs)} }} "
               f"GRAPH ?g {{ ?s {iri_ref(pred)} {iri_ref(obj) if obj else '?o'} }}")
    names = "?s ?g" if obj else "?s ?o ?g"
    if hasattr(kb.backend, "solutions"):  # a server's answer read as the engine's terms
        for r in _paged(kb, pattern, names, f"<{pred}>" + (f" <{obj}>" if obj else "")):
            yield ox.Quad(r["s"], p, ox.NamedNode(obj) if obj else r["o"], r["g"])
        return
    # Every row: the KB's row cap for pages (10,000) cut the reading at 1M triples to 12 events of 16,497.
    select = f"SELECT {names} WHERE {{ {pattern} }}"
    answer = kb.query(select, inferred=False, limit=ROWS, timeout=READ_TIMEOUT)
    if answer.truncated:
        raise KBError(f"the event index needs more than {ROWS:,} rows of <{pred}>")
    for r in answer.rows:
        o = ox.NamedNode(obj) if obj else to_ox(r["o"])
        yield ox.Quad(to_ox(r["s"]), p, o, ox.NamedNode(str(r["g"])))


def _paged(kb: Any, pattern: str, names: str, what: str) -> Iterator[Any]:
    """The solutions of ``pattern``, PAGE rows per request: Virtuoso cuts every HTTP answer at
    2^20 rows whatever its ResultSetMaxRows (openlink/virtuoso-opensource#700). Where Virtuoso
    counts them from its index first (elsewhere: where a first page comes back short), rows that
    fit one page are read unordered (no sort); Virtuoso's rows read are compared with its count:
    it says it cut an answer only in a header."""
    total = None
    if getattr(kb.backend, "engine", None) is protocol.VIRTUOSO:
        count = f"SELECT (COUNT(*) AS ?n) WHERE {{ {pattern} }}"
        total = sum(int(r["n"].value) for r in kb.backend.solutions(count, READ_TIMEOUT))
    read, short, first = 0, False, None
    if total is None:  # no count: a first page unordered, whole if shorter than asked for
        first = list(kb.backend.solutions(f"SELECT {names} WHERE {{ {pattern} }} LIMIT {PAGE}", READ_TIMEOUT))
    if first is not None and len(first) < PAGE:
        yield from first
    elif total is not None and total <= PAGE:
        for r in kb.backend.solutions(f"SELECT {names} WHERE {{ {pattern} }}", READ_TIMEOUT):
            read += 1
            yield r
        short = read < total
    else:  # pages in one total order (every variable), so that none is read twice or skipped
        ordered = f"SELECT {names} WHERE {{ {pattern} }} ORDER BY {names}"
        if total is not None:  # Virtuoso sorts at most MaxSortedTopRows (10,000) for a LIMIT
            # (SR353); a sorted subquery paged outside it is its own advice, and has no such cap
            ordered = f"SELECT {names} WHERE {{ {{ {ordered} }} }}"
        while True:
            select = f"{ordered} LIMIT {PAGE} OFFSET {read}"
            n = 0
            for r in kb.backend.solutions(select, READ_TIMEOUT):
                n += 1
                yield r
            read += n
            short = total is not None and n < min(PAGE, total - read + n)
            if n < PAGE:
                break
    if total is not None and read != total:
        raise KBError(_cut(what, read, total, short))


def _cut(what: str, rows: int, total: int, short: bool) -> str:
    """Why Virtuoso's answer does not hold the rows it counted, in words."""
    said = f"Virtuoso answered {rows:,} of the {total:,} rows of {what} the event index needs"
    if short:  # a page shorter than asked for and than the rows left: the server's own cap
        return (f"{said}: it cut an answer of at most {PAGE:,} rows; set ResultSetMaxRows in "
                f"virtuoso.ini ([SPARQL]) to {PAGE:,} or more")
    return f"{said}: the rows changed while they were read (a write meanwhile); read again"
