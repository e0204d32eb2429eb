"""The timeline: dated events drawn over their honest intervals; undated ones listed."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, Response, jsonify, render_template

from kb.timeline import TimelineItem, timeline
from webui import get_kb
from webui.entity import entity_url

bp = Blueprint("timeline", __name__)


def item_json(item: TimelineItem) -> dict[str, object]:
    """One vis-timeline item: a range [start, end) as ISO dates, with its page and precision."""
    assert item.start is not None and item.end is not None
    last = item.end - timedelta(days=1)
    shown = item.start.isoformat() if item.start == last else f"{item.start} to {last}"
    if item.open_end:
        shown = f"from {shown}; the source gives no end"
    elif item.open_start:
        shown = f"until {shown}; the source gives no start"
    return {
        "id": item.iri,
        "content": item.label,
        "start": item.start.isoformat(),
        "end": item.end.isoformat(),
        "type": "range",
        "group": "events" if item.is_event else "relations",
        "url": entity_url(item.iri),
        "precision": item.precision or "unstated",
        "title": f"{item.label} ({item.kind}): {shown}; precision {item.precision or 'unstated'}",
        "className": f"precision-{item.precision or 'unstated'}"
        + (" open-end" if item.open_end else "") + (" open-start" if item.open_start else ""),
    }


@bp.get("/timeline")
def index() -> str:
    """The timeline page (items come from /api/timeline)."""
    dated, undated = timeline(get_kb())
    return render_template("timeline.html", dated=dated, undated=undated)


@bp.get("/api/timeline")
def api_timeline() -> Response:
    """Dated items for vis-timeline: {"items": [...], "undated": [...]}."""
    dated, undated = timeline(get_kb())
    return jsonify(
        items=[item_json(i) for i in dated],
        undated=[{"iri": i.iri, "label": i.label, "url": entity_url(i.iri)} for i in undated],
    )
