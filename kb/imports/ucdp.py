"""UCDP GED rows (codebook 19.1 onwards) -> one coded event, its claim and its sources per row."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pyoxigraph as ox

from .common import (
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
    text,
)
from .places import place_triples

PROV = "http://www.w3.org/ns/prov#"
REQUIRED = ("id", "type_of_violence", "conflict_new_id", "dyad_new_id", "dyad_name", "side_a_new_id",
            "side_a",
            "side_b_new_id", "side_b", "source_article", "source_office", "source_date", "source_headline",
            "source_original", "where_prec", "where_coordinates", "adm_1", "adm_2", "latitude", "longitude",
            "country", "event_clarity", "date_prec", "date_start", "date_end", "deaths_a", "deaths_b",
            "deaths_civilians", "deaths_unknown", "low", "best", "high")
EVENT_CLASS = {"1": "Clash", "2": "Clash", "3": "OneSidedViolence"}
WHERE_PREC = {"1": "ExactLocation", "2": "NearLocation", "3": "SecondOrderAdminArea",
              "4": "FirstOrderAdminArea",
              "5": "PartOfCountry", "6": "CountryOnly", "7": "InternationalArea"}
CLARITY = {"1": "CodedClear", "2": "CodedUnclear"}
UCDP = res("UCDP")


def _date(row: dict[str, str], column: str) -> str:
    raw = (row.get(column) or "").strip()[:10]
    try:
        date.fromisoformat(raw)
    except ValueError:
        raise BadRow(f"{column} {row.get(column)!r} is not a date (YYYY-MM-DD)") from None
    return raw


def _code(row: dict[str, str], column: str, table: dict[str, str]) -> str:
    raw = (row.get(column) or "").strip()
    if raw not in table:
        raise BadRow(f"{column} {raw!r} is not one of {', '.join(table)}")
    return table[raw]


def _actor(matcher: Any, name: str, actor_id: str, out: list[ox.Triple]) -> ox.NamedNode:
    """Resolve a side; a new actor is typed from its name the way UCDP writes it."""
    iri, new = matcher.resolve("ucdp", name, actor_id, fallback=f"ucdp-actor-{actor_id or name_key(name)}")
    node = ox.NamedNode(iri)
    if new:
        kind = "Government" if name.startswith("Government of") else (
            "PersonGroup" if name == "Civilians" else "ArmedGroup")
        out.append(ox.Triple(node, RDF_TYPE, ckb(kind)))
        out.append(ox.Triple(node, RDFS_LABEL, text(name)))
    if actor_id and matcher.once(f"ucdp-id-{iri}-{actor_id}"):
        out.append(ox.Triple(node, ckb("ucdpId"), text(actor_id)))
    return node


def convert(row: dict[str, str], matcher: Any) -> list[ox.Triple]:
    """All triples for one GED row; raises BadRow with the reason."""
    gid = (row.get("id") or "").strip()
    if not re.fullmatch(r"\d+", gid):
        raise BadRow(f"id {gid!r} is not a UCDP event id")
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

    out: list[ox.Triple] = []
    T = out.append
    ev, claim = res(f"ucdp-ged-{gid}"), res(f"ucdp-ged-{gid}-claim")
    T(ox.Triple(ev, RDF_TYPE, ckb(kind)))
    where_name = row["where_coordinates"] or row["country"]
    T(ox.Triple(ev, RDFS_LABEL, text(f"{row['dyad_name']}: {where_name}, {start}")))
    T(ox.Triple(ev, ckb("codedAs"), res(f"ucdp-violence-{row['type_of_violence'].strip()}")))
    T(ox.Triple(ev, ckb("ucdpId"), text(gid)))
    T(ox.Triple(ev, ckb("ucdpDyadId"), text(row["dyad_new_id"].strip())))
    T(ox.Triple(ev, ckb("ucdpConflictId"), text(row["conflict_new_id"].strip())))
    T(ox.Triple(ev, ckb("eventStatus"), ckb("Occurred")))
    T(ox.Triple(ev, ckb("earliestDate"), day(start)))
    T(ox.Triple(ev, ckb("latestDate"), day(end)))
    # the bounds are days; UCDP's date_prec (1 exact ... 5 within the year) is the width of [start, end]
    T(ox.Triple(ev, ckb("datePrecision"), ckb("DayPrecision")))
    for prop, value in (("fatalitiesLow", low), ("fatalitiesBest", best), ("fatalitiesHigh", high)):
        T(ox.Triple(ev, ckb(prop), integer(value)))
    for prop, column in (("deathsSideA", "deaths_a"), ("deathsSideB", "deaths_b"),
                         ("deathsCivilians", "deaths_civilians"), ("deathsUnknown", "deaths_unknown")):
        value = count(row, column, required=False)
        if value is not None:
            T(ox.Triple(ev, ckb(prop), integer(value)))
    place = place_triples(row["country"].strip(), row["adm_1"].strip(), row["adm_2"].strip(),
                          row["where_coordinates"].strip(), lat, lon, out, matcher.once)
    if place is not None:
        T(ox.Triple(ev, ckb("place"), place))
    T(ox.Triple(ev, ckb("locationPrecision"), ckb(where)))

    one_sided = kind == "OneSidedViolence"
    roles = (("a", "Attacker"), ("b", "TargetedParty")) if one_sided else (("a", "SideA"), ("b", "SideB"))
    for side, role in roles:
        actor = _actor(matcher, row[f"side_{side}"].strip(), row[f"side_{side}_new_id"].strip(), out)
        part = res(f"ucdp-ged-{gid}-{side}")
        T(ox.Triple(ev, ckb("participant"), actor))
        T(ox.Triple(ev, ckb("hasParticipation"), part))
        T(ox.Triple(part, RDF_TYPE, ckb("Participation")))
        T(ox.Triple(part, RDFS_LABEL, text(f"{row[f'side_{side}']} (side {side.upper()})")))
        T(ox.Triple(part, ckb("participationActor"), actor))
        T(ox.Triple(part, ckb("participantRole"), ckb(role)))
        T(ox.Triple(part, ckb("asDescribed"), text(row[f"side_{side}"])))

    # the claim: UCDP codes the event from the reports it cites
    T(ox.Triple(claim, RDF_TYPE, ckb("Report")))
    T(ox.Triple(claim, RDFS_LABEL, text(f"UCDP GED event {gid} as coded by UCDP")))
    T(ox.Triple(claim, ckb("codesRecord"), ev))
    T(ox.Triple(claim, ckb("supports"), ev))
    T(ox.Triple(claim, ns(PROV + "wasAttributedTo"), UCDP))
    T(ox.Triple(claim, ckb("hedge"), ckb(clarity)))
    T(ox.Triple(claim, ckb("hedgeText"), text(f"event_clarity {row['event_clarity'].strip()}")))
    _sources(row, gid, claim, out, matcher)
    return out


def _sources(row: dict[str, str], gid: str, claim: ox.NamedNode, out: list[ox.Triple], matcher: Any) -> None:
    """The cited report as a document, its outlets' statements, and the original source behind them."""
    T = out.append
    article, headline = row["source_article"].strip(), row["source_headline"].strip()
    doc, quote = res(f"ucdp-ged-{gid}-source"), res(f"ucdp-ged-{gid}-quote")
    body = article or headline or row["dyad_name"]
    exact = headline if headline and headline in body else body
    startpos = body.index(exact)
    T(ox.Triple(doc, RDF_TYPE, ckb("Document")))
    T(ox.Triple(doc, RDFS_LABEL, text(f"source of UCDP GED event {gid}")))
    # UCDP gives the citation (and sometimes the headline), not the report's text: that is the text we have
    T(ox.Triple(doc, ckb("fullText"), text(body)))
    if headline:
        T(ox.Triple(doc, ckb("headline"), text(headline)))
    if row["source_date"].strip():
        T(ox.Triple(doc, ckb("sourceDate"), text(row["source_date"].strip())))
    T(ox.Triple(claim, ckb("hasQuote"), quote))
    T(ox.Triple(quote, RDF_TYPE, ckb("Quote")))
    T(ox.Triple(quote, ckb("exact"), text(exact)))
    T(ox.Triple(quote, ckb("startOffset"), integer(startpos)))
    T(ox.Triple(quote, ckb("endOffset"), integer(startpos + len(exact))))
    T(ox.Triple(quote, ckb("inDocument"), doc))
    offices = [o.strip() for o in row["source_office"].split(";") if o.strip()] or ["unnamed outlet"]
    original = row["source_original"].strip()
    first = None
    if original:
        first = res(f"ucdp-ged-{gid}-original")
        who = res(f"ucdp-original-{name_key(original)}")
        T(ox.Triple(first, RDF_TYPE, ckb("SourceStatement")))
        T(ox.Triple(first, RDFS_LABEL, text(f"{original}, as UCDP records the original source")))
        T(ox.Triple(first, ns(PROV + "wasAttributedTo"), who))
        if matcher.once(who.value):
            T(ox.Triple(who, RDF_TYPE, ckb("UnnamedAgent")))
            T(ox.Triple(who, RDFS_LABEL, text(f"{original} (original source in UCDP)")))
    for n, office in enumerate(dict.fromkeys(offices)):
        stmt, outlet = res(f"ucdp-ged-{gid}-report-{n}"), res(f"outlet-{name_key(office)}")
        T(ox.Triple(stmt, RDF_TYPE, ckb("SourceStatement")))
        T(ox.Triple(stmt, RDFS_LABEL, text(f"{office} report cited by UCDP for event {gid}")))
        T(ox.Triple(stmt, ns(PROV + "wasAttributedTo"), outlet))
        T(ox.Triple(stmt, ckb("reportedIn"), doc))
        if matcher.once(outlet.value):
            kind = "MediaOutlet" if office != "unnamed outlet" else "UnnamedAgent"
            T(ox.Triple(outlet, RDF_TYPE, ckb(kind)))
            T(ox.Triple(outlet, RDFS_LABEL, text(office)))
        T(ox.Triple(doc, ckb("namesOutlet"), outlet))
        T(ox.Triple(claim, ns(PROV + "wasDerivedFrom"), stmt))
        if first is not None:
            T(ox.Triple(stmt, ns(PROV + "wasDerivedFrom"), first))
    T(ox.Triple(claim, ns(PROV + "hadPrimarySource"), first or res(f"ucdp-ged-{gid}-report-0")))
