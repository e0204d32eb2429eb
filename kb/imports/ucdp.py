"""UCDP GED rows (codebook 19.1 onwards) -> one coded event, its claim and its sources per row."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from .common import (
    DIGITS,
    RDF_TYPE,
    RDFS_LABEL,
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
    text,
    triple,
)
from .common import (
    iri as iri_term,
)
from .places import place_triples

PROV = "http://www.w3.org/ns/prov#"
REQUIRED = ("id", "type_of_violence", "conflict_new_id", "dyad_new_id", "dyad_name", "side_a_new_id",
            "side_a",
            "side_b_new_id", "side_b", "source_article", "source_office", "source_date", "source_headline",
            "source_original", "where_prec", "where_coordinates", "adm_1", "adm_2", "latitude", "longitude",
            "country", "event_clarity", "date_prec", "date_start", "date_end", "deaths_a", "deaths_b",
            "deaths_civilians", "deaths_unknown", "low", "best", "high")
# every column of GED 19.1 and of the later releases (20.1 onwards add the dset ids, relid, code_status
# and where_description): anything else is not a GED file, or a broken one
KNOWN = frozenset(REQUIRED) | {
    "year", "active_year", "conflict_name", "gwnoa", "gwnob", "number_of_sources", "geom_wkt",
    "priogrid_gid", "country_id", "region", "relid", "code_status", "conflict_dset_id", "dyad_dset_id",
    "side_a_dset_id", "side_b_dset_id", "where_description"}
ID = "id"
_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})(?:[ T]\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?)?", re.ASCII)
EVENT_CLASS = {"1": "Clash", "2": "Clash", "3": "OneSidedViolence"}
WHERE_PREC = {"1": "ExactLocation", "2": "NearLocation", "3": "SecondOrderAdminArea",
              "4": "FirstOrderAdminArea",
              "5": "PartOfCountry", "6": "CountryOnly", "7": "InternationalArea"}
CLARITY = {"1": "CodedClear", "2": "CodedUnclear"}
UCDP = res("UCDP")
PLACE_COLUMNS = (("country", "codedCountry"), ("adm_1", "codedAdmin1"), ("adm_2", "codedAdmin2"),
                 ("where_coordinates", "codedLocation"), ("latitude", "codedLatitude"),
                 ("longitude", "codedLongitude"))


def _date(row: dict[str, str], column: str) -> str:
    """A day as GED writes it: 2013-12-13, or in later releases 2013-12-13 00:00:00.000."""
    raw = (row.get(column) or "").strip()
    match = _DATE.fullmatch(raw)
    try:
        if match is None:
            raise ValueError
        date.fromisoformat(match[1])
    except ValueError:
        raise BadRow(f"{column} {shown(raw)} is not a date (YYYY-MM-DD)") from None
    return match[1]


def _code(row: dict[str, str], column: str, table: dict[str, str]) -> str:
    raw = (row.get(column) or "").strip()
    if raw not in table:
        raise BadRow(f"{column} {shown(raw)} is not one of {', '.join(table)}")
    return table[raw]


def _actor(matcher: Any, name: str, actor_id: str, out: list[str]) -> str:
    """Resolve a side; a new actor is typed from its name the way UCDP writes it."""
    iri, new = matcher.resolve("ucdp", name, actor_id, fallback=f"ucdp-actor-{actor_id or name_key(name)}")
    node = iri_term(iri)
    if new and matcher.once(f"actor-{iri}"):  # described once per import
        kind = "Government" if name.startswith("Government of") else (
            "PersonGroup" if name == "Civilians" else "ArmedGroup")
        out.append(triple(node, RDF_TYPE, ckb(kind)))
        out.append(triple(node, RDFS_LABEL, text(name)))
    if actor_id and matcher.once(f"ucdp-id-{iri}-{actor_id}"):
        out.append(triple(node, ckb("ucdpId"), text(actor_id)))
    return node


def convert(row: dict[str, str], matcher: Any) -> list[str]:
    """All triples for one GED row; raises BadRow with the reason."""
    gid = (row.get("id") or "").strip()
    if not DIGITS.fullmatch(gid):
        raise BadRow(f"id {shown(gid)} is not a UCDP event id")
    kind = _code(row, "type_of_violence", EVENT_CLASS)
    start, end = _date(row, "date_start"), _date(row, "date_end")
    if end < start:
        raise BadRow(f"date_end {end} is before date_start {start}")
    low, best, high = count(row, "low"), count(row, "best"), count(row, "high")
    assert low is not None and best is not None and high is not None
    # kept as UCDP codes them, even when out of order (GED 19.1 event 84006: low 0, best 3, high 0);
    # the SHACL shapes flag such rows for a person instead of the importer rewriting the coder's figures
    lat, lon = coordinate(row, "latitude", 90), coordinate(row, "longitude", 180)
    where = _code(row, "where_prec", WHERE_PREC)
    clarity = _code(row, "event_clarity", CLARITY)
    if not row["side_a"].strip() or not row["side_b"].strip():
        raise BadRow("side_a and side_b must both be given")

    out: list[str] = []

    def T(s: str, p: str, o: str) -> None:
        out.append(f"{s} {p} {o} .\n")
    ev, claim = res(f"ucdp-ged-{gid}"), res(f"ucdp-ged-{gid}-claim")
    T(ev, RDF_TYPE, ckb(kind))
    where_name = row["where_coordinates"] or row["country"]
    T(ev, RDFS_LABEL, text(f"{row['dyad_name']}: {where_name}, {start}"))
    T(ev, ckb("codedAs"), res(f"ucdp-violence-{row['type_of_violence'].strip()}"))
    T(ev, ckb("ucdpId"), text(gid))
    T(ev, ckb("ucdpDyadId"), text(row["dyad_new_id"].strip()))
    T(ev, ckb("ucdpConflictId"), text(row["conflict_new_id"].strip()))
    T(ev, ckb("eventStatus"), ckb("Occurred"))
    T(ev, ckb("earliestDate"), day(start))
    T(ev, ckb("latestDate"), day(end))
    # the bounds are days; UCDP's date_prec (1 exact ... 5 within the year) is the width of [start, end]
    T(ev, ckb("datePrecision"), ckb("DayPrecision"))
    for prop, value in (("fatalitiesLow", low), ("fatalitiesBest", best), ("fatalitiesHigh", high)):
        T(ev, ckb(prop), integer(value))
    for prop, column in (("deathsSideA", "deaths_a"), ("deathsSideB", "deaths_b"),
                         ("deathsCivilians", "deaths_civilians"), ("deathsUnknown", "deaths_unknown")):
        value = count(row, column, required=False)
        if value is not None:
            T(ev, ckb(prop), integer(value))
    place = place_triples(row["country"].strip(), row["adm_1"].strip(), row["adm_2"].strip(),
                          row["where_coordinates"].strip(), lat, lon, out, matcher.once)
    if place is not None:
        T(ev, ckb("place"), place)
    # the row's own spellings ("Barisāl Division" and "Barisal Division" share one place node)
    for column, prop in PLACE_COLUMNS:
        if row[column].strip():
            T(ev, ckb(prop), text(row[column].strip()))
    T(ev, ckb("locationPrecision"), ckb(where))

    one_sided = kind == "OneSidedViolence"
    roles = (("a", "Attacker"), ("b", "TargetedParty")) if one_sided else (("a", "SideA"), ("b", "SideB"))
    for side, role in roles:
        actor = _actor(matcher, row[f"side_{side}"].strip(), row[f"side_{side}_new_id"].strip(), out)
        part = res(f"ucdp-ged-{gid}-{side}")
        T(ev, ckb("participant"), actor)
        T(ev, ckb("hasParticipation"), part)
        T(part, RDF_TYPE, ckb("Participation"))
        T(part, ckb("participationActor"), actor)
        T(part, ckb("participantRole"), ckb(role))
        T(part, ckb("asDescribed"), text(row[f"side_{side}"]))

    # the claim: UCDP codes the event from the reports it cites
    T(claim, RDF_TYPE, ckb("Report"))
    T(claim, RDFS_LABEL, text(f"UCDP GED event {gid} as coded by UCDP"))
    T(claim, ckb("codesRecord"), ev)
    T(claim, ckb("supports"), ev)
    T(claim, ns(PROV + "wasAttributedTo"), UCDP)
    T(claim, ckb("hedge"), ckb(clarity))
    T(claim, ckb("hedgeText"), text(f"event_clarity {row['event_clarity'].strip()}"))
    _sources(row, gid, claim, out, matcher)
    return out


def _sources(row: dict[str, str], gid: str, claim: str, out: list[str], matcher: Any) -> None:
    """The cited report as a document, its outlets' statements, and the original source behind them."""

    def T(s: str, p: str, o: str) -> None:
        out.append(f"{s} {p} {o} .\n")
    article, headline = row["source_article"].strip(), row["source_headline"].strip()
    doc, quote = res(f"ucdp-ged-{gid}-source"), res(f"ucdp-ged-{gid}-quote")
    body = article or headline or row["dyad_name"]
    exact = headline if headline and headline in body else body
    startpos = body.index(exact)
    T(doc, RDF_TYPE, ckb("Document"))
    T(doc, RDFS_LABEL, text(f"source of UCDP GED event {gid}"))
    # UCDP gives the citation (and sometimes the headline), not the report's text: that is the text we have
    T(doc, ckb("fullText"), text(body))
    if headline:
        T(doc, ckb("headline"), text(headline))
    if row["source_date"].strip():
        T(doc, ckb("sourceDate"), text(row["source_date"].strip()))
    T(claim, ckb("hasQuote"), quote)
    T(quote, RDF_TYPE, ckb("Quote"))
    T(quote, ckb("exact"), text(exact))
    T(quote, ckb("startOffset"), integer(startpos))
    T(quote, ckb("endOffset"), integer(startpos + len(exact)))
    T(quote, ckb("inDocument"), doc)
    offices = [o.strip() for o in row["source_office"].split(";") if o.strip()] or ["unnamed outlet"]
    original = row["source_original"].strip()
    first = None
    if original:
        first = res(f"ucdp-ged-{gid}-original")
        who = res(f"ucdp-original-{name_key(original)}")
        T(first, RDF_TYPE, ckb("SourceStatement"))
        T(first, ns(PROV + "wasAttributedTo"), who)
        if matcher.once(who):
            T(who, RDF_TYPE, ckb("UnnamedAgent"))
            T(who, RDFS_LABEL, text(f"{original} (original source in UCDP)"))
    for n, office in enumerate(dict.fromkeys(offices)):
        stmt, outlet = res(f"ucdp-ged-{gid}-report-{n}"), matcher.outlet("ucdp", office)
        T(stmt, RDF_TYPE, ckb("SourceStatement"))
        T(stmt, ns(PROV + "wasAttributedTo"), outlet)
        T(stmt, ckb("reportedIn"), doc)
        if matcher.once(outlet):
            kind = "MediaOutlet" if office != "unnamed outlet" else "UnnamedAgent"
            T(outlet, RDF_TYPE, ckb(kind))
            T(outlet, RDFS_LABEL, text(office))
        T(claim, ns(PROV + "wasDerivedFrom"), stmt)
        if first is not None:
            T(stmt, ns(PROV + "wasDerivedFrom"), first)
    T(claim, ns(PROV + "hadPrimarySource"), first or res(f"ucdp-ged-{gid}-report-0"))
