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
  ``fatalities(mask) -> int`` (sum of best estimates).
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

from kb.derived.bitmaps import Reversed
from kb.derived.eventrows import FACETS, Bucket, Cell, Event, EventFilters
from kb.errors import KBError

__all__ = ["FACETS", "SORTS", "Bucket", "Cell", "Event", "EventFilters", "EventIndex"]

SORTS = ("date", "label", "country", "type", "fatalities")
SHORT_DAYS = 100  # events spanning more than this are checked one by one in a date range
PLANES = 24  # bits of the fatality figures summed by bit planes (up to 16.7 million)


@dataclass
class EventIndex:
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
            best: list[tuple[int, Reversed]] = []
            for negsize, value in ranked:
                if len(best) == size and -negsize < best[0][0]:
                    break  # values come largest first: none of the rest can enter
                n = found[value].intersection_cardinality(mask)
                if n:
                    item = (n, Reversed(value))
                    if len(best) < size:
                        heapq.heappush(best, item)
                    elif item > best[0]:
                        heapq.heapreplace(best, item)
            out[name] = sorted(((v.value, n) for n, v in best), key=lambda vn: (-vn[1], vn[0]))
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

    def histogram(self, mask: BitMap, unit: str = "month") -> list[Bucket]:
        """Counts and fatalities of ``mask``'s dated events per week, month or year of their start,
        every bucket from the first to the last (empty ones too)."""
        if unit not in ("week", "month", "year"):
            raise KBError(f"unit must be week, month or year, not {unit!r}")
        dated = mask & BitMap(range(self.dated))
        if not dated:
            return []
        first, last = _bucket(self.starts[dated.min()], unit), _bucket(self.starts[dated.max()], unit)
        out: list[Bucket] = []
        planes = [p & dated for p in self.planes] if len(dated) > 5000 else None
        day = first
        while day <= last:
            nxt = _next(day, unit)
            lo = bisect_left(self.starts, day.isoformat(), 0, self.dated)
            hi = bisect_left(self.starts, nxt.isoformat(), 0, self.dated)
            count = dated.range_cardinality(lo, hi)
            if planes is None:
                at = dated.rank(lo - 1) if lo else 0
                dead = sum(self.events[n].best or 0 for n in dated[at:at + count])
            else:
                dead = sum(p.range_cardinality(lo, hi) << k for k, p in enumerate(planes))
            out.append(Bucket(day, count, dead))
            day = nxt
        return out

    def in_box(self, south: float, west: float, north: float, east: float) -> BitMap:
        """Located rows within the box (west > east: the box crosses the antimeridian)."""
        cells = self.values.get("cell", {})
        found = BitMap()
        for key, rows in cells.items():
            clat, clon = (int(x) for x in key.split(","))
            if clat + 1 < south or clat > north or not _lon_overlaps(clon, west, east):
                continue
            inside = south <= clat and clat + 1 <= north and _lon_in(clon, west, east) and _lon_in(
                clon + 1, west, east) and (west <= east or not clon < west <= clon + 1)
            found |= rows if inside else BitMap(
                n for n in rows if south <= self.events[n].lat <= north  # type: ignore[operator]
                and _lon_in(self.events[n].lon, west, east))  # type: ignore[arg-type]
        return found

    def grid(self, mask: BitMap, degrees: float) -> list[Cell]:
        """``mask``'s located events per cell of ``degrees`` (by their own points)."""
        sums: dict[tuple[int, int], list[float]] = {}
        for n in mask & self.values.get("located", {}).get("yes", BitMap()):
            e = self.events[n]
            key = (math.floor(e.lat / degrees), math.floor(e.lon / degrees))  # type: ignore[operator]
            s = sums.get(key)
            if s is None:
                sums[key] = [e.lat, e.lon, 1, e.best or 0, n]  # type: ignore[list-item]
            else:
                s[0] += e.lat  # type: ignore[operator]
                s[1] += e.lon  # type: ignore[operator]
                s[2] += 1
                s[3] += e.best or 0
        return [Cell(s[0] / s[2], s[1] / s[2], int(s[2]), int(s[3]), int(s[4])) for s in sums.values()]


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


def _bucket(day: str, unit: str) -> date:
    d = date.fromisoformat(day)
    if unit == "year":
        return d.replace(month=1, day=1)
    if unit == "month":
        return d.replace(day=1)
    return d - timedelta(days=d.weekday())  # weeks start on Monday, as ISO weeks


def _next(d: date, unit: str) -> date:
    if unit == "year":
        return d.replace(year=d.year + 1)
    if unit == "month":
        return date(d.year + d.month // 12, d.month % 12 + 1, 1)
    return d + timedelta(days=7)


def _lon_in(lon: float, west: float, east: float) -> bool:
    return west <= lon <= east if west <= east else lon >= west or lon <= east


def _lon_overlaps(cell: int, west: float, east: float) -> bool:
    """Whether the cell [cell, cell + 1] meets the box's longitudes."""
    if west <= east:
        return cell <= east and cell + 1 >= west
    return not (cell > east and cell + 1 < west)
