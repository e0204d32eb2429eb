"""The map: located events over a vendored world outline (no tiles), with filters and honest precision."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, render_template, request, url_for
from werkzeug.exceptions import BadRequest

from kb.errors import KBError
from kb.views.mapview import VIOLENCE, MapEvent, map_events
from webui import get_kb
from webui.entity import entity_url

bp = Blueprint("map", __name__)


def _filters() -> dict[str, str | None]:
    """The filters from the query string (checked by kb.views.mapview)."""
    return {k: (request.args.get(k) or None) for k in ("from", "to", "actor", "type")}


def _events(f: dict[str, str | None]) -> list[MapEvent]:
    """The filtered events; a bad filter is a 400 with its reason."""
    try:
        return map_events(get_kb(), start=f["from"], end=f["to"], actor=f["actor"], violence=f["type"])
    except KBError as e:
        raise BadRequest(str(e)) from None


@bp.get("/map")
def index() -> str:
    """The map page; the events come from /api/map with the same filters."""
    f = _filters()
    events = _events(f)
    # Only the filters go into the data URL: url_for takes other names as its own options
    # (?_external=1 wrote the Host header into a cached page; ?endpoint=x was a 500).
    api_url = url_for("map.api_map", **{k: v for k, v in f.items() if v is not None})
    return render_template("map.html", events=events, filters=f, kinds=sorted(VIOLENCE), api_url=api_url)


@bp.get("/api/map")
def api_map() -> Response:
    """Located events as JSON: point, radius of the area it stands for, precision, dates, actors."""
    return jsonify(events=[{
        "iri": e.iri, "url": entity_url(e.iri), "label": e.label, "kind": e.kind, "lat": e.lat, "lon": e.lon,
        "precision": e.precision or "unstated", "radiusKm": e.radius_km, "approximate": e.approximate,
        "start": e.start, "end": e.end, "actors": e.actors} for e in _events(_filters())])
