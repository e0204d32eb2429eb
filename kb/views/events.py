"""The events table: a page of the event index (kb.derived.events), its facets, its CSV, and
the SPARQL that gives the same rows in the same order.

The index answers the page; the SPARQL is what an analyst takes away to check or extend it,
so it computes each column as the index does (kb.derived.eventbuild): the same events, the
same least values, the same sort keys, over the same graphs (all but the inferred one, named
by FROM). Filter values reach the query text only as checked IRIs (kb.terms.iri_ref), days
and whole numbers (EventFilters.parse checked them).
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from typing import Any

from pyroaring import BitMap

from kb.derived.eventbuild import ROLE_SIDE
from kb.derived.events import FACETS, SORTS, Event, EventFilters, EventIndex
from kb.errors import KBError
from kb.namespaces import CKB
from kb.terms import iri_ref

FACET_TITLES = {"graph": "Dataset or document", "country": "Country", "admin1": "Province (admin 1)",
                "admin2": "District (admin 2)", "type": "Event type", "actor": "Actor",
                "side": "Side", "precision": "Date precision"}
SORT_TITLES = {"date": "Date", "label": "Event", "country": "Country", "type": "Type",
               "fatalities": "Deaths (best)"}
MAX_OFFSET = 10_000  # rows a listing pages through (as Datasette's max_returned_rows): narrow it
CSV_ROWS = 100_000  # rows one CSV download holds; past it the file says it is cut
SIDE_NAMES = {str(CKB.Attacker): "attacker", str(CKB.TargetedParty): "target"}


@dataclass
class Listing:
    """One page of the events table."""

    rows: list[Event]
    total: int
    fatalities: int
    facets: dict[str, list[tuple[str, int]]]
    sort: str
    truncated: bool  # more rows match than the pages reach (MAX_OFFSET)


def check_sort(value: str | None) -> str:
    """A sort as the table takes it ("-date" by default); KBError for another."""
    sort = (value or "-date").strip()
    if sort.lstrip("-") not in SORTS:
        raise KBError(f"sort must be one of {', '.join(SORTS)} (with - for descending), not {sort[:40]!r}")
    return sort


def listing(index: EventIndex, f: EventFilters, sort: str, limit: int, offset: int,
            facet_size: int = 12) -> Listing:
    """The page of the view ``f`` from ``offset``, its facets and totals."""
    if offset >= MAX_OFFSET:
        raise KBError(f"the table pages through the first {MAX_OFFSET:,} rows; narrow it with a facet")
    mask = index.matching(f)
    return Listing(rows=[index.row(n) for n in index.page(mask, sort, limit, offset)], total=len(mask),
                   fatalities=index.fatalities(mask), facets=index.facets(mask, facet_size, FACETS, f.actor),
                   sort=sort, truncated=len(mask) > MAX_OFFSET)


def actors_in_words(index: EventIndex, e: Event) -> list[tuple[str, str, str]]:
    """(actor, label, side in words) of an event, sides first."""
    out = [(a, index.label(a), side_word(index, s)) for a, s in e.actors]
    return sorted(out, key=lambda x: (x[2] == "", x[2], x[1]))


def side_word(index: EventIndex, side: str) -> str:
    """A side in words: "side A", "attacker", "" when unknown."""
    return SIDE_NAMES.get(side) or (index.label(side) if side else "")


CSV_COLUMNS = ("event", "type", "start", "end", "date precision", "country", "admin1", "admin2",
               "place", "latitude", "longitude", "actors", "deaths low", "deaths best", "deaths high",
               "status", "dataset", "iri")


def csv_bytes(index: EventIndex, mask: BitMap, sort: str) -> bytes:
    """The view as CSV with labels (the event's IRI in the last column), at most CSV_ROWS rows."""
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(CSV_COLUMNS)
    rows = index.page(mask, sort, CSV_ROWS, 0)
    for n in rows:
        e = index.row(n)
        named = "; ".join(f"{label} ({side})" if side else label
                          for _a, label, side in actors_in_words(index, e))
        w.writerow([e.label, _name(index, e.type), e.start, e.end, _name(index, e.precision),
                    _name(index, e.country), _name(index, e.admin1), _name(index, e.admin2),
                    _name(index, e.place), _num(e.lat), _num(e.lon), named, _num(e.low), _num(e.best),
                    _num(e.high), _name(index, e.status), index.label(e.graph), e.iri])
    if len(mask) > len(rows):
        w.writerow([f"cut: {len(mask) - len(rows):,} more rows match; narrow the view"])
    return out.getvalue().encode("utf-8")


def _name(index: EventIndex, iri: str) -> str:
    return index.label(iri) if iri else ""


def _num(value: Any) -> str:
    return "" if value is None else str(value)


# -- the SPARQL ------------------------------------------------------------------------------

PREFIXES = f"""PREFIX ckb: <{CKB}>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX geo: <http://www.w3.org/2003/01/geo/wgs84_pos#>
"""
_SUB = "rdfs:subClassOf*"
# the event's most specific asserted types: none of its other types is below them
_SPECIFIC = (f"?event a ?t . ?t {_SUB} ckb:Event . "
             "FILTER NOT EXISTS { ?event a ?t2 . ?t2 rdfs:subClassOf+ ?t . FILTER(?t2 != ?t) }")
_ORDER = {"date": "?start", "label": "?label", "country": "?countryName", "type": "?typeName",
          "fatalities": "?best"}


def _string(text: str) -> str:
    return json.dumps(text, ensure_ascii=True)  # JSON escaping is valid SPARQL escaping


def _side_pattern(actor: str, side: str) -> str:
    """The participation ?sp of ``actor`` (any actor if "") on ``side``: its ckb:side, or where
    it states none, a role that names that side."""
    roles = [r for r, s in ROLE_SIDE.items() if s == side]
    who = iri_ref(actor) if actor else "?anyActor"
    by_role = (f"UNION {{ FILTER NOT EXISTS {{ ?sp ckb:side ?anySide }} ?sp ckb:participantRole ?sr . "
               f"FILTER(?sr IN ({', '.join(iri_ref(r) for r in roles)})) }}") if roles else ""
    return (f"?event ckb:hasParticipation ?sp . ?sp ckb:participationActor {who} . "
            f"{{ ?sp ckb:side {iri_ref(side)} }} {by_role}")


def build_query(f: EventFilters, graphs: list[str], sort: str = "-date", limit: int | None = None,
                offset: int = 0) -> str:
    """SPARQL giving the view's rows, in its order, with the table's columns (IRIs and labels)."""
    where = []
    if f.graph:
        where.append(f"GRAPH {iri_ref(f.graph)} {{ ?event a ?tg }} ?tg {_SUB} ckb:Event .")
    for name, cls in (("country", "Country"), ("admin1", "Province"), ("admin2", "Region")):
        if getattr(f, name):
            where.append(f"?event ckb:place/ckb:partOfPlace* {iri_ref(getattr(f, name))} . "
                         f"{iri_ref(getattr(f, name))} a ckb:{cls} .")
    if f.place:
        where.append(f"?event ckb:place/ckb:partOfPlace* {iri_ref(f.place)} .")
    if f.actor:
        where.append("?event ckb:participant|ckb:hasParticipation/ckb:participationActor "
                     f"{iri_ref(f.actor)} .")
    if f.side:
        where.append(_side_pattern(f.actor, f.side))
    having = []
    if f.type:
        having.append(f"?type = {iri_ref(f.type)}")
    if f.precision:
        having.append(f"?precision = {iri_ref(f.precision)}")
    if f.start:
        having.append(f"COALESCE(?end, ?start) >= {_string(f.start)}")
    if f.end:
        having.append(f"COALESCE(?start, ?end) <= {_string(f.end)}")
    if f.fat_min is not None:
        having.append(f"?best >= {int(f.fat_min)}")
    if f.fat_max is not None:
        having.append(f"?best <= {int(f.fat_max)}")
    key = sort.lstrip("-")
    order = f"DESC({_ORDER[key]}) ?event" if sort.startswith("-") else f"{_ORDER[key]} ?event"
    sources = "\n".join(f"FROM {iri_ref(g)}" for g in graphs) + "\n" + "\n".join(
        f"FROM NAMED {iri_ref(g)}" for g in graphs)
    page = f"\nLIMIT {int(limit)}" if limit is not None else ""
    page += f" OFFSET {int(offset)}" if offset else ""
    return f"""{PREFIXES}SELECT ?event ?label ?type ?typeName ?start ?end ?precision ?country ?countryName
       ?admin1 ?admin2 ?place ?lat ?long ?low ?best ?high ?dataset ?actors
{sources}
WHERE {{ {{
  SELECT ?event (MIN(STR(?l)) AS ?label) (IRI(MIN(STR(?t))) AS ?type) (MIN(STR(?tl)) AS ?typeName)
         (MIN(SUBSTR(STR(?e), 1, 10)) AS ?start) (MAX(SUBSTR(STR(?x), 1, 10)) AS ?end)
         (IRI(MIN(STR(?pr))) AS ?precision) (IRI(MIN(STR(?c))) AS ?country) (MIN(STR(?cl)) AS ?countryName)
         (IRI(MIN(STR(?a1))) AS ?admin1) (IRI(MIN(STR(?a2))) AS ?admin2) (IRI(MIN(STR(?pl))) AS ?place)
         (MIN(?la) AS ?lat) (MIN(?lo) AS ?long) (MIN(?fl) AS ?low) (MIN(?fb) AS ?best) (MIN(?fh) AS ?high)
         (IRI(MIN(STR(?g))) AS ?dataset)
         (GROUP_CONCAT(DISTINCT ?actorName; separator="; ") AS ?actors)
  WHERE {{
    GRAPH ?g {{ ?event a ?t0 }} ?t0 {_SUB} ckb:Event . FILTER(isIRI(?event))
    {' '.join(where)}
    OPTIONAL {{ {_SPECIFIC} OPTIONAL {{ ?t rdfs:label ?tl }} }}
    OPTIONAL {{ ?event rdfs:label ?l }}
    OPTIONAL {{ ?event ckb:earliestDate ?e }}
    OPTIONAL {{ ?event ckb:latestDate ?x }}
    OPTIONAL {{ ?event ckb:datePrecision ?pr }}
    OPTIONAL {{ ?event ckb:place/ckb:partOfPlace* ?c . ?c a ckb:Country . OPTIONAL {{ ?c rdfs:label ?cl }} }}
    OPTIONAL {{ ?event ckb:place/ckb:partOfPlace* ?a1 . ?a1 a ckb:Province }}
    OPTIONAL {{ ?event ckb:place/ckb:partOfPlace* ?a2 . ?a2 a ckb:Region }}
    OPTIONAL {{ ?event ckb:place ?pl }}
    OPTIONAL {{ ?event ckb:place/geo:lat ?la }} OPTIONAL {{ ?event ckb:place/geo:long ?lo }}
    OPTIONAL {{ ?event ckb:fatalitiesLow ?fl }}
    OPTIONAL {{ ?event ckb:fatalitiesBest ?fb }}
    OPTIONAL {{ ?event ckb:fatalitiesHigh ?fh }}
    OPTIONAL {{ ?event ckb:participant|ckb:hasParticipation/ckb:participationActor ?who .
               OPTIONAL {{ ?who rdfs:label ?actorName }} }}
  }} GROUP BY ?event }}
  {'FILTER(' + ' && '.join(having) + ')' if having else ''}
}}
ORDER BY {order}{page}
"""
