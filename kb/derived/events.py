"""The event index: one row per event, and bitmaps over the rows, for /events, /timeline and /map.

At 300,000 imported events the engine takes seconds to count a facet or sort a page (every
event joins its place, its dates, its participants). Here every event is a row, numbered by
its start date (then IRI; undated events last), so a date range or a histogram bucket is a
run of row numbers; every facet value is a bitmap of rows (pyroaring), so a filtered view is
an AND, a facet count an intersection's cardinality, a page a walk of a presorted order.

The rows are read from the store (kb.derived.eventbuild) and kept in the sidecar as SQLite
(stdlib: one file replaced at once, typed columns, readable by any SQLite tool); the bitmaps
are made from the rows in memory. Deleting the file costs a rebuild, never another answer.

Stable API (for /events, /timeline, /map):
  ``ready(kb, wait=False) -> EventIndex | None`` (kb.derived.eventbuild): the index of the store
  as it is now, or None while it is built in the background.
  ``EventFilters`` (fields below; ``EventFilters.parse(args)`` checks request values, KBError if bad).
  ``EventIndex.matching(f) -> BitMap`` rows matching; ``facets(mask, size)``; ``page(mask, sort,
  limit, offset) -> list[int]``; ``row(n) -> Event``; ``label(iri) -> str``;
  ``histogram(mask, unit) -> list[Bucket]`` (unit "week" | "month" | "year", by start date);
  ``in_box(south, west, north, east) -> BitMap``; ``grid(mask, degrees) -> list[Cell]``;
  ``fatalities(mask) -> int`` (sum of best estimates). (Histogram, box and grid are in
  kb.derived.eventspace, mixed into EventIndex.)
"""

from __future__ import annotations

import heapq
import math
import threading
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from pyroaring import BitMap

from kb.derived.eventrows import FACETS, Bucket, Cell, Event, EventFilters
from kb.derived.eventspace import WhenAndWhere
from kb.derived.topvalues import most_frequent

__all__ = ["FACETS", "SORTS", "Bucket", "Cell", "Event", "EventFilters", "EventIndex"]

SORTS = ("date", "label", "country", "type", "fatalities")
SHORT_DAYS = 100  # events spanning more than this are checked one by one in a date range
PLANES = 24  # bits of the fatality figures summed by bit planes (up to 16.7 million)


@dataclass
class EventIndex(WhenAndWhere):
    """The events of one store generation (see the module's docstring)."""

    generation: int | None
    events: list[Event]
    labels: dict[str, str]  # IRI -> label, for every IRI a row names
    values: dict[str, dict[str, BitMap]] = field(default_factory=dict)
    keys: dict[str, list[str | None]] = field(default_factory=dict)  # sort -> row -> key ("type", "country")
    kinds: dict[str, str] = field(default_factory=dict)  # place -> "country", "admin1" or "admin2"
    origin: str = "store"  # where the rows were read: "store" or "file" (the sidecar's)
    lock: Any = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        ev = self.events
        self.size = len(ev)
        self.every = BitMap(range(self.size))
        self.starts = [e.start or e.end for e in ev]  # ascending, "" never before a date
        self.dated = sum(1 for s in self.starts if s)  # rows from here on have no date
        self.long = [e.n for e in ev[:self.dated] if _span(e) > SHORT_DAYS]
        if not self.values:
            self.values = _bitmaps(ev)
        self.ranked = {name: sorted((-len(b), v) for v, b in found.items())
                       for name, found in self.values.items()}
        bits: list[list[int]] = [[] for _k in range(PLANES)]
        for e in ev:
            best = e.best or 0
            while best > 0 and best < 1 << PLANES:
                k = best.bit_length() - 1
                bits[k].append(e.n)
                best ^= 1 << k
        self.planes = [BitMap(ns) for ns in bits]
        self.orders: dict[str, tuple[list[int], list[int]]] = {s: _orders(ev, s, self.keys) for s in SORTS}
        self.recent: dict[tuple, BitMap] = {}
        self.ranks: dict[tuple[str, bool], list[int]] = {}

    def add_values(self, name: str, rows: dict[str, list[int]]) -> None:
        """Make ``name``'s bitmaps these (value -> rows); used while the index is made."""
        self.values[name] = {v: BitMap(ns) for v, ns in rows.items()}
        self.ranked[name] = sorted((-len(b), v) for v, b in self.values[name].items())

    def members(self, name: str) -> dict[int, tuple[str, ...]]:
        """Row -> its values for ``name``, sorted (the inverse of the bitmaps)."""
        out: dict[int, list[str]] = {}
        for value, rows in sorted(self.values.get(name, {}).items()):
            for n in rows:
                out.setdefault(n, []).append(value)
        return {n: tuple(vs) for n, vs in out.items()}

    def row(self, n: int) -> Event:
        """Row ``n``."""
        return self.events[n]

    def label(self, iri: str) -> str:
        """The label of an IRI a row names (its local name when the data gives none)."""
        return self.labels.get(iri) or _local(iri)

    def of(self, name: str, value: str) -> BitMap:
        """The rows with ``value`` for facet ``name``."""
        return self.values.get(name, {}).get(value, BitMap())

    def matching(self, f: EventFilters) -> BitMap:
        """The rows matching every filter of ``f`` (the last views' answers are kept)."""
        key = tuple(sorted(f.active().items()))
        found = self.recent.get(key)
        if found is None:
            found = self._matching(f)
            with self.lock:
                if len(self.recent) >= 64:
                    self.recent.pop(next(iter(self.recent)))
                self.recent[key] = found
        return found

    def _matching(self, f: EventFilters) -> BitMap:
        mask = BitMap(self.every)
        for name in FACETS:
            value = getattr(f, name)
            if not value or (name == "side" and f.actor):
                continue
            mask &= self.of(name, value)
        if f.side and f.actor:
            mask &= self.of("actorside", f"{f.actor} {f.side}")
        if f.place:
            mask &= self.of("within", f.place)
        if f.start or f.end:
            mask &= self.dated_between(f.start, f.end)
        if f.fat_min is not None or f.fat_max is not None:
            low, high = f.fat_min or 0, f.fat_max if f.fat_max is not None else 1 << 62
            mask &= BitMap.union(BitMap(), *(b for v, b in self.values["best"].items()
                                             if low <= int(v) <= high))
        return mask

    def dated_between(self, first: str, last: str) -> BitMap:
        """Rows whose dates overlap [first, last] (either may be ""): begun by ``last``, ended
        by ``first`` or later (an event without an end date ends on its start)."""
        hi = bisect_right(self.starts, last, 0, self.dated) if last else self.dated
        if not first:
            return BitMap(range(hi))
        lo = bisect_left(self.starts, first, 0, self.dated)
        found = BitMap(range(lo, max(lo, hi)))
        # begun before ``first``: ended on or after it? Short events began within SHORT_DAYS.
        near = bisect_left(self.starts, _days_before(first, SHORT_DAYS), 0, lo)
        ends = self.events
        found.update(n for n in range(near, min(lo, hi)) if (ends[n].end or self.starts[n]) >= first)
        found.update(n for n in self.long if n < min(near, hi) and (ends[n].end or self.starts[n]) >= first)
        return found

    def facets(self, mask: BitMap, size: int = 30, names: tuple[str, ...] = FACETS,
               actor: str = "") -> dict[str, list[tuple[str, int]]]:
        """Per facet its ``size`` most frequent values among ``mask`` (by count, then IRI); the
        side facet counts ``actor``'s sides when one is given."""
        out: dict[str, list[tuple[str, int]]] = {}
        for name in names:
            found = self.values.get(name, {})
            ranked = self.ranked.get(name, [])
            if name == "side" and actor:
                prefix = actor + " "
                found = {k[len(prefix):]: b for k, b in self.values["actorside"].items()
                         if k.startswith(prefix)}
                ranked = sorted((-len(b), v) for v, b in found.items())
            out[name] = most_frequent(ranked, found, mask, size)
        return out

    def page(self, mask: BitMap, sort: str = "-date", limit: int = 50, offset: int = 0) -> list[int]:
        """Rows of ``mask`` from ``offset``, at most ``limit``, ordered by ``sort`` (a SORTS name,
        "-" first for descending; ties by IRI; missing values first ascending, last descending)."""
        desc = sort.startswith("-")
        ascending, descending = self.orders[sort.lstrip("-")]
        order = descending if desc else ascending
        want = offset + limit
        if len(mask) * 8 < self.size:  # few rows: sort them by their place in the order
            rank = self._rank(sort.lstrip("-"), desc)
            return heapq.nsmallest(want, mask, key=rank.__getitem__)[offset:]
        out: list[int] = []
        for n in order:
            if n in mask:
                out.append(n)
                if len(out) == want:
                    break
        return out[offset:]

    def _rank(self, sort: str, desc: bool) -> list[int]:
        found = self.ranks.get((sort, desc))
        if found is None:
            found = [0] * self.size
            for pos, n in enumerate(self.orders[sort][1 if desc else 0]):
                found[n] = pos
            with self.lock:
                self.ranks[(sort, desc)] = found
        return found

    def fatalities(self, mask: BitMap) -> int:
        """The sum of the best estimates of ``mask``'s events."""
        return sum(plane.intersection_cardinality(mask) << k for k, plane in enumerate(self.planes))


def _local(iri: str) -> str:
    return iri.rstrip("/#").rsplit("#", 1)[-1].rsplit("/", 1)[-1]


def _span(e: Event) -> int:
    if not e.start or not e.end:
        return 0
    return (date.fromisoformat(e.end) - date.fromisoformat(e.start)).days


def _days_before(day: str, days: int) -> str:
    return (date.fromisoformat(day) - timedelta(days=days)).isoformat()


def _bitmaps(events: list[Event]) -> dict[str, dict[str, BitMap]]:
    """Every facet value's rows, and the helpers' (actor+side, best figure, grid cell, located)."""
    rows: dict[str, dict[str, list[int]]] = {name: {} for name in
                                             (*FACETS, "actorside", "best", "cell", "located")}
    for e in events:
        for name in ("type", "precision"):
            value = getattr(e, name)
            if value:
                rows[name].setdefault(value, []).append(e.n)
        for actor, side in dict.fromkeys(e.actors):
            if rows["actor"].get(actor, [None])[-1] != e.n:
                rows["actor"].setdefault(actor, []).append(e.n)
            if side:
                if rows["side"].get(side, [None])[-1] != e.n:
                    rows["side"].setdefault(side, []).append(e.n)
                key = f"{actor} {side}"
                if rows["actorside"].get(key, [None])[-1] != e.n:
                    rows["actorside"].setdefault(key, []).append(e.n)
        if e.best is not None:
            rows["best"].setdefault(str(e.best), []).append(e.n)
        if e.lat is not None and e.lon is not None:
            rows["located"].setdefault("yes", []).append(e.n)
            rows["cell"].setdefault(f"{math.floor(e.lat)},{math.floor(e.lon)}", []).append(e.n)
    return {name: {v: BitMap(ns) for v, ns in found.items()} for name, found in rows.items()}


def _orders(events: list[Event], sort: str, keys: dict[str, list[str | None]]) -> tuple[list[int], list[int]]:
    """Row numbers ascending and descending by ``sort``; ties by IRI ascending both ways;
    missing values first ascending (as SPARQL orders unbound), last descending."""
    column = keys.get(sort)  # once: a default built per call made this quadratic

    def value(e: Event) -> Any:
        if sort == "date":
            return e.start or None
        if sort == "label":
            return e.label or None
        if sort == "fatalities":
            return e.best
        return column[e.n] if column is not None else None
    by_iri = sorted(events, key=lambda e: e.iri)
    keyed = [(v is not None, v if v is not None else 0, e) for e in by_iri for v in [value(e)]]
    up = [k[2].n for k in sorted(keyed, key=lambda k: (k[0], k[1]))]
    down = [k[2].n for k in sorted(keyed, key=lambda k: (k[0], k[1]), reverse=True)]
    return up, down
