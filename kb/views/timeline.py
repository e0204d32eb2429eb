"""Dated events (and dated relations) for the timeline, with honest precision."""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from kb.derived.memo import memo
from kb.namespaces import CKB
from kb.views import classes
from kb.views.browse import labels, local_name
from kb.views.naming import chunks, values_block
from kb.views.timebuckets import iso_words

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
    open_end: bool = False  # no latest date: drawn running on to today ("since ...")
    open_start: bool = False  # no earliest date: drawn over the latest bound's unit only
    when: str = ""  # how a reader says the time: "since September 2015", "2016", ...
    also: list[tuple[str, str]] = field(default_factory=list)  # other nodes of the same fact

    @property
    def display(self) -> str:
        """The label with its time, unless the label already says it."""
        if not self.when or self.when.lower() in self.label.lower():
            return self.label
        return f"{self.label} · {self.when}"


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


def _say(day: date, precision: str) -> str:
    """A date as precisely as the source gives it: 'September 2015', '2015', '3 September 2015'."""
    if precision == "month":
        return f"{calendar.month_name[day.month]} {day.year}"
    if precision == "year":
        return str(day.year)
    return f"{day.day} {calendar.month_name[day.month]} {day.year}"


def _when(earliest: date | None, latest: date | None, precision: str) -> str:
    """The time of an item in words; open ends read 'since ...' and 'until ...'."""
    if earliest is not None and latest is None:
        return f"since {_say(earliest, precision)}"
    if earliest is None and latest is not None:
        return f"until {_say(latest, precision)}"
    assert earliest is not None and latest is not None
    first, last = _say(earliest, precision), _say(latest, precision)
    return first if first == last else f"{first} to {last}"


def _merge_same_facts(kb: Any, items: list[TimelineItem]) -> list[TimelineItem]:
    """One item per fact: items with the same interval that rest on a common claim (an event
    and the relation node that models the same thing) are drawn once, the event first."""
    if len(items) < 2:
        return items
    rows = [r for part in chunks([i.iri for i in items])
            for r in kb.query(f"SELECT ?c ?x WHERE {{ VALUES ?x {{ {values_block(part)} }} "
                              f"?c <{CKB.supports}> ?x }}").rows]
    claims: dict[str, set[str]] = {}
    for r in rows:
        claims.setdefault(str(r["x"]), set()).add(str(r["c"]))
    kept: list[TimelineItem] = []
    for item in sorted(items, key=lambda i: (not i.is_event, i.label)):
        twin = next((k for k in kept if (k.start, k.end, k.open_end, k.open_start) == (
            item.start, item.end, item.open_end, item.open_start)
            and claims.get(k.iri, set()) & claims.get(item.iri, set())), None)
        if twin is None:
            kept.append(item)
        else:
            twin.also.append((item.iri, item.label))
    return kept


def event_items(kb: Any, events: list[Any], kinds: dict[str, str], relations: list[str],
                today: date | None = None) -> list[TimelineItem]:
    """Items for a few rows of the event index (kb.derived.events.Event, no query needed) and for
    the dated relations named, one item per fact, by date."""
    today = today or date.today()
    items = []
    for e in events:
        precision = PRECISIONS.get(e.precision, "")
        earliest, latest = _parse(e.start), _parse(e.end)
        label = iso_words(e.label) if e.label else local_name(e.iri)
        item = TimelineItem(e.iri, label, kinds.get(e.type, ""), None, None, precision, e.start, e.end, True)
        item.start, item.end = _interval(earliest, latest, precision)
        item.open_end, item.open_start = latest is None, earliest is None
        if item.open_end:
            item.end = max(item.end, today + timedelta(days=1))
        item.when = _when(earliest, latest, precision)
        items.append(item)
    if relations:  # an event and a relation node may model the same fact: drawn once
        items = _merge_same_facts(kb, items + timeline(kb, today, only=relations)[0])
    items.sort(key=lambda i: (i.start, i.label))
    return items


_Bounds = dict[str, tuple[date | None, date | None, str]]  # relation -> (earliest, latest, precision)


def dated_relations(kb: Any, timeout: float | None = None) -> list[str]:
    """The IRIs of the dated relations (backings, alliances, memberships: ckb:Relation), remembered
    until the store's next write. Found from the relations, not from every date: asking which dated
    things are not events timed out at 300,000 imported events. ``timeout``: for a reading ahead,
    off the request path (at 10M triples on a server it takes 8 s quiet, past 30 s under load)."""
    return sorted(_relation_bounds(kb, timeout))


def relations_within(kb: Any, iris: list[str], first: str, last: str, today: date | None = None) -> list[str]:
    """Those of ``iris`` (dated relations) whose interval meets the days ``first``..``last`` (ISO
    dates; "" leaves that side open), earliest first: the page draws only as many as it can."""
    today = today or date.today()
    bounds = _relation_bounds(kb)
    low, high = (date.fromisoformat(d) if d else None for d in (first, last))
    found = []
    for iri in iris:
        earliest, latest, precision = bounds.get(iri, (None, None, ""))
        if earliest is None and latest is None:
            continue
        start, end = _interval(earliest, latest, precision)
        if latest is None:
            end = max(end, today + timedelta(days=1))
        if (low is None or end > low) and (high is None or start <= high):
            found.append((start, iri))
    return [iri for _start, iri in sorted(found)]


def _relation_bounds(kb: Any, timeout: float | None = None) -> _Bounds:
    """Each dated relation's bounds and precision, read in one query, remembered until the next write."""
    held = memo(kb, "timeline-relations")
    if held is not None and "bounds" in held:
        return held["bounds"]
    # The classes listed (kb.views.classes), not joined through rdfs:subClassOf*: Virtuoso's
    # zero-or-more path in a join answers wrong, and the list is cheaper on every engine.
    rows = kb.query(f"""SELECT ?x ?earliest ?latest ?precision WHERE {{
      {classes.typed(kb, "?x", str(CKB.Relation), "?c")}
      OPTIONAL {{ ?x <{CKB.earliestDate}> ?earliest }} OPTIONAL {{ ?x <{CKB.latestDate}> ?latest }}
      OPTIONAL {{ ?x <{CKB.datePrecision}> ?precision }}
      FILTER(BOUND(?earliest) || BOUND(?latest)) }}""", inferred=False, limit=10_000_000,
                    timeout=timeout).rows
    bounds: dict[str, tuple[date | None, date | None, str]] = {}
    for r in rows:
        earliest, latest = _parse(r.get("earliest")), _parse(r.get("latest"))
        if earliest is not None or latest is not None:
            bounds[str(r["x"])] = (earliest, latest, PRECISIONS.get(str(r.get("precision")), ""))
    if held is not None:
        held["bounds"] = bounds
    return bounds


def timeline(kb: Any, today: date | None = None,
             only: list[str] | None = None) -> tuple[list[TimelineItem], list[TimelineItem]]:
    """Return (dated items, undated events): events and anything else carrying date bounds,
    or only the things named in ``only`` (the page's: a few events and the dated relations).

    An item with no latest date runs on to ``today`` (default: the current date)."""
    today = today or date.today()
    if only is not None and not only:
        return [], []
    # the things named go in runs (one VALUES block each): thousands of dated relations in one
    # text passed the query length limit at 1M triples
    every = f"""
      {{ ?x <{CKB.earliestDate}> ?any }} UNION {{ ?x <{CKB.latestDate}> ?any }}
      UNION {{ ?x a/<{RDFS_SUBCLASS}>* <{CKB.Event}> }}"""
    choices = [every] if only is None else [f"VALUES ?x {{ {values_block(part)} }}" for part in chunks(only)]
    rows = [r for chosen in choices for r in kb.query(f"""
    SELECT ?x ?type ?earliest ?latest ?precision ?isEvent WHERE {{
      {chosen}
      OPTIONAL {{ ?x <{CKB.earliestDate}> ?earliest }}
      OPTIONAL {{ ?x <{CKB.latestDate}> ?latest }}
      OPTIONAL {{ ?x <{CKB.datePrecision}> ?precision }}
      OPTIONAL {{ ?x a ?type }}
      BIND(EXISTS {{ ?x a/<{RDFS_SUBCLASS}>* <{CKB.Event}> }} AS ?isEvent)
    }}""", inferred=False).rows]  # asserted types only: the kind shown is the most specific one
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
    names = {k: iso_words(v) for k, v in names.items()}  # imported labels carry ISO days: say them
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
        if item.open_end:  # "since September 2015": still going on as far as the source says
            item.end = max(item.end, today + timedelta(days=1))
        item.when = _when(earliest, latest, precision)
        dated.append(item)
    dated = _merge_same_facts(kb, dated)
    dated.sort(key=lambda i: (i.start, i.label))
    undated.sort(key=lambda i: i.label.lower())
    return dated, undated
