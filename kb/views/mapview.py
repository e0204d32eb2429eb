"""What the map says about located events: the rows in view, in words, with the honest extent of their points.

The events, their filters and boxes come from the event index (kb.derived.events); the index
does not hold where a point stands for (UCDP's where_prec), so the rows shown ask the store for
it, for those rows only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pyroaring import BitMap

from kb.namespaces import CKB
from kb.views.naming import labels, values_block
from kb.views.timebuckets import iso_words, say_dates

# How far the event may lie from its point, in km: the area the point stands for.
# A point is exact only at ckb:ExactLocation; everything else is an area, drawn on demand.
RADIUS_KM = {"ExactLocation": 0, "NearLocation": 25, "SecondOrderAdminArea": 50, "FirstOrderAdminArea": 150,
             "PartOfCountry": 300, "CountryOnly": 500, "InternationalArea": 300}
TABLE_ROWS = 100  # rows of the "events in view" table; the events table pages through the rest


@dataclass
class MapRow:
    """One located event as the table under the map reads it."""

    iri: str
    label: str
    when: str
    kind: str
    place: str
    lat: float
    lon: float
    precision: str  # local name of the ckb:LocationPrecision, "" if not stated
    precision_text: str  # its label: "somewhere in a district"
    deaths_text: str
    actors: list[str] = field(default_factory=list)

    @property
    def approximate(self) -> bool:
        """Whether the point stands for an area rather than the place itself."""
        return self.precision != "ExactLocation"

    @property
    def radius_km(self) -> int:
        """The radius of the area the point stands for (0 when exact)."""
        return RADIUS_KM.get(self.precision, 50)


def deaths_words(low: int | None, best: int | None, high: int | None) -> str:
    """Deaths as the coder gave them: '3 (2 to 5)', '3', or 'not given'."""
    if best is None:
        return "not given"
    if low is not None and high is not None and (low, high) != (best, best):
        return f"{best:,} ({low:,} to {high:,})"
    return f"{best:,}"


def located(index: Any, mask: BitMap) -> BitMap:
    """The rows of ``mask`` that have coordinates."""
    return mask & index.values.get("located", {}).get("yes", BitMap())


def location_precisions(kb: Any, iris: list[str]) -> dict[str, str]:
    """Event IRI -> its ckb:LocationPrecision IRI, for these events only (one small query)."""
    if not iris:
        return {}
    rows = kb.query(f"SELECT ?e ?p WHERE {{ VALUES ?e {{ {values_block(iris)} }} "
                    f"?e <{CKB.locationPrecision}> ?p }}").rows
    return {str(r["e"]): str(r["p"]) for r in rows}


def rows_in_view(kb: Any, index: Any, inside: BitMap, limit: int = TABLE_ROWS) -> list[MapRow]:
    """The latest ``limit`` located events of ``inside``, in words."""
    events = [index.row(n) for n in index.page(inside, "-date", limit, 0)]
    precisions = location_precisions(kb, [e.iri for e in events])
    words = labels(kb, set(precisions.values()))
    out = []
    for e in events:
        prec = precisions.get(e.iri, "")
        actors = list(dict.fromkeys(index.label(a) for a, _side in e.actors))
        out.append(MapRow(
            iri=e.iri, label=iso_words(e.label or index.label(e.iri)), when=say_dates(e.start, e.end),
            kind=index.label(e.type) if e.type else "event",
            place=", ".join(dict.fromkeys(index.label(p) for p in (e.place, e.admin1, e.country) if p)),
            lat=float(e.lat), lon=float(e.lon), precision=prec.rsplit("#", 1)[-1] if prec else "",
            precision_text=words.get(prec, "not stated") if prec else "not stated",
            deaths_text=deaths_words(e.low, e.best, e.high), actors=actors))
    return out
