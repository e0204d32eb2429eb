"""/reconcile: the W3C Entity Reconciliation CG's Reconciliation Service API v0.2 over the KB's
actors, outlets and places (manifest, query batches, suggest, preview, data extension).

Read-only, and open to any origin (CORS): OpenRefine and other clients call it from a browser
page or a desktop app of their own. Answers come from kb.matching; nothing a client sends
becomes query text (the candidates are read by fixed queries and scored in Python)."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, abort, jsonify, render_template, request

from kb import __version__
from kb.errors import NotFound
from kb.matching import extend as extension
from kb.matching import service
from kb.matching.candidates import index
from kb.matching.scoring import WEIGHTS
from kb.namespaces import CKB, CKBR
from webui import get_kb
from webui.entity import entity_url

bp = Blueprint("reconcile", __name__)

CORS = {"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
        "Access-Control-Allow-Headers": "Content-Type, Accept", "Access-Control-Max-Age": "86400"}
# The preview is shown in the client's own page, in an iframe: any page may frame it, and it
# loads nothing at all (its one style is inline).
PREVIEW_CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src 'none'; base-uri 'none'; "
               "form-action 'none'; frame-ancestors *")
FEATURES = {
    "label": "similarity (0-1) of the name to the candidate's label: words folded, transliterations "
             "and ACLED/UCDP naming conventions read, articles ignored",
    "alias": "the same against the candidate's other names (skos:altLabel, names sources used)",
    "type": "1 if the candidate is of the type asked for, 0.5 if only of a compatible kind "
            "(outlets are never offered for actors of an armed kind, nor places for actors)",
    "country": "1 if the country given or named agrees with the candidate's, -1 if it differs",
    "dates": "1 if a date given falls within the candidate's events (a month either side)",
    "shared_events": "how many of the events given the candidate took part in or hosted",
    "decision": "1 when a person decided this name is this entity (ckb actors --accept)",
}


@bp.after_request
def _cors(response: Response) -> Response:
    for name, value in CORS.items():
        response.headers.setdefault(name, value)
    return response


def _fail(message: str, status: int = 400) -> Response:
    response = jsonify({"error": message})
    response.status_code = status
    return response


def _root() -> str:
    return request.url_root.rstrip("/")


def manifest() -> dict[str, Any]:
    """The service manifest (GET /reconcile)."""
    root = _root()
    suggest = {"service_url": root, "service_path": "/reconcile/suggest/entity"}
    return {
        "versions": ["0.2"],
        "name": "conflict-kb: actors, outlets and places",
        "identifierSpace": str(CKBR),
        "schemaSpace": str(CKB),
        "documentation": f"{root}/reconcile/features/about",
        "serviceVersion": __version__,
        "defaultTypes": [{"id": t, "name": n} for t, n in service.DEFAULT_TYPES],
        "view": {"url": f"{root}/id/{{{{id}}}}"},
        "feature_view": {"url": f"{root}/reconcile/features/{{{{id}}}}"},
        "preview": {"url": f"{root}/reconcile/preview?id={{{{id}}}}", "width": 400, "height": 140},
        "suggest": {"entity": suggest,
                    "type": {"service_url": root, "service_path": "/reconcile/suggest/type"},
                    "property": {"service_url": root, "service_path": "/reconcile/suggest/property"}},
        "extend": {"propose_properties": {"service_url": root, "service_path": "/reconcile/properties"},
                   "property_settings": []},
    }


def _json_param(name: str) -> Any:
    raw = request.values.get(name, "")
    try:
        return json.loads(raw)
    except ValueError as err:
        raise service.BadRequest(f"{name} is not JSON: {err}") from None


@bp.route("/reconcile", methods=["GET", "POST", "OPTIONS"])
def endpoint() -> Response:
    """The manifest, a query batch (``queries=``), or a data extension (``extend=``)."""
    if request.method == "OPTIONS":
        return Response(status=204)
    try:
        if "queries" in request.values:
            return jsonify(service.reconcile(get_kb(), _json_param("queries")))
        if "extend" in request.values:
            return jsonify(extension.extend(get_kb(), _json_param("extend")))
    except service.BadRequest as err:
        return _fail(str(err))
    if request.method == "POST":
        return _fail("POST queries=<JSON query batch> or extend=<JSON extension query>")
    return jsonify(manifest())


def _limit(default: int = 10) -> int:
    try:
        return max(0, min(int(request.args.get("limit", default)), 100))
    except ValueError:
        abort(400, description="limit must be a whole number")


@bp.get("/reconcile/suggest/entity")
def suggest_entity() -> Response:
    """Entities whose name contains ``prefix`` (optionally of ``type``)."""
    types = [t for t in request.args.getlist("type") if t]
    try:
        return jsonify(service.suggest_entities(get_kb(), request.args.get("prefix", ""), types, _limit()))
    except service.BadRequest as err:
        return _fail(str(err))


@bp.get("/reconcile/suggest/type")
def suggest_type() -> Response:
    """Classes of actors, outlets and places whose name contains ``prefix``."""
    return jsonify(service.suggest_types(get_kb(), request.args.get("prefix", ""), _limit()))


@bp.get("/reconcile/suggest/property")
def suggest_property() -> Response:
    """The properties a query can carry, by ``prefix``."""
    return jsonify(service.suggest_properties(request.args.get("prefix", ""), _limit()))


@bp.get("/reconcile/properties")
def propose_properties() -> Response:
    """The properties data extension offers for ``type``."""
    return jsonify(extension.propose(get_kb(), request.args.get("type"), _limit(20)))


@bp.get("/reconcile/preview")
def preview() -> Response:
    """A small HTML card of one entity, for the client's iframe."""
    try:
        iri = service.entity_iri(request.args.get("id", ""))
    except service.BadRequest as err:
        abort(400, description=str(err))
    idx = index(get_kb())
    c = idx.candidates.get(iri)
    if c is None:
        raise NotFound(f"no actor, outlet or place has the id {request.args.get('id')!r}")
    types = [idx.class_labels.get(t, t) for t in service.most_specific(c, idx)]
    html = render_template("reconcile_preview.html", c=c, types=types, url=_root() + entity_url(iri),
                           aliases=sorted(n for n in c.names if n != c.label))
    response = Response(html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = PREVIEW_CSP
    return response


@bp.get("/reconcile/features/<name>")
def feature(name: str) -> Response:
    """What a feature of a candidate's score measures, and its weight."""
    if name == "about":
        return jsonify({"features": FEATURES, "weights": WEIGHTS,
                        "match": "score >= 75, name similarity >= 0.8 and 10 points ahead of the next"})
    if name not in FEATURES:
        abort(404, description=f"no feature is called {name!r}")
    return jsonify({"id": name, "description": FEATURES[name],
                    "weight": WEIGHTS.get(name, WEIGHTS["name"] if name in ("label", "alias") else None)})
