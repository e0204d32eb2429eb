"""The event index's rows read from the store by predicate scans (kb.derived.eventbuild keeps
and hands out what this reads).

What a row holds is what kb.views.events' SPARQL computes (tests hold the two to the same
rows): the events are the IRIs typed, in a graph other than the inferred one, with a class
below ckb:Event; each value is read from those graphs alone. The store is read by predicate
scans (a 300,000-event import is about twenty million triples; a lookup per event and
property would take minutes), each scan under the read lock, and dropped if a write came in.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pyoxigraph as ox

from kb.derived.eventfile import make
from kb.derived.events import EventIndex
from kb.namespaces import CKB, GRAPH_DATA, GRAPH_INFERRED, GRAPH_NAMES, IMPORT_BASE

log = logging.getLogger("ckb.eventindex")
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
POS = "http://www.w3.org/2003/01/geo/wgs84_pos#"
TYPE, SUBCLASS, LABEL = RDF + "type", RDFS + "subClassOf", RDFS + "label"
# A participation's side: its ckb:side, else the side its role names (kb.views.sides)
ROLE_SIDE = {str(CKB.SideA): str(CKB.SideA), str(CKB.Actor1): str(CKB.SideA),
             str(CKB.SideB): str(CKB.SideB), str(CKB.Actor2): str(CKB.SideB),
             str(CKB.Attacker): str(CKB.Attacker), str(CKB.TargetedParty): str(CKB.TargetedParty)}
PLACE_KINDS = {"country": str(CKB.Country), "admin1": str(CKB.Province), "admin2": str(CKB.Region)}
GRAPH_LABELS = {GRAPH_DATA: "bundled article and data"}


class _Moved(Exception):
    """A write came in between two scans: the rows would not be this store's."""


def graphs_read(kb: Any) -> list[str]:
    """The graphs events are read from: every named graph but the inferred one, sorted."""
    return sorted(g for g in kb.graphs() if g != GRAPH_INFERRED)


def read(kb: Any) -> EventIndex | None:
    """The event index of the store as it is now, read by scans; None if a write came in."""
    backend = kb.backend
    generation = kb.generation()
    names = frozenset(graphs_read(kb))

    @contextmanager
    def step() -> Iterator[Any]:
        with backend.reading() as store:
            if kb.generation() != generation:
                raise _Moved
            yield lambda s, p, o: (q for q in store.quads_for_pattern(s, p, o, None)
                                   if isinstance(q.graph_name, ox.NamedNode) and q.graph_name.value in names)

    def scan(pred: str, subjects: Any) -> dict[str, list[Any]]:
        out: dict[str, list[Any]] = defaultdict(list)
        started = time.monotonic()
        with step() as quads:
            for q in quads(None, ox.NamedNode(pred), None):
                if q.subject.value in subjects:
                    out[q.subject.value].append(q.object)
        log.debug("event index: %s scanned in %.1f s", pred, time.monotonic() - started)
        return out

    try:
        return _read(generation, step, scan)
    except _Moved:
        return None


def _read(generation: int | None, step: Any, scan: Any) -> EventIndex:
    with step() as quads:
        below: dict[str, set[str]] = defaultdict(set)  # class -> its direct subclasses
        above: dict[str, set[str]] = defaultdict(set)
        for q in quads(None, ox.NamedNode(SUBCLASS), None):
            if isinstance(q.subject, ox.NamedNode) and isinstance(q.object, ox.NamedNode):
                below[q.object.value].add(q.subject.value)
                above[q.subject.value].add(q.object.value)
        classes = _closure(str(CKB.Event), below)
        types: dict[str, set[str]] = defaultdict(set)
        graphs: dict[str, set[str]] = defaultdict(set)
        for cls in sorted(classes):
            for q in quads(None, ox.NamedNode(TYPE), ox.NamedNode(cls)):
                if isinstance(q.subject, ox.NamedNode):
                    types[q.subject.value].add(cls)
                    graphs[q.subject.value].add(q.graph_name.value)
    events = set(types)
    strict = {c: _closure(c, above) - {c} for c in classes}  # rdfs:subClassOf+ of each class

    def specific(ts: set[str]) -> list[str]:
        return [t for t in ts if not any(t2 != t and t in strict.get(t2, ()) for t2 in ts)]

    def most_specific(ts: set[str]) -> str:
        return min(specific(ts), default="")


    def lexical(pred: str, subjects: Any = events) -> dict[str, list[str]]:
        return {s: [o.value for o in os_] for s, os_ in scan(pred, subjects).items()}

    earliest = {s: min(x[:10] for x in v) for s, v in lexical(str(CKB.earliestDate)).items()}
    latest = {s: max(x[:10] for x in v) for s, v in lexical(str(CKB.latestDate)).items()}
    precision = {s: min(v) for s, v in lexical(str(CKB.datePrecision)).items()}
    status = {s: min(v) for s, v in lexical(str(CKB.eventStatus)).items()}
    figures = {name: {s: min(int(x) for x in v if _integer(x)) for s, v in
                      lexical(str(CKB[name])).items() if any(_integer(x) for x in v)}
               for name in ("fatalitiesLow", "fatalitiesBest", "fatalitiesHigh")}
    every_place = lexical(str(CKB.place))
    place = {s: min(v) for s, v in every_place.items()}
    # participants: ckb:participant (no side) and each participation's actors and sides
    actors: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for ev, found in lexical(str(CKB.participant)).items():
        actors[ev].update((a, "") for a in found)
    parts = lexical(str(CKB.hasParticipation))
    owner = {p: ev for ev, ps in parts.items() for p in ps}
    who = lexical(str(CKB.participationActor), owner)
    sides = lexical(str(CKB.side), owner)
    roles = lexical(str(CKB.participantRole), owner)
    for p, ev in sorted(owner.items()):
        side = set(sides.get(p, ())) or {ROLE_SIDE[r] for r in roles.get(p, ()) if r in ROLE_SIDE}
        for actor in who.get(p, ()):
            actors[ev].update((actor, s) for s in side) if side else actors[ev].add((actor, ""))
    for ev, pairs in actors.items():  # an actor with a side needs no side-less entry beside it
        sided = {a for a, s in pairs if s}
        actors[ev] = {(a, s) for a, s in pairs if s or a not in sided}
    # places: the event's place, and every place it is part of (ckb:partOfPlace*)
    points = set(place.values())
    lat = lexical(POS + "lat", points)
    lon = lexical(POS + "long", points)
    part_of: dict[str, list[str]] = {}
    frontier = set(points)
    while frontier:
        found = lexical(str(CKB.partOfPlace), frontier)
        part_of.update(found)
        frontier = {p for ps in found.values() for p in ps} - set(part_of)
    part_sets = {k: set(v) for k, v in part_of.items()}
    within = {ev: set().union(*(_closure(p, part_sets) for p in ps)) for ev, ps in every_place.items()}
    places = set().union(*within.values()) if within else set()
    # which places are countries, provinces, districts: three scans, not a lookup per place
    kinds: dict[str, set[str]] = defaultdict(set)
    with step() as quads:
        for cls in PLACE_KINDS.values():
            for q in quads(None, ox.NamedNode(TYPE), ox.NamedNode(cls)):
                if q.subject.value in places:
                    kinds[q.subject.value].add(cls)
    kind_of = {p: name for p, ts in kinds.items() for name, cls in sorted(PLACE_KINDS.items(), reverse=True)
               if cls in ts}  # a place typed two ways counts as the broader (country first)
    # every label wanted, in one scan of rdfs:label (a lookup per place reads a block each)
    named = (events | places | set(classes) | set(precision.values()) | set(status.values())
             | {x for pairs in actors.values() for a, s in pairs for x in (a, s) if x})
    found_labels = {s: [o for o in os_ if isinstance(o, ox.Literal)] for s, os_ in scan(LABEL, named).items()}
    labels = {iri: _best_label(found) for iri, found in found_labels.items() if found}
    every = {iri: [o.value for o in found] for iri, found in found_labels.items()}
    rows = []
    for ev in sorted(events):
        inside = within.get(ev, set())
        admin = {name: min((p for p in inside if cls in kinds.get(p, ())), default="")
                 for name, cls in PLACE_KINDS.items()}
        pt = place.get(ev, "")
        rows.append(dict(
            iri=ev, label=min(every.get(ev, []), default=""), graph=min(graphs[ev]),
            start=earliest.get(ev, ""), end=latest.get(ev, ""), precision=precision.get(ev, ""), place=pt,
            lat=_number(min(lat.get(pt, ["?"]))), lon=_number(min(lon.get(pt, ["?"]))),
            type=most_specific(types[ev]), status=status.get(ev, ""),
            low=figures["fatalitiesLow"].get(ev), best=figures["fatalitiesBest"].get(ev),
            high=figures["fatalitiesHigh"].get(ev), actors=tuple(sorted(actors.get(ev, ()))),
            graphs=tuple(sorted(graphs[ev])), within=tuple(sorted(inside)), **admin,
            # sort keys as the SPARQL's ORDER BY: the least of every label of every such value
            type_key=min((k for t in specific(types[ev]) for k in every.get(t, ())), default=None),
            country_key=min((k for p in inside if str(CKB.Country) in kinds.get(p, ())
                             for k in every.get(p, ())), default=None)))
    labels = {k: v for k, v in labels.items() if k not in events}  # rows hold their own
    labels.update({g: graph_label(g) for r in rows for g in r["graphs"]})
    return make(generation, rows, labels, {p: k for p, k in kind_of.items() if p in places})


def graph_label(graph: str) -> str:
    """A graph in words: the bundle's, or the import's name."""
    if graph in GRAPH_LABELS:
        return GRAPH_LABELS[graph]
    short = {v: k for k, v in GRAPH_NAMES.items()}.get(graph)
    if short:
        return short
    if not graph.startswith(IMPORT_BASE):
        return graph
    name = graph[len(IMPORT_BASE):]
    for prefix, title in (("ucdp-ged-", "UCDP GED"), ("acled-", "ACLED"), ("rdf-", "RDF")):
        if name.startswith(prefix):
            return f"{title} import {name[len(prefix):]}"
    return f"import {name}"


def _best_label(found: list[ox.Literal]) -> str:
    """English first, then untagged, then any; the least among those."""
    if not found:
        return ""
    # English first, then untagged, then any: as the pages name things (kb.views.naming)
    return min(found, key=lambda t: ({"en": 0, None: 1}.get(t.language, 2), t.value)).value


def _closure(start: str, edges: dict[str, set[str]]) -> set[str]:
    seen, todo = {start}, [start]
    while todo:
        for nxt in edges.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def _integer(text: str) -> bool:
    return text.lstrip("-").isdigit()


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None
