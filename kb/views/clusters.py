"""The map's clusters: events binned on a grid whose cells are a fixed size on screen at each zoom.

At zoom z a Web Mercator world is 256 * 2**z pixels wide; a cell of CELL_PX pixels is then
360 * CELL_PX / (256 * 2**z) degrees of longitude. Latitude cells use the same degrees (the
cells are a little taller on screen far from the equator: a cluster is an approximate thing).
Each cluster sits at the mean of its points and carries their count and deaths, so the sum of
the counts is exactly the number of located events asked for.
"""

from __future__ import annotations

import math
import threading
import weakref
from dataclasses import dataclass
from typing import Any

from pyroaring import BitMap

CELL_PX = 56
MAX_ZOOM = 18
SMALL = 20_000  # up to this many located events are binned one by one
_PYRAMIDS: dict[int, dict[int, dict[tuple[int, int], tuple[BitMap, float, float]]]] = {}
_lock = threading.Lock()


@dataclass
class Box:
    """A lat/long box: south, west, north, east (west > east when it crosses the antimeridian)."""

    south: float
    west: float
    north: float
    east: float

    def holds(self, lat: float, lon: float) -> bool:
        """Whether the point lies in the box (edges included)."""
        if not self.south <= lat <= self.north:
            return False
        if self.west <= self.east:
            return self.west <= lon <= self.east
        return lon >= self.west or lon <= self.east

    @property
    def whole_world(self) -> bool:
        """Whether the box covers every point."""
        return self.south <= -90 and self.north >= 90 and self.west <= -180 and self.east >= 180

    def query_value(self) -> str:
        """The box as the bbox query parameter reads it."""
        return ",".join(f"{v:g}" for v in (self.south, self.west, self.north, self.east))


WORLD = Box(-90.0, -180.0, 90.0, 180.0)


def parse_box(text: str | None) -> Box:
    """'south,west,north,east' in degrees as a Box (the world when empty); ValueError if malformed."""
    if not text:
        return WORLD
    parts = text.split(",")
    if len(parts) != 4:
        raise ValueError(f"bbox must be south,west,north,east in degrees, not {text!r}")
    try:
        s, w, n, e = (float(p) for p in parts)
    except ValueError:
        raise ValueError(f"bbox must be four numbers (south,west,north,east), not {text!r}") from None
    if not all(math.isfinite(v) for v in (s, w, n, e)) or s > n:
        raise ValueError(f"bbox must have south <= north and finite degrees, not {text!r}")
    if e - w >= 360:  # Leaflet's bounds run past +-180 when the world is shown more than once
        w, e = -180.0, 180.0
    wrap = lambda x: ((x + 180.0) % 360.0) - 180.0 if not -180 <= x <= 180 else x  # noqa: E731
    return Box(max(s, -90.0), wrap(w), min(n, 90.0), wrap(e))


def cell_degrees(zoom: int) -> float:
    """The side of a grid cell at ``zoom``, in degrees."""
    return 360.0 * CELL_PX / (256.0 * 2 ** max(0, min(zoom, MAX_ZOOM)))


@dataclass
class Cluster:
    """Located events close together at this zoom: where, how many, how many killed."""

    lat: float
    lon: float
    count: int
    fatalities: int
    first: int  # one of its rows in the event index (the event itself when count is 1)


def _pyramid(index: Any, zoom: int) -> dict[tuple[int, int], tuple[BitMap, float, float]]:
    """Every located row of ``index`` binned at ``zoom``: cell -> (rows, mean lat, mean long);
    made once per index and zoom (the index is one store generation's)."""
    levels = _PYRAMIDS.get(id(index))
    if levels is None:
        levels = _PYRAMIDS.setdefault(id(index), {})
        weakref.finalize(index, _PYRAMIDS.pop, id(index), None)
    found = levels.get(zoom)
    if found is None:
        size = cell_degrees(zoom)
        sums: dict[tuple[int, int], list[Any]] = {}
        for n in index.values.get("located", {}).get("yes", BitMap()):
            e = index.events[n]
            key = (math.floor(e.lat / size), math.floor(e.lon / size))
            acc = sums.get(key)
            if acc is None:
                sums[key] = [[n], e.lat, e.lon]
            else:
                acc[0].append(n)
                acc[1] += e.lat
                acc[2] += e.lon
        found = {k: (BitMap(a[0]), a[1] / len(a[0]), a[2] / len(a[0])) for k, a in sums.items()}
        with _lock:
            levels[zoom] = found
    return found


def clusters(index: Any, mask: BitMap, zoom: int, box: Box) -> list[Cluster]:
    """The located events of ``mask`` in ``box`` as grid clusters at ``zoom``, largest first.

    Few events are binned one by one at their own mean point (EventIndex.grid); many (a whole
    dataset at a low zoom) by intersecting the mask with each cell of the zoom's precomputed
    grid, placed at the mean point of all the cell's events: the counts and deaths are exact
    either way, a many-event cluster's position is that of its cell's events, filtered or not."""
    inside = mask if box.whole_world else mask & index.in_box(box.south, box.west, box.north, box.east)
    located = inside & index.values.get("located", {}).get("yes", BitMap())
    if len(located) <= SMALL:
        found = [Cluster(c.lat, c.lon, c.count, c.fatalities, c.first)
                 for c in index.grid(located, cell_degrees(zoom))]
    else:
        found = []
        for rows, lat, lon in _pyramid(index, zoom).values():
            sub = rows & located
            if not sub:
                continue
            dead = index.fatalities(sub) if len(sub) > 64 else sum(index.events[n].best or 0 for n in sub)
            found.append(Cluster(lat, lon, len(sub), dead, sub.min()))
    found.sort(key=lambda c: (-c.count, -c.fatalities, c.first))
    return found
