"""When and where over the event index: the timeline's buckets, the map's boxes and grid cells.

Mixed into kb.derived.events.EventIndex, whose rows are numbered by start date (so a bucket
is a run of row numbers, counted by a bitmap's range cardinality) and whose located rows are
also kept per one-degree cell (so a box reads whole cells, and checks rows only at its edges).
"""

from __future__ import annotations

import math
from bisect import bisect_left
from datetime import date, timedelta

from pyroaring import BitMap

from kb.derived.eventrows import Bucket, Cell, Event
from kb.errors import KBError


class WhenAndWhere:
    """The histogram, box and grid answers of an event index (kb.derived.events.EventIndex)."""

    events: list[Event]
    values: dict[str, dict[str, BitMap]]
    starts: list[str]  # per row, ascending
    dated: int  # rows from here on have no date
    planes: list[BitMap]  # bit k of each row's best fatality figure

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
