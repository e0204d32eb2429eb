"""The timeline: dated events drawn over their honest intervals; undated ones listed."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, render_template

from kb.views.timeline import TimelineItem, timeline
from webui import get_kb
from webui.entity import entity_url

bp = Blueprint("timeline", __name__)


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
