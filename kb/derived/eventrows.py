"""The event index's public types: a row (Event), a view's filters (EventFilters), a histogram
bucket and a map cell (kb.derived.events holds the index and re-exports these)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date
from typing import Any

from kb.errors import KBError
from kb.terms import check_iri

FACETS = ("graph", "country", "admin1", "admin2", "type", "actor", "side", "precision")


@dataclass(frozen=True, slots=True)
class Event:
    """One event as the index holds it: IRIs for things, labels through EventIndex.label."""

    n: int
    iri: str
    label: str
    graph: str  # the dataset or document graph that types it (the least IRI if several)
    start: str  # YYYY-MM-DD, "" when the data gives no date
    end: str
    precision: str  # IRI of the date precision, ""
    country: str  # IRIs of the place's country, first and second order admin areas, ""
    admin1: str
    admin2: str
    place: str
    lat: float | None
    lon: float | None
    type: str  # most specific asserted event type
    status: str
    low: int | None
    best: int | None
    high: int | None
    actors: tuple[tuple[str, str], ...] = ()  # (actor, side IRI or "")


@dataclass
class EventFilters:
    """The filters of an events view; values are IRIs, days (YYYY-MM-DD) or whole numbers."""

    graph: str = ""
    country: str = ""
    admin1: str = ""
    admin2: str = ""
    type: str = ""
    actor: str = ""
    side: str = ""  # with actor: that actor on this side; alone: any participant on it
    precision: str = ""
    place: str = ""  # within this place (ckb:partOfPlace*), at any depth
    start: str = ""  # the event may have ended on or after this day (request: ?from=)
    end: str = ""  # ... and begun on or before this one (request: ?to=)
    fat_min: int | None = None  # best estimate at least / at most (events without one excluded)
    fat_max: int | None = None

    def active(self) -> dict[str, str]:
        """The set filters, as request names -> text (``from``, ``to`` for the dates)."""
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value not in ("", None):
                out[{"start": "from", "end": "to"}.get(f.name, f.name)] = str(value)
        return out

    @classmethod
    def parse(cls, args: Any) -> EventFilters:
        """The filters from request arguments, each checked; KBError naming the bad one."""
        f = cls()
        for name in (*FACETS, "place"):
            value = (args.get(name) or "").strip()
            if value:
                setattr(f, name, check_iri(value))
        for name, attr in (("from", "start"), ("to", "end")):
            value = (args.get(name) or "").strip()
            if value:
                try:
                    setattr(f, attr, date.fromisoformat(value).isoformat())
                except ValueError:
                    raise KBError(f"{name} must be a day like 2019-01-31, not {value[:40]!r}") from None
        for name in ("fat_min", "fat_max"):
            value = (args.get(name) or "").strip()
            if value:
                if not value.isdigit() or len(value) > 9:
                    raise KBError(f"{name} must be a whole number of deaths, not {value[:40]!r}")
                setattr(f, name, int(value))
        return f


@dataclass
class Bucket:
    """Events starting in one week, month or year of the histogram."""

    start: date
    count: int
    fatalities: int  # sum of best estimates


@dataclass
class Cell:
    """Located events in one grid cell: their mean point, count and fatalities."""

    lat: float
    lon: float
    count: int
    fatalities: int
    first: int  # one row of the cell (a single event's row when count is 1)
