"""One event as every source codes it, side by side, with the differences marked.

An event linked by ckb:sameEventAs (kb.linking) to records of other sources is shown with each
record's dates, fatalities, actors, place and type; a field is marked where the records disagree.
Actors are compared by the KB actors they resolve to (the names always differ between datasets),
places by their points (a few hundred metres apart is the same point) and by their spellings.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from kb.linking.eventlinks import GRAPH_EVENT_MATCHES
from kb.namespaces import CKB
from kb.terms import iri_ref
from kb.views.lookups import reader

POS = "http://www.w3.org/2003/01/geo/wgs84_pos#"
PROV = "http://www.w3.org/ns/prov#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
FIELDS = (("source", "Source"), ("dates", "Dates"), ("fatalities", "Fatalities"), ("actors", "Actors"),
          ("place", "Place"), ("type", "Type"))
SAME_POINT_KM = 0.5


@dataclass
class Coding:
    """One record's coding of the event, as text per field."""

    event: str
    values: dict[str, str] = field(default_factory=dict)
    actors: frozenset[str] = frozenset()  # actor IRIs, to compare
    point: tuple[float, float] | None = None


@dataclass
class Link:
    """The link from the shown event to another record: its score, method, reasons and time."""

    other: str
    score: str
    method: str
    when: str
    reasons: list[str]


@dataclass
class EventCodings:
    """Every source's coding of one event, and which fields disagree."""

    event: str
    codings: list[Coding]
    differs: dict[str, bool]
    links: list[Link]
    fields: tuple[tuple[str, str], ...] = FIELDS


def event_codings(kb: Any, event: str) -> EventCodings | None:
    """The codings of ``event`` and of the records linked to it; None when nothing is linked."""
    with reader(kb) as r:  # most pages show no linked event: a pattern lookup says so, no worker
        if r is not None and not r.subjects(str(CKB.matchedEvent), event):
            return None
    links = _links(kb, event)
    if not links:
        return None
    events = [event, *[k.other for k in links]]
    values = " ".join(iri_ref(e) for e in events)
    props: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for r in kb.query(f"""SELECT ?ev ?p ?o WHERE {{ VALUES ?ev {{ {values} }} ?ev ?p ?o
        FILTER (?p != <{CKB.sameEventAs}>) }}""", inferred=False, limit=10_000).rows:
        props[str(r["ev"])][str(r["p"])].append(str(r["o"]))
    people: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    for r in kb.query(f"""SELECT ?ev ?actor ?name ?side WHERE {{ VALUES ?ev {{ {values} }}
        ?ev <{CKB.hasParticipation}> ?p . ?p <{CKB.participationActor}> ?actor .
        OPTIONAL {{ ?p <{CKB.asDescribed}> ?said }} OPTIONAL {{ ?actor <{RDFS}label> ?label }}
        OPTIONAL {{ ?p <{CKB.participantRole}> ?role }} OPTIONAL {{ ?p <{CKB.side}> ?own }}
        BIND (COALESCE(?said, ?label, STR(?actor)) AS ?name) BIND (COALESCE(?own, ?role) AS ?side) }}""",
                      inferred=False, limit=10_000).rows:
        side = str(r["side"]).rsplit("#", 1)[-1] if r.get("side") is not None else ""
        people[str(r["ev"])].append((str(r["actor"]), str(r["name"]), side))
    labels = {str(r["x"]): str(r["l"]) for r in kb.query(f"""SELECT ?x ?l WHERE {{ VALUES ?ev {{ {values} }}
        {{ ?ev a ?x }} UNION {{ ?ev <{CKB.place}> ?x }} ?x <{RDFS}label> ?l }}""", inferred=False,
                                                       limit=10_000).rows}
    points = {str(r["ev"]): (float(str(r["lat"])), float(str(r["lon"]))) for r in kb.query(f"""
        SELECT ?ev ?lat ?lon WHERE {{ VALUES ?ev {{ {values} }} ?ev <{CKB.place}> ?pl .
        ?pl <{POS}lat> ?lat ; <{POS}long> ?lon }}""", inferred=False, limit=10_000).rows}
    codings = [_coding(e, props[e], people[e], labels, points.get(e)) for e in events]
    return EventCodings(event, codings, _differs(codings), links)


def _links(kb: Any, event: str) -> list[Link]:
    rows = kb.query(f"""SELECT ?other ?score ?method ?time ?reason WHERE {{ GRAPH <{GRAPH_EVENT_MATCHES}> {{
        ?m <{CKB.matchedEvent}> {iri_ref(event)}, ?other . FILTER (?other != {iri_ref(event)})
        ?m <{CKB.matchScore}> ?score ; <{CKB.matchingMethod}> ?method ; <{PROV}generatedAtTime> ?time .
        OPTIONAL {{ ?m <{CKB.matchReason}> ?reason }} }} }} ORDER BY DESC(?score) ?other ?reason""",
                    inferred=False, limit=1_000).rows
    out: dict[str, Link] = {}
    for r in rows:
        link = out.setdefault(str(r["other"]), Link(str(r["other"]), str(r["score"]), str(r["method"]),
                                                    str(r["time"]), []))
        if r.get("reason") is not None:
            link.reasons.append(str(r["reason"]))
    return list(out.values())


def _one(props: dict[str, list[str]], name: str) -> str:
    values = props.get(str(CKB[name]), [])
    return sorted(values)[0] if values else ""


def _coding(ev: str, props: dict[str, list[str]], people: list[tuple[str, str, str]], labels: dict[str, str],
            point: tuple[float, float] | None) -> Coding:
    """One record's fields as text."""
    if _one(props, "acledId"):
        source = f"ACLED {_one(props, 'acledId')}"
    elif _one(props, "ucdpId"):
        source = f"UCDP GED {_one(props, 'ucdpId')}"
    else:
        source = "article"
    start, end = _one(props, "earliestDate")[:10], _one(props, "latestDate")[:10]
    dates = start if start == end else f"{start} to {end}"
    best, low, high = (_one(props, f"fatalities{k}") for k in ("Best", "Low", "High"))
    dead = best + (f" (low {low}, high {high})" if (low or high) and (low, high) != (best, best) else "")
    actors = "; ".join(f"{name}" + (f" [{side}]" if side else "") for _, name, side in sorted(
        people, key=lambda p: (p[2], p[1])))
    spelled = ", ".join(v for v in (_one(props, "codedLocation"), _one(props, "codedAdmin1"),
                                    _one(props, "codedCountry")) if v)
    place = spelled or ", ".join(labels.get(p, p) for p in props.get(str(CKB.place), []))
    if point is not None:
        place += f" ({point[0]:.4f}, {point[1]:.4f})"
    kinds = sorted(labels.get(t, t.rsplit("#", 1)[-1]) for t in props.get(
        "http://www.w3.org/1999/02/22-rdf-syntax-ns#type", []))
    values = {"source": source, "dates": dates or "unknown", "fatalities": dead or "unknown",
              "actors": actors or "none named", "place": place or "unknown", "type": ", ".join(kinds)}
    return Coding(ev, values, frozenset(a for a, _, _ in people), point)


def _differs(codings: list[Coding]) -> dict[str, bool]:
    """Per field: do the records disagree?"""
    def varies(key: str) -> bool:
        return len({c.values[key].split(" (")[0] for c in codings}) > 1
    points = [c.point for c in codings if c.point is not None]
    far = any(_km(p, q) > SAME_POINT_KM for p in points for q in points)
    return {"source": False, "dates": varies("dates"), "fatalities": varies("fatalities"),
            "actors": len({c.actors for c in codings}) > 1, "place": far, "type": varies("type")}


def _km(p: tuple[float, float], q: tuple[float, float]) -> float:
    dlat = math.radians(q[0] - p[0])
    dlon = math.radians(q[1] - p[1]) * math.cos(math.radians((p[0] + q[0]) / 2))
    return 6371.0 * math.hypot(dlat, dlon)
