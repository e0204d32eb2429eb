"""Located events for the map: coordinates, the honest extent of their precision, and filters."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from kb.errors import KBError
from kb.namespaces import CKB
from kb.terms import iri_ref

POS = "http://www.w3.org/2003/01/geo/wgs84_pos#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
# How far the event may lie from its point, in km: the area the point stands for.
# A point is exact only at ckb:ExactLocation; everything else is drawn as an area and marked approximate.
RADIUS_KM = {"ExactLocation": 0, "NearLocation": 25, "SecondOrderAdminArea": 50, "FirstOrderAdminArea": 150,
             "PartOfCountry": 300, "CountryOnly": 500, "InternationalArea": 300}
VIOLENCE = {"clash": "Clash", "strike": "Strike", "one-sided": "OneSidedViolence", "protest": "Protest",
            "riot": "Riot", "strategic": "StrategicDevelopment"}


@dataclass
class MapEvent:
    """One located event as the map draws it."""

    iri: str
    label: str
    kind: str
    lat: float
    lon: float
    precision: str  # local name of the ckb:LocationPrecision, "" if not stated
    radius_km: int
    start: str
    end: str
    actors: list[str] = field(default_factory=list)

    @property
    def approximate(self) -> bool:
        """Whether the point stands for an area rather than the place itself."""
        return self.precision != "ExactLocation"


def _day(value: str | None, name: str) -> str | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise KBError(f"{name} must be a date like 2019-01-31, not {value!r}") from None


def map_events(kb: Any, start: str | None = None, end: str | None = None, actor: str | None = None,
               violence: str | None = None, limit: int = 20_000) -> list[MapEvent]:
    """Events with coordinates, filtered by date overlap, participant and kind (all checked first)."""
    first, last = _day(start, "from"), _day(end, "to")
    filters = []
    if first:  # overlaps: the event may have ended on or after the first day asked for
        filters.append(f'FILTER (!BOUND(?latest) || SUBSTR(STR(?latest), 1, 10) >= "{first}")')
    if last:
        filters.append(f'FILTER (!BOUND(?earliest) || SUBSTR(STR(?earliest), 1, 10) <= "{last}")')
    if actor:
        filters.append(f"?e <{CKB.participant}> {iri_ref(actor)} .")
    if violence:
        if violence not in VIOLENCE:
            raise KBError(f"type must be one of {', '.join(VIOLENCE)}, not {violence!r}")
        filters.append(f"?e a/<{RDFS}subClassOf>* <{CKB[VIOLENCE[violence]]}> .")
    rows = kb.query(f"""
        SELECT ?e ?label ?kind ?lat ?lon ?prec ?earliest ?latest
               (GROUP_CONCAT(DISTINCT ?actorLabel; separator="|") AS ?actors) WHERE {{
          ?e <{CKB.place}> ?p . ?p <{POS}lat> ?lat ; <{POS}long> ?lon .
          ?e a ?kind . ?kind <{RDFS}subClassOf>* <{CKB.Event}> .
          OPTIONAL {{ ?e <{RDFS}label> ?label }}
          OPTIONAL {{ ?e <{CKB.locationPrecision}> ?prec }}
          OPTIONAL {{ ?e <{CKB.earliestDate}> ?earliest }}
          OPTIONAL {{ ?e <{CKB.latestDate}> ?latest }}
          OPTIONAL {{ ?e <{CKB.participant}>/<{RDFS}label> ?actorLabel }}
          {' '.join(filters)}
        }} GROUP BY ?e ?label ?kind ?lat ?lon ?prec ?earliest ?latest""", inferred=False, limit=limit).rows
    seen: dict[str, MapEvent] = {}
    for r in rows:
        iri = str(r["e"])
        kind = str(r["kind"]).rsplit("#", 1)[-1]
        if iri in seen:  # several asserted types: keep the most specific-looking (not plain Event)
            if seen[iri].kind == "Event":
                seen[iri].kind = kind
            continue
        prec = str(r["prec"]).rsplit("#", 1)[-1] if r.get("prec") is not None else ""
        seen[iri] = MapEvent(
            iri=iri, label=str(r.get("label") or iri), kind=kind, lat=float(r["lat"]), lon=float(r["lon"]),
            precision=prec, radius_km=RADIUS_KM.get(prec, 50), start=str(r.get("earliest") or "")[:10],
            end=str(r.get("latest") or "")[:10],
            actors=sorted(a for a in str(r.get("actors") or "").split("|") if a))
    return list(seen.values())
