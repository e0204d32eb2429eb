"""Dated events (and dated relations) for the timeline, with honest precision."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from kb.browse import labels, local_name
from kb.namespaces import CKB

RDFS_SUBCLASS = "http://www.w3.org/2000/01/rdf-schema#subClassOf"
PRECISIONS = {str(CKB.DayPrecision): "day", str(CKB.MonthPrecision): "month",
              str(CKB.YearPrecision): "year"}


@dataclass
class TimelineItem:
    """One thing in time: the whole interval it may lie in, [start, end) in days."""

    iri: str
    label: str
    kind: str  # label of its most specific type
    start: date | None
    end: date | None  # exclusive: the day after the latest possible date
    precision: str  # "day", "month", "year" or "" when the data does not say
    earliest: str  # the bounds as stored, for display
    latest: str
    is_event: bool
    open_end: bool = False  # no latest date: drawn over the earliest bound's unit only
    open_start: bool = False  # no earliest date: drawn over the latest bound's unit only


def _parse(value: Any) -> date | None:
    """An xsd:date (or dateTime, gYearMonth, gYear) literal as a date, else None."""
    text = str(value) if value is not None else ""
    try:
        if len(text) >= 10:
            return date.fromisoformat(text[:10])
        if len(text) == 7:
            return date.fromisoformat(text + "-01")
        if len(text) == 4:
            return date(int(text), 1, 1)
    except ValueError:
        return None
    return None


def _widen(start: date, precision: str) -> date:
    """The last day the precision allows: a month-precise date covers the whole month."""
    if precision == "month":
        return start.replace(day=calendar.monthrange(start.year, start.month)[1])
    if precision == "year":
        return start.replace(month=12, day=31)
    return start


def _interval(earliest: date | None, latest: date | None, precision: str) -> tuple[date, date]:
    """The [start, end) interval the bounds and precision permit (never narrower)."""
    if earliest is None:
        assert latest is not None
        first = latest.replace(day=1) if precision == "month" else latest
        first = latest.replace(month=1, day=1) if precision == "year" else first
        return first, latest + timedelta(days=1)
    last = latest if latest is not None else _widen(earliest, precision)
    return earliest, max(last, earliest) + timedelta(days=1)


def timeline(kb: Any) -> tuple[list[TimelineItem], list[TimelineItem]]:
    """Return (dated items, undated events): events and anything else carrying date bounds."""
    rows = kb.query(f"""
    SELECT ?x ?type ?earliest ?latest ?precision ?isEvent WHERE {{
      {{ ?x <{CKB.earliestDate}> ?any }} UNION {{ ?x <{CKB.latestDate}> ?any }}
      UNION {{ ?x a/<{RDFS_SUBCLASS}>* <{CKB.Event}> }}
      OPTIONAL {{ ?x <{CKB.earliestDate}> ?earliest }}
      OPTIONAL {{ ?x <{CKB.latestDate}> ?latest }}
      OPTIONAL {{ ?x <{CKB.datePrecision}> ?precision }}
      OPTIONAL {{ ?x a ?type }}
      BIND(EXISTS {{ ?x a/<{RDFS_SUBCLASS}>* <{CKB.Event}> }} AS ?isEvent)
    }}""", inferred=False).rows  # asserted types only: the kind shown is the most specific one
    found: dict[str, dict[str, Any]] = {}
    for row in rows:
        entry = found.setdefault(str(row["x"]), {"types": set()})
        for key in ("earliest", "latest", "precision"):
            if row.get(key) is not None:
                entry[key] = row[key]
        if row.get("type") is not None:
            entry["types"].add(str(row["type"]))
        entry["is_event"] = str(row.get("isEvent")).lower() in ("true", "1")
    names = labels(kb, [*found, *(t for e in found.values() for t in e["types"])])
    dated, undated = [], []
    for iri, e in found.items():
        precision = PRECISIONS.get(str(e.get("precision")), "")
        earliest, latest = _parse(e.get("earliest")), _parse(e.get("latest"))
        kinds = sorted(names.get(t, local_name(t)) for t in e["types"]
                       if not t.startswith("http://www.w3.org/2002/07/owl#"))
        item = TimelineItem(iri, names.get(iri, iri), ", ".join(kinds), None, None, precision,
                            str(e.get("earliest") or ""), str(e.get("latest") or ""),
                            e["is_event"])
        if earliest is None and latest is None:
            if item.is_event:
                undated.append(item)
            continue
        item.start, item.end = _interval(earliest, latest, precision)
        item.open_end, item.open_start = latest is None, earliest is None
        dated.append(item)
    dated.sort(key=lambda i: (i.start, i.label))
    undated.sort(key=lambda i: i.label.lower())
    return dated, undated
