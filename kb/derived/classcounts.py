"""Instances per class for the home page, counted per graph and kept as derived state.

The home page shows how many things of each of the KB's classes the data holds: a COUNT(DISTINCT)
per class over every typed subject, whose cost grows with the KB (1.2 s at 1M triples on
Virtuoso, past 30 s at 10M on Oxigraph server). An embedded store counts once per store
generation (kb.derived.memo). A SPARQL server's KB counts off the request path: by
'ckb --endpoint … index', or on a background thread of 'ckb serve', one graph at a time, and
keeps the answer in the KB's sidecar on this machine (kb.derived.sidecar), stamped with the
graph registry's digest (kb.store.registry). A page reads the file; when the registry has moved
on since it was counted, the page shows the older count, says so, and a recount starts.

Counting graph by graph gives the same answer as one count over the union: the biggest graph's
subjects are counted as they are, each further graph's only where no graph before it types the
same subject with the same class (FILTER NOT EXISTS, an index probe per subject).
"""

from __future__ import annotations

import json
import logging
import tempfile
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kb.derived import sidecar
from kb.namespaces import CKB, GRAPH_INFERRED, GRAPH_ONTOLOGY, GRAPH_SHAPES
from kb.store import registry
from kb.terms import iri_ref

log = logging.getLogger("ckb.classcounts")
FILE = "class-counts.json"
VERSION = "1"  # bump when what is counted changes: older files are then stale
SHOWN = 16  # classes on the home page
# The model's own machinery (a participation, a source statement, a quote, a reified fact) is
# not what a reader looks for: the counts name actors, events, places, claims and documents.
MACHINERY = tuple(str(CKB[c]) for c in ("Participation", "SourceStatement", "Quote", "FactStatement"))
_NOT_COUNTED = (GRAPH_ONTOLOGY, GRAPH_SHAPES, GRAPH_INFERRED)


@dataclass(frozen=True)
class ClassCounts:
    """Instances per class, largest first, and what they were counted from."""

    counts: list[tuple[str, int]]  # (class IRI, instances), at most SHOWN
    counted: str  # when (ISO 8601, UTC)
    current: bool  # counted from the store as the registry says it is now


def counted_graphs(graphs: dict[str, int]) -> list[str]:
    """The graphs whose asserted types are counted (the data's and every import's), biggest first."""
    return sorted((g for g in graphs if g not in _NOT_COUNTED), key=lambda g: (-graphs[g], g))


def _filters(var: str = "?t") -> str:
    return (f'FILTER(STRSTARTS(STR({var}), "{CKB}")) '
            f'FILTER({var} NOT IN ({", ".join(iri_ref(c) for c in MACHINERY)}))')


def whole_query(graphs: Iterable[str]) -> str:
    """The count over the union of ``graphs`` in one query (what an embedded store runs)."""
    return (f"SELECT ?t (COUNT(DISTINCT ?s) AS ?n) WHERE {{ VALUES ?g {{ {' '.join(map(iri_ref, graphs))} }} "
            f"GRAPH ?g {{ ?s a ?t }} {_filters()} }} GROUP BY ?t")


def graph_query(graph: str, before: list[str]) -> str:
    """The count of one graph's subjects per class that no graph of ``before`` types alike."""
    seen = (f"FILTER NOT EXISTS {{ VALUES ?h {{ {' '.join(map(iri_ref, before))} }} GRAPH ?h {{ ?s a ?t }} }}"
            if before else "")
    return (f"SELECT ?t (COUNT(DISTINCT ?s) AS ?n) WHERE {{ GRAPH {iri_ref(graph)} {{ ?s a ?t }} "
            f"{_filters()} {seen} }} GROUP BY ?t")


def top(found: dict[str, int]) -> list[tuple[str, int]]:
    """The SHOWN largest classes, ties by IRI (as the one-query form's ORDER BY DESC(?n) ?t)."""
    return sorted(((t, n) for t, n in found.items() if n > 0), key=lambda c: (-c[1], c[0]))[:SHOWN]


def count(kb: Any, timeout: float = 600) -> list[tuple[str, int]]:
    """Count now, one query per graph (the biggest first), each within ``timeout`` seconds."""
    graphs = counted_graphs(kb.graphs())
    found: dict[str, int] = {}
    for n, graph in enumerate(graphs):
        for r in kb.query(graph_query(graph, graphs[:n]), timeout=timeout, inferred=False).rows:
            found[str(r["t"])] = found.get(str(r["t"]), 0) + int(r["n"].toPython())
    return top(found)


def stamp(kb: Any) -> str:
    """What a count of the store as it is now is stamped with: the registry's digest."""
    return f"{VERSION} {registry.digest(kb.backend.counts())}"


def save(kb: Any, counts: list[tuple[str, int]], under: str) -> None:
    """Keep ``counts`` in the KB's sidecar, stamped ``under`` (written aside, then renamed)."""
    room = sidecar.of(kb)
    if room is None:
        return
    body = json.dumps({"counted": registry.now(), "counts": counts}).encode("utf-8")
    with tempfile.TemporaryDirectory(prefix="ckb-class-counts-") as tmp:
        part = Path(tmp) / FILE
        part.write_bytes(body)
        room.write(FILE, under, [part])


def load(kb: Any) -> tuple[str, ClassCounts] | None:
    """The kept counts and their stamp; None if there are none (or the file is unreadable)."""
    room = sidecar.of(kb)
    if room is None:
        return None
    with room.reading(FILE) as found:
        if found is None:
            return None
        under, fh = found
        try:
            held = json.loads(fh.read().decode("utf-8"))
            counts = [(str(t), int(n)) for t, n in held["counts"]]
            return under, ClassCounts(counts, str(held["counted"]), False)
        except (ValueError, KeyError, TypeError) as err:  # a damaged file: counted again
            log.info("class counts not read: %s", err)
            return None


def build(kb: Any, timeout: float = 600) -> ClassCounts:
    """Count now and keep the answer (what 'ckb --endpoint … index' runs)."""
    under = stamp(kb)
    counts = count(kb, timeout)
    if stamp(kb) == under:  # no write meanwhile: the count is the store's as stamped
        save(kb, counts, under)
    return ClassCounts(counts, registry.now(), True)


# -- on the request path ------------------------------------------------------------------

_running: dict[int, threading.Thread] = {}
_lock = threading.Lock()


def read(kb: Any, wait: float = 2.0) -> ClassCounts | None:
    """The counts of a SPARQL server's KB for a page: the kept ones if current; else a recount
    starts in the background, the page waits up to ``wait`` seconds for it (a small KB is
    counted by then), and otherwise gets the older counts (``current`` False) or None."""
    kept = load(kb)
    if kept is not None and kept[0] == stamp(kb):
        return ClassCounts(kept[1].counts, kept[1].counted, True)
    worker = _recount(kb)
    worker.join(wait)
    if not worker.is_alive():
        again = load(kb)
        if again is not None and again[0] == stamp(kb):
            return ClassCounts(again[1].counts, again[1].counted, True)
    return kept[1] if kept is not None else None


def _recount(kb: Any) -> threading.Thread:
    """The background recount of ``kb``'s store (one at a time per store)."""
    key = id(kb.backend)
    with _lock:
        worker = _running.get(key)
        if worker is None or not worker.is_alive():
            worker = _running[key] = threading.Thread(target=_build_quietly, args=(kb,), daemon=True,
                                                      name="ckb-class-counts")
            worker.start()
    return worker


def _build_quietly(kb: Any) -> None:
    start = time.monotonic()
    try:
        build(kb)
        log.info("class counts: counted in %.1f s", time.monotonic() - start)
    except Exception as err:  # the page says the counts are old; the log says why
        log.warning("class counts not counted: %s", err)
