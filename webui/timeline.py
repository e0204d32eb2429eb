"""The timeline: a histogram of events per week, month or year when there are many, each one drawn
over its honest interval when there are few (zoomed in or filtered); undated ones listed."""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import Blueprint, Response, jsonify, render_template, request, url_for
from pyroaring import BitMap
from werkzeug.exceptions import BadRequest

from kb.derived.events import EventFilters
from kb.namespaces import GRAPH_DATA
from kb.views.timebuckets import UNITS, Bar, bars, choose_unit, say_day, ticks
from kb.views.timeline import TimelineItem, dated_relations, event_items, relations_within
from webui import get_kb
from webui.entity import entity_url
from webui.timemap import filter_context, index_of, parse_filters, query_string

bp = Blueprint("timeline", __name__)
ITEMS_MAX = 150  # at most this many dated events are drawn one by one; more make a histogram
UNDATED_SHOWN = 50
_IRIS: dict[int, tuple[Any, frozenset[str]]] = {}  # id(index) -> (a weak reference to it, its IRIs)
PRECISION_WORDS = {"day": "the day", "month": "the month", "year": "the year", "": "not stated"}


@dataclass
class Histogram:
    """The aggregated view: bars of one unit, their totals, and how to say them."""

    unit: str
    buckets: list[Bar]
    total: int
    fatalities: int
    span: str
    undated: int

    @property
    def ticks(self) -> list[tuple[int, str]]:
        """The axis labels: (bar index, words)."""
        return ticks(self.buckets)

    @property
    def charts(self) -> list[dict[str, Any]]:
        """The two charts drawn from the same bars: events, then deaths."""
        return [{"id": "events-chart", "caption": f"Events per {self.unit}", "field": "count",
                 "peak": max((b.count for b in self.buckets), default=0) or 1},
                {"id": "deaths-chart", "caption": f"People killed per {self.unit} (best estimate)",
                 "field": "fatalities", "peak": max((b.fatalities for b in self.buckets), default=0) or 1}]


def _per() -> str | None:
    per = request.args.get("per") or None
    if per is not None and per not in UNITS:
        raise BadRequest(f"per must be one of {', '.join(UNITS)}, not {per[:20]!r}")
    return per


def _overlaps(item: TimelineItem, f: EventFilters) -> bool:
    """Whether an item's interval [start, end) meets the days from..to asked for."""
    assert item.start is not None and item.end is not None
    return (not f.start or item.end > date.fromisoformat(f.start)) and (
        not f.end or item.start <= date.fromisoformat(f.end))


def _view(index: Any, f: EventFilters, per: str | None) -> dict[str, Any]:
    """The histogram, or the items (with the dated relations when no event filter excludes them)."""
    mask = index.matching(f)
    dated = mask & BitMap(range(index.dated))
    undated_rows = mask - dated
    undated = [(e.iri, e.label, index.label(e.type) if e.type else "event")
               for e in (index.row(n) for n in undated_rows[:UNDATED_SHOWN])]
    out: dict[str, Any] = {"hist": None, "dated": [], "undated": undated, "undated_total": len(undated_rows),
                           "relations": 0, "relations_more": 0,
                           "bundle_url": url_for("timeline.index", graph=GRAPH_DATA)}
    # relations (backing, alliances, memberships) belong to no dataset filter but the bundle's
    plain = set(f.active()) <= {"from", "to", "graph"} and f.graph in ("", GRAPH_DATA)
    # not the index's events, whatever an engine makes of the query's subclass path (Virtuoso: all)
    relations = [r for r in dated_relations(get_kb()) if r not in _event_iris(index)] if plain else []
    if len(dated) > ITEMS_MAX:
        out["relations"] = len(relations)
        first, last = (date.fromisoformat(index.starts[n]) for n in (dated.min(), dated.max()))
        unit = choose_unit(first, last, per)
        out["hist"] = Histogram(unit, bars(index.histogram(dated, unit), unit), len(dated),
                                index.fatalities(dated), f"from {say_day(first)} to {say_day(last)}",
                                len(undated_rows))
        return out
    rows = [index.row(n) for n in dated]
    kinds = {e.type: index.label(e.type) for e in rows if e.type}
    # Drawn one by one, with the events, up to ITEMS_MAX in all (5,556 of them at 1M triples made
    # a page of 1.2 MB in 28-59 s): the earliest within the dates asked for; the page says how many more.
    relations = relations_within(get_kb(), relations, f.start, f.end)
    out["relations_more"] = max(0, len(relations) - (ITEMS_MAX - len(rows)))
    relations = relations[:ITEMS_MAX - len(rows)]
    items = event_items(get_kb(), rows, kinds, relations)
    out["dated"] = [i for i in items if i.is_event or _overlaps(i, f)]
    return out


def _event_iris(index: Any) -> frozenset[str]:
    """Every event IRI of the index, made once per index (one store generation)."""
    found = _IRIS.get(id(index))
    if found is None or found[0]() is not index:
        found = _IRIS[id(index)] = (weakref.ref(index), frozenset(e.iri for e in index.events))
        weakref.finalize(index, _IRIS.pop, id(index), None)  # gone with its store generation
    return found[1]


def _zoom_url(f: EventFilters) -> Any:
    """A function: the timeline of one bar's period, with the other filters kept."""
    base = url_for("timeline.index")

    def zoom(b: Bar) -> str:
        active = {k: v for k, v in f.active().items() if k not in ("from", "to")}
        kept = EventFilters.parse({**active, "from": b.start.isoformat(), "to": b.last_day.isoformat()})
        return f"{base}?{query_string(kept)}"
    return zoom


@bp.get("/timeline")
def index() -> str:
    """The timeline page: a histogram server-drawn, or the items (drawn from /api/timeline)."""
    ix = index_of(get_kb())
    f, per = parse_filters(request.args), _per()
    view = _view(ix, f, per)
    api_url = url_for("timeline.api_timeline") + ("?" + query_string(f) if f.active() else "")
    context = filter_context(ix, f)
    context["filters"]["per"] = per or ""
    return render_template("timeline.html", **view, **context, units=UNITS, items_max=ITEMS_MAX,
                           zoom_url=_zoom_url(f), api_url=api_url, precision_words=PRECISION_WORDS)


def item_json(item: TimelineItem) -> dict[str, object]:
    """One vis-timeline item: a range [start, end) as ISO dates, with its page and precision."""
    assert item.start is not None and item.end is not None
    shown = item.when
    if item.open_end:
        shown += "; the source gives no end, so the bar runs on to today"
    elif item.open_start:
        shown += "; the source gives no start"
    if item.also:
        shown += "; the same fact as " + ", ".join(label for _iri, label in item.also)
    precision = PRECISION_WORDS[item.precision]
    return {
        "id": item.iri,
        "also": [iri for iri, _label in item.also],
        "content": item.display,
        "start": item.start.isoformat(),
        "end": item.end.isoformat(),
        "type": "range",
        "group": "events" if item.is_event else "relations",
        "url": entity_url(item.iri),
        "precision": item.precision or "unstated",
        "title": f"{item.label} ({item.kind}): {shown}; the date is known to {precision}",
        "className": f"precision-{item.precision or 'unstated'}"
        + (" open-end" if item.open_end else "") + (" open-start" if item.open_start else ""),
    }


@bp.get("/api/timeline")
def api_timeline() -> Response:
    """The same view as JSON: {"items": [...], "undated": [...]} for few events, else {"buckets": [...]}."""
    ix = index_of(get_kb())
    view = _view(ix, parse_filters(request.args), _per())
    hist = view["hist"]
    undated = [{"iri": iri, "label": label, "url": entity_url(iri)} for iri, label, _kind in view["undated"]]
    if hist is None:
        return jsonify(items=[item_json(i) for i in view["dated"]], undated=undated,
                       relations_more=view["relations_more"])
    return jsonify(items=[], undated=undated, unit=hist.unit, total=hist.total, fatalities=hist.fatalities,
                   buckets=[{"start": b.start.isoformat(), "end": b.end.isoformat(), "label": b.label,
                             "count": b.count, "fatalities": b.fatalities} for b in hist.buckets])
