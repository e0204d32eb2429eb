"""ACLED rows (public codebook) -> one coded event, its claim (the notes are the quote) and its sources."""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta
from typing import Any

from . import acledcodes as codes
from .common import (
    RDF_TYPE,
    RDFS_LABEL,
    XSD,
    BadRow,
    ckb,
    coordinate,
    count,
    day,
    integer,
    name_key,
    ns,
    res,
    shown,
    slug,
    text,
    triple,
)
from .common import (
    iri as iri_term,
)
from .places import place_triples

PROV = "http://www.w3.org/ns/prov#"
REQUIRED = ("event_id_cnty", "event_date", "time_precision", "event_type", "sub_event_type", "actor1",
            "assoc_actor_1", "inter1", "actor2", "assoc_actor_2", "inter2", "country", "admin1", "admin2",
            "location", "latitude", "longitude", "geo_precision", "source", "source_scale", "notes",
            "fatalities")
# the columns of ACLED's exports, current and earlier (data_id, iso3, event_id_no_cnty)
KNOWN = frozenset(REQUIRED) | {
    "year", "disorder_type", "interaction", "civilian_targeting", "iso", "region", "admin3", "tags",
    "timestamp", "data_id", "iso3", "event_id_no_cnty"}
ID = "event_id_cnty"
EVENT_TYPES = {"Battles": "Clash", "Explosions/Remote violence": "Strike",
               "Violence against civilians": "OneSidedViolence", "Protests": "Protest", "Riots": "Riot",
               "Strategic developments": "StrategicDevelopment"}
SUB_EVENT_TYPES = {
    "Battles": {"Armed clash", "Government regains territory", "Non-state actor overtakes territory"},
    "Explosions/Remote violence": {"Chemical weapon", "Air/drone strike", "Suicide bomb",
                                   "Shelling/artillery/missile attack", "Remote explosive/landmine/IED",
                                   "Grenade"},
    "Violence against civilians": {"Sexual violence", "Attack", "Abduction/forced disappearance"},
    "Protests": {"Peaceful protest", "Protest with intervention", "Excessive force against protesters"},
    "Riots": {"Violent demonstration", "Mob violence"},
    "Strategic developments": {"Agreement", "Arrests", "Change to group/activity", "Disrupted weapons use",
                               "Headquarters or base established", "Looting/property destruction",
                               "Non-violent transfer of territory", "Other"},
}
# inter codes: 1 state forces, 2 rebels, 3 political militias, 4 identity militias, 5 rioters,
# 6 protesters, 7 civilians, 8 external/other forces
INTER_KIND = {"1": "ArmedForce", "2": "RebelGroup", "3": "Militia", "4": "Militia", "5": "PersonGroup",
              "6": "PersonGroup", "7": "PersonGroup", "8": "ArmedActor"}
GEO_PREC = {"1": "ExactLocation", "2": "NearLocation", "3": "FirstOrderAdminArea"}


def parse_date(raw: str) -> date:
    """ACLED dates come as ISO (2025-05-16) or as in its exports (16 May 2025); anything else is bad."""
    return codes.parse_date(raw)[0]


def bounds(when: date, precision: str) -> tuple[date, date, str]:
    """Earliest, latest and unit from ACLED's time_precision (1 day, 2 week around the date, 3 month)."""
    if precision == "1":
        return when, when, "DayPrecision"
    if precision == "2":  # the coded date lies within the week the source gives
        return when - timedelta(days=3), when + timedelta(days=3), "DayPrecision"
    if precision == "3":
        last = calendar.monthrange(when.year, when.month)[1]
        return when.replace(day=1), when.replace(day=last), "MonthPrecision"
    raise BadRow(f"time_precision {shown(precision)} is not 1, 2 or 3")


def _actor(matcher: Any, name: str, inter: str, out: list[str]) -> str:
    """Resolve an actor name; a new actor is typed from its inter code (already read to 1..8)."""
    iri, new = matcher.resolve("acled", name, fallback=f"acled-actor-{name_key(name)}")
    node = iri_term(iri)
    if new and matcher.once(f"actor-{iri}"):  # described once per import
        out.append(triple(node, RDF_TYPE, ckb(INTER_KIND.get(inter, "Actor"))))
        out.append(triple(node, RDFS_LABEL, text(name)))
        if inter in INTER_KIND:
            out.append(triple(node, ckb("codedAs"), res(f"acled-inter-{inter}")))
    return node


class Converter:
    """Converts one file's rows and remembers how the file writes its codes and dates."""

    def __init__(self) -> None:
        self.header: list[str] = []
        self.styles: dict[str, str] = {}

    def _style(self, key: str, value: str) -> bool:
        """Note how a row writes a code; False when it differs from the file's way (the first row's)."""
        return self.styles.setdefault(key, value) == value

    def convert(self, row: dict[str, str], matcher: Any) -> list[str]:
        """All triples for one ACLED row; raises BadRow with the reason."""
        if not self.header:
            self.header = list(row)
        return convert(row, matcher, self._style)

    def record_triples(self, run: str) -> list[str]:
        """The file's header and code style, on the import's record: what a re-export needs."""
        out = [triple(run, ckb("csvHeader"), text(",".join(self.header)))]
        out += [triple(run, ckb("codeStyle"), text(f"{k}={v}")) for k, v in sorted(self.styles.items())]
        return out


def converter() -> Converter:
    """A converter for one import."""
    return Converter()


def convert(row: dict[str, str], matcher: Any, style: Any = lambda key, value: True) -> list[str]:
    """All triples for one ACLED row; raises BadRow with the reason."""
    eid = (row.get("event_id_cnty") or "").strip()
    if not re.fullmatch(r"[A-Z]{2,4}\d+", eid):
        raise BadRow(f"event_id_cnty {shown(eid)} is not an ACLED event id (e.g. SYR12345)")
    etype, sub = row["event_type"].strip(), row["sub_event_type"].strip()
    if etype not in EVENT_TYPES:
        raise BadRow(f"event_type {shown(etype)} is not one of ACLED's six event types")
    if sub not in SUB_EVENT_TYPES[etype]:
        raise BadRow(f"sub_event_type {shown(sub)} is not a sub-event type of {etype!r}")
    coded = codes.read_codes(row, style)
    precision = row["time_precision"].strip()
    earliest, latest, unit = bounds(coded["date"], precision)
    fatalities = count(row, "fatalities")
    lat, lon = coordinate(row, "latitude", 90), coordinate(row, "longitude", 180)
    geo = row["geo_precision"].strip()
    if geo not in GEO_PREC:
        raise BadRow(f"geo_precision {shown(geo)} is not 1, 2 or 3")
    if not row["actor1"].strip():
        raise BadRow("actor1 is empty")
    notes = row["notes"].strip()
    if not notes:
        raise BadRow("notes is empty: the claim needs its words")

    out: list[str] = []

    def T(s: str, p: str, o: str) -> None:
        out.append(f"{s} {p} {o} .\n")
    ev, claim = res(f"acled-{eid}"), res(f"acled-{eid}-claim")
    T(ev, RDF_TYPE, ckb(EVENT_TYPES[etype]))
    T(ev, RDFS_LABEL, text(f"{sub}: {row['location'] or row['country']}, {earliest.isoformat()}"))
    T(ev, ckb("codedAs"), res(f"acled-{slug(etype)}"))
    T(ev, ckb("codedAs"), res(f"acled-{slug(sub)}"))
    T(ev, ckb("acledId"), text(eid))
    T(ev, ckb("eventStatus"), ckb("Occurred"))
    # a day as the ontology stores days (xsd:date is outside OWL 2's datatypes: reasoners reject it)
    T(ev, ckb("codedDate"), day(coded["date"].isoformat()))
    T(ev, ckb("earliestDate"), day(earliest.isoformat()))
    T(ev, ckb("latestDate"), day(latest.isoformat()))
    T(ev, ckb("datePrecision"), ckb(unit))
    T(ev, ckb("timePrecisionCode"), res(f"acled-time-precision-{precision}"))
    T(ev, ckb("geoPrecisionCode"), res(f"acled-geo-precision-{geo}"))
    if "interaction" in coded:
        T(ev, ckb("interactionCode"), res(f"acled-interaction-{coded['interaction']}"))
    for way in coded["style"]:
        T(ev, ckb("codeStyle"), text(way))
    for kind in coded["disorder"]:
        T(ev, ckb("disorderType"), res(f"acled-disorder-{slug(kind)}"))
    if coded["civilians"]:
        T(ev, ckb("civilianTargeting"), res("acled-civilians-targeted"))
    for column, prop in codes.LITERAL_COLUMNS:
        value = (row.get(column) or "").strip()
        if value:
            T(ev, ckb(prop), text(value))
    if fatalities is not None:  # ACLED's single, conservative figure
        T(ev, ckb("fatalitiesBest"), integer(fatalities))
    place = place_triples(row["country"].strip(), row["admin1"].strip(), row["admin2"].strip(),
                          row["location"].strip(), lat, lon, out, matcher.once)
    if place is not None:
        T(ev, ckb("place"), place)
    T(ev, ckb("locationPrecision"), ckb(GEO_PREC[geo]))
    _participants(row, eid, coded, matcher, out)
    _claim(row, eid, ev, claim, notes, coded, matcher, out)
    return out


def _participants(row: dict[str, str], eid: str, coded: dict[str, Any], matcher: Any, out: list[str]) -> None:
    """Actor 1 and 2 and their associated actors: each a participation on its actor's side."""

    def T(s: str, p: str, o: str) -> None:
        out.append(f"{s} {p} {o} .\n")
    ev = res(f"acled-{eid}")
    parts = [("1", row["actor1"].strip(), coded["1"], "Actor1", None),
             ("2", row["actor2"].strip(), coded["2"], "Actor2", None)]
    for n, column in (("1", "assoc_actor_1"), ("2", "assoc_actor_2")):
        names = [a.strip() for a in row[column].split(";")]
        for k, name in enumerate(a for a in names if a):
            parts.append((f"{n}-assoc-{k}", name, "", "AssociatedActor", k))
    for key, name, inter, role, position in parts:
        if not name:
            continue
        actor = _actor(matcher, name, inter, out)
        part = res(f"acled-{eid}-actor-{key}")
        T(ev, ckb("participant"), actor)
        T(ev, ckb("hasParticipation"), part)
        T(part, RDF_TYPE, ckb("Participation"))
        T(part, ckb("participationActor"), actor)
        T(part, ckb("participantRole"), ckb(role))
        # actor 1 and its associated actors are one side, actor 2 and its associated actors the other
        T(part, ckb("side"), ckb("SideA" if key.startswith("1") else "SideB"))
        T(part, ckb("asDescribed"), text(name))
        if inter:  # the row's coding of this actor, also when the actor was already known
            T(part, ckb("actorTypeCode"), res(f"acled-inter-{inter}"))
        if position is not None:
            T(part, ckb("listPosition"), integer(position))


def _claim(row: dict[str, str], eid: str, ev: str, claim: str, notes: str, coded: dict[str, Any],
           matcher: Any, out: list[str]) -> None:
    """The claim: ACLED's coding; its notes are the words the claim rests on; its sources."""

    def T(s: str, p: str, o: str) -> None:
        out.append(f"{s} {p} {o} .\n")
    doc, quote = res(f"acled-{eid}-notes"), res(f"acled-{eid}-quote")
    T(claim, RDF_TYPE, ckb("Report"))
    T(claim, RDFS_LABEL, text(f"ACLED event {eid} as coded by ACLED"))
    T(claim, ckb("codesRecord"), ev)
    T(claim, ckb("supports"), ev)
    T(claim, ns(PROV + "wasAttributedTo"), res("ACLED"))
    if row["source_scale"].strip():
        T(claim, ckb("sourceScale"), text(row["source_scale"].strip()))
    if row["source"].strip():
        T(claim, ckb("codedSources"), text(row["source"].strip()))
    if coded["stamp"] is not None:
        T(claim, ckb("lastModified"), f'"{coded["stamp"].strftime("%Y-%m-%dT%H:%M:%SZ")}"^^<{XSD}dateTime>')
    T(doc, RDF_TYPE, ckb("Document"))
    T(doc, RDFS_LABEL, text(f"ACLED notes of event {eid}"))
    T(doc, ckb("fullText"), text(notes))
    T(claim, ckb("hasQuote"), quote)
    T(quote, RDF_TYPE, ckb("Quote"))
    T(quote, ckb("exact"), text(notes))
    T(quote, ckb("startOffset"), integer(0))
    T(quote, ckb("endOffset"), integer(len(notes)))
    T(quote, ckb("inDocument"), doc)
    sources = [s.strip() for s in row["source"].split(";") if s.strip()] or ["unnamed source"]
    for n, source in enumerate(dict.fromkeys(sources)):
        stmt, outlet = res(f"acled-{eid}-report-{n}"), matcher.outlet("acled", source)
        T(stmt, RDF_TYPE, ckb("SourceStatement"))
        T(stmt, ns(PROV + "wasAttributedTo"), outlet)
        if matcher.once(outlet):
            kind = "MediaOutlet" if source != "unnamed source" else "UnnamedAgent"
            T(outlet, RDF_TYPE, ckb(kind))
            T(outlet, RDFS_LABEL, text(source))
        T(claim, ns(PROV + "wasDerivedFrom"), stmt)
        T(claim, ns(PROV + "hadPrimarySource"), stmt)
