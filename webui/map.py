"""The map: clusters of located events sized by deaths, the events in view in a bounded table.

The page carries the filters and the extent of the matching events; its script asks
/api/map/clusters and /api/map (the events in view) for each view of the map. Everything comes
from the event index (kb.derived.events), so a whole dataset costs what one screen does.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, render_template, request, url_for
from werkzeug.exceptions import BadRequest

from kb.derived.events import EventFilters
from kb.views.clusters import WORLD, Box, clusters, parse_box
from kb.views.mapview import TABLE_ROWS, located, rows_in_view
from kb.views.timebuckets import iso_words, say_dates
from webui import get_kb
from webui.entity import entity_url
from webui.timemap import filter_context, index_of, parse_filters, query_string

bp = Blueprint("map", __name__)


def _box() -> Box:
    try:
        return parse_box(request.args.get("bbox"))
    except ValueError as e:
        raise BadRequest(str(e)) from None


def _zoom() -> int:
    raw = request.args.get("zoom") or "2"
    if not raw.isdigit() or int(raw) > 30:
        raise BadRequest(f"zoom must be a whole number from 0 to 30, not {raw[:20]!r}")
    return int(raw)


def _extent(index: Any, rows: Any) -> str:
    """The bounds of the located rows as 'south,west,north,east' ("" when there are none)."""
    if not rows:
        return ""
    lats = [index.events[n].lat for n in rows] if len(rows) <= 5_000 else None
    if lats is None:  # a whole dataset: the 1-degree cells of the index bound it closely enough
        cells = [tuple(int(x) for x in k.split(",")) for k, b in index.values.get("cell", {}).items()
                 if b.intersect(rows)]
        return ",".join(str(v) for v in (min(c[0] for c in cells), min(c[1] for c in cells),
                                         max(c[0] for c in cells) + 1, max(c[1] for c in cells) + 1))
    lons = [index.events[n].lon for n in rows]
    return ",".join(f"{v:g}" for v in (min(lats), min(lons), max(lats), max(lons)))


def _in_view(index: Any, f: EventFilters, box: Box) -> dict[str, Any]:
    """The events in view: their number, the latest TABLE_ROWS in words, and the events table's URL
    for the same filters (it has no box: it lists every matching event, located or not)."""
    matching = index.matching(f)
    mask = located(index, matching)
    inside = mask if box.whole_world else mask & index.in_box(box.south, box.west, box.north, box.east)
    total = len(inside)
    rows = rows_in_view(get_kb(), index, inside)
    events_url = url_for("events.index") if "events.index" in current_app.view_functions else "/events"
    query = query_string(f)
    return {"total": total, "total_text": f"{total:,}", "events": rows, "matching": len(matching),
            "events_url": events_url + ("?" + query if query else "")}


@bp.get("/map")
def index() -> str:
    """The map page: filters, the extent to open on, the first events in a bounded table."""
    index = index_of(get_kb())
    f = parse_filters(request.args)
    view = _in_view(index, f, WORLD)
    mask = located(index, index.matching(f))
    return render_template("map.html", view=view, bounds=_extent(index, mask), table_rows=TABLE_ROWS,
                           filter_query=query_string(f), **filter_context(index, f))


@bp.get("/api/map/clusters")
def api_clusters() -> Response:
    """Clusters of the located events in the box at the zoom: point, count, deaths (one event: its page)."""
    index = index_of(get_kb())
    f, box, zoom = parse_filters(request.args), _box(), _zoom()
    found = clusters(index, index.matching(f), zoom, box)
    out = []
    for c in found:
        item = {"lat": round(c.lat, 5), "lon": round(c.lon, 5), "count": c.count, "fatalities": c.fatalities,
                "deathsText": f"{c.fatalities:,} killed (best estimate)"}
        if c.count == 1:
            e = index.row(c.first)
            item.update(label=iso_words(e.label or index.label(e.iri)), url=entity_url(e.iri),
                        when=say_dates(e.start, e.end))
        out.append(item)
    return jsonify(clusters=out, total=sum(c.count for c in found),
                   fatalities=sum(c.fatalities for c in found))


@bp.get("/api/map")
def api_map() -> Response:
    """The located events in the box (the first TABLE_ROWS, latest first), in words, with their areas."""
    index = index_of(get_kb())
    view = _in_view(index, parse_filters(request.args), _box())
    return jsonify(total=view["total"], totalText=view["total_text"], eventsUrl=view["events_url"], events=[{
        "iri": e.iri, "url": entity_url(e.iri), "label": e.label, "when": e.when, "kind": e.kind,
        "place": e.place, "lat": e.lat, "lon": e.lon, "precisionText": e.precision_text,
        "approximate": e.approximate, "radiusKm": e.radius_km, "deathsText": e.deaths_text,
        "actors": e.actors} for e in view["events"]])
