"""The query editor's completion service: GET /api/complete?kind=...&q=...&class=...&limit=n (JSON)."""

from __future__ import annotations

from flask import Blueprint, Response, abort, jsonify, request

from kb.errors import KBError
from kb.views.complete import MAX_CLASSES, complete
from webui import get_kb

bp = Blueprint("complete", __name__)


@bp.get("/api/complete")
def api_complete() -> Response:
    """Suggestions for one editor context: kind prefix|class|property|entity, typed text q,
    the subject's classes (property only, repeatable), limit (at most 50)."""
    classes = request.args.getlist("class")
    if len(classes) > MAX_CLASSES:
        abort(400, description=f"at most {MAX_CLASSES} class parameters; got {len(classes)}")
    try:
        limit = int(request.args.get("limit", "20"))
    except ValueError:
        abort(400, description="limit must be a whole number")
    try:
        answer = complete(get_kb(), request.args.get("kind", ""), request.args.get("q", ""),
                          classes, limit)
    except KBError as err:
        abort(400, description=str(err))
    return jsonify(answer)
