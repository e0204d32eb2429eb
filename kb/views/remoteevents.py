"""The event index of a store that keeps none (a SPARQL server), read through SPARQL on each request.

kb.derived.eventbuild reads an embedded store by predicate scans and keeps the index for the
store's generation. A server's store has no scans, and others may write to it: here each
predicate the same reading code (eventbuild._read) asks for is fetched by one SELECT over the
KB's graphs (the inferred one aside, as there), so the rows, and the pages built from them, are
those of an embedded store with the same data. The index is kept in memory while the graph
registry (kb.store.registry) is as it was read, which every write through the KB changes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pyoxigraph as ox

from kb.derived import eventbuild
from kb.derived.events import EventIndex
from kb.derived.memo import memo
from kb.namespaces import GRAPH_INFERRED
from kb.terms import iri_ref, to_ox
from kb.views.naming import values_block


def read(kb: Any) -> EventIndex:
    """The event index of ``kb`` as it is now, read through SPARQL once per state of the graph
    registry (kb.derived.memo REMOTE: a write through the KB starts afresh)."""
    held = memo(kb, "remote-event-index")
    if held is not None and "index" in held:
        return held["index"]
    index = _read(kb)
    if held is not None:
        held["index"] = index
    return index


def _read(kb: Any) -> EventIndex:
    graphs = sorted(g for g in kb.graphs() if g != GRAPH_INFERRED)
    fetched: dict[str, list[ox.Quad]] = {}
    by_subject: dict[str, dict[Any, list[ox.Quad]]] = {}

    def by_predicate(pred: str) -> list[ox.Quad]:
        if pred not in fetched:
            rows = kb.query(f"SELECT ?s ?o ?g WHERE {{ VALUES ?g {{ {values_block(graphs)} }} "
                            f"GRAPH ?g {{ ?s {iri_ref(pred)} ?o }} }}", inferred=False).rows
            p = ox.NamedNode(pred)
            fetched[pred] = [ox.Quad(to_ox(r["s"]), p, to_ox(r["o"]), ox.NamedNode(str(r["g"])))
                             for r in rows]
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
