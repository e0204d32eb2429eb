"""Key facts of a place page: the events within it and its sub-places, counted by type and by
year, the latest of them listed; who controls it or a part of it; what it lies within.

Everything is read by bounded lookups from the place down (ckb:partOfPlace backwards, then
ckb:place backwards): a country of a 300,000-event import costs at most MAX_PLACES and
MAX_EVENTS lookups, and the page says "at least" when a cap cut the count.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from kb.namespaces import CKB
from kb.views.browse import labels
from kb.views.eventfacts import PLACE_DEPTH
from kb.views.look import Look, looking
from kb.views.lookups import RDF_TYPE

# A lookup on the on-disk store costs ~150 us: the caps keep a place page near 1,500 lookups.
MAX_PLACES = 400  # sub-places followed below one place
MAX_EVENTS = 10_000  # events counted within one place (one lookup per place reads many)
MAX_DETAILED = 400  # events whose date and type are read (for the histogram and the type counts)
SHOWN = 15  # events listed on the page (the latest first)
SUB_SHOWN = 20  # sub-places listed


@dataclass
class PlaceEvent:
    """One event within the place, as the list shows it."""

    iri: str
    label: str = ""
    date: str = ""  # the earliest date, or the source's words
    place: str = ""  # the (sub-)place it is located at
    place_label: str = ""
    kind: str = ""


@dataclass
class PlaceFacts:
    """What a place page leads with."""

    total: int  # events found within the place and its sub-places
    at_least: bool  # the count was cut at MAX_EVENTS (or the sub-places at MAX_PLACES)
    complete: bool  # every counted event was dated and typed: the histogram and type counts are whole
    events: list[PlaceEvent]
    by_type: list[tuple[str, int]]
    by_year: list[tuple[str, int]]  # (year, count), oldest first; "undated" last
    peak: int
    within: list[tuple[str, str]]  # the places containing this one, innermost first
    subplaces: list[tuple[str, str, int]]  # (iri, label, events there or below)
    subplace_total: int
    controllers: list[tuple[str, str, str, str]] = field(default_factory=list)  # actor, label, place, label


def is_place(look: Look, types: list[str]) -> bool:
    """Whether the types make the thing a place."""
    return look.first_of(types, str(CKB.Place))


def place_facts(kb: Any, iri: str) -> PlaceFacts | None:
    """The key facts of the place ``iri``, or None when it is not a place."""
    with looking(kb) as look:
        if not is_place(look, look.types(iri)):
            return None
        tree, cut = _below(look, iri)
        events: dict[str, str] = {}  # event -> the place it is located at
        look.behind([str(CKB.place)], tree)  # remotely one query per chunk of places (if not too many)
        for place in tree:
            found, more = look.subjects(str(CKB.place), place, MAX_EVENTS - len(events) + 1)
            for ev in found:
                events.setdefault(ev, place)
            if len(events) >= MAX_EVENTS or more:
                cut = True
                break
        complete = len(events) <= MAX_DETAILED
        # beyond MAX_DETAILED only the events listed are read: no histogram of a partial sample
        detailed = list(events) if complete else list(events)[:SHOWN]
        look.ahead(detailed, [str(CKB.earliestDate), str(CKB.timeText), RDF_TYPE])
        dated = {ev: _date(look, ev) for ev in detailed}
        kinds = {ev: sorted(look.iris(ev, RDF_TYPE, 5))[:1] for ev in detailed}
        chain = [iri]
        while len(chain) < PLACE_DEPTH:
            up = [p for p in look.iris(chain[-1], str(CKB.partOfPlace), 5) if p not in chain]
            if not up:
                break
            chain.append(sorted(up)[0])
        controllers = _controllers(look, list(tree)[:200])
    latest = sorted(dated, key=lambda ev: (dated[ev][0], ev), reverse=True)[:SHOWN]
    counts = Counter(tree[events[ev]] for ev in events)  # by child of the place
    children = sorted((p for p, child in tree.items() if child == p and p != iri),
                      key=lambda p: (-counts[p], p))
    type_count = Counter(k[0] for k in kinds.values() if k) if complete else Counter()
    years = Counter(d[0][:4] if d[0] else "undated" for d in dated.values()) if complete else Counter()
    names = labels(kb, {*latest, *(events[e] for e in latest), *type_count, *chain,
                        *children[:SUB_SHOWN], *(x for c in controllers for x in (c[0], c[1]))})
    shown = [PlaceEvent(ev, names[ev], dated[ev][0][:10] or dated[ev][1], events[ev],
                        names[events[ev]], names.get(kinds[ev][0], "") if kinds[ev] else "")
             for ev in latest]
    by_year = sorted((y, n) for y, n in years.items() if y != "undated")
    by_year += [("undated", years["undated"])] if years.get("undated") else []
    return PlaceFacts(
        total=len(events), at_least=cut, complete=complete, events=shown,
        by_type=sorted(((names[t], n) for t, n in type_count.items()), key=lambda x: (-x[1], x[0])),
        by_year=by_year, peak=max((n for _y, n in by_year), default=0),
        within=[(p, names[p]) for p in chain[1:]],
        subplaces=[(p, names[p], counts[p]) for p in children[:SUB_SHOWN]],
        subplace_total=len(children),
        controllers=[(a, names[a], p, names[p]) for a, p in controllers])


def _below(look: Look, iri: str) -> tuple[dict[str, str], bool]:
    """The place and every place within it, breadth-first, each mapped to the child of ``iri``
    it lies under (the place itself to itself); and whether MAX_PLACES cut the walk."""
    tree = {iri: iri}
    frontier = [iri]
    while frontier:
        nxt: list[str] = []
        look.behind([str(CKB.partOfPlace)], frontier)  # one level in one query (remotely)
        for place in frontier:
            subs, _more = look.subjects(str(CKB.partOfPlace), place, MAX_PLACES)
            for sub in subs:
                if sub in tree:
                    continue
                if len(tree) >= MAX_PLACES:
                    return tree, True
                tree[sub] = sub if place == iri else tree[place]
                nxt.append(sub)
        frontier = nxt
    return tree, False


def _date(look: Look, ev: str) -> tuple[str, str]:
    """(earliest date, else the source's time words) of an event."""
    day = look.first(ev, str(CKB.earliestDate))
    return (day, "") if day else ("", look.first(ev, str(CKB.timeText)) or "")


def _controllers(look: Look, places: list[str]) -> list[tuple[str, str]]:
    """(actor, place) for the territorial-control nodes and ckb:controls links on the places."""
    found: dict[tuple[str, str], None] = {}
    look.behind([str(CKB.controlledPlace), str(CKB.controls)], places)
    look.ahead({rel for place in places for rel in look.subjects(str(CKB.controlledPlace), place, 20)[0]},
               [str(CKB.controller)])
    for place in places:
        for rel in look.subjects(str(CKB.controlledPlace), place, 20)[0]:
            for actor in look.iris(rel, str(CKB.controller), 5):
                found[(actor, place)] = None
        for actor in look.subjects(str(CKB.controls), place, 20)[0]:
            found[(actor, place)] = None
    return list(found)


__all__ = ["PlaceEvent", "PlaceFacts", "is_place", "place_facts"]
