"""The query page: a YASQE editor posting to /sparql, examples, permalinks, label lookup."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, jsonify, render_template, request

from kb.namespaces import PREFIXES
from kb.query.examples import load_examples
from kb.views.browse import labels
from webui import get_kb
from webui.negotiation import formats_for

bp = Blueprint("query", __name__)

MAX_LABEL_IRIS = 2000  # per /api/labels request; the results page asks per page of rows
DEFAULT_QUERY = (
    "PREFIX ckb: <https://w3id.org/conflict-kb/ontology#>\n\n"
    "SELECT ?class (COUNT(?s) AS ?instances) WHERE {\n  ?s a ?class .\n"
    "  FILTER(STRSTARTS(STR(?class), STR(ckb:)))\n}\nGROUP BY ?class\nORDER BY DESC(?instances)\n"
)


def _formats(kind: str) -> list[dict[str, str]]:
    """Download formats for a result kind, from the one negotiation table."""
    return [{"name": f.name, "label": f.label, "ext": f.ext, "type": f.media_type}
            for f in formats_for(kind)]


@bp.get("/query")
def index() -> str:
    """The editor, with ?query= (a permalink) or ?example=name preloaded."""
    examples = load_examples()
    chosen = request.args.get("example", "")
    query = request.args.get("query")
    if query is None:
        match = next((e for e in examples if e.name == chosen), None)
        query = match.sparql if match else DEFAULT_QUERY
    config: dict[str, Any] = {
        "endpoint": "/sparql",
        "query": query,
        "autorun": "query" in request.args or bool(chosen),
        "prefixes": PREFIXES,
        "examples": [e.__dict__ for e in examples],
        "formats": {"select": _formats("select"), "ask": _formats("ask"),
                    "graph": _formats("graph")},
    }
    return render_template("query.html", config=config, examples=examples, chosen=chosen)


@bp.post("/api/labels")
def api_labels() -> Response:
    """Labels for a JSON list of IRIs: {"iris": [...]} -> {iri: label}."""
    body = request.get_json(silent=True)
    iris = body.get("iris") if isinstance(body, dict) else None
    if not isinstance(iris, list) or not all(isinstance(i, str) for i in iris):
        abort(400, description='send JSON {"iris": ["https://...", ...]}')
    if len(iris) > MAX_LABEL_IRIS:
        abort(413, description=f"at most {MAX_LABEL_IRIS} IRIs per request; got {len(iris)}")
    return jsonify(labels(get_kb(), iris))


@bp.get("/api/terms")
def api_terms() -> Response:
    """Ontology classes and properties for editor completion: {"classes": [], "properties": []}."""
    rows = get_kb().query("""
    PREFIX owl: <http://www.w3.org/2002/07/owl#>
    PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
    SELECT DISTINCT ?t ?kind WHERE {
      VALUES (?type ?kind) { (owl:Class "class") (owl:ObjectProperty "property")
        (owl:DatatypeProperty "property") (owl:AnnotationProperty "property")
        (rdf:Property "property") }
      ?t a ?type . FILTER(isIRI(?t))
    } ORDER BY ?t""", inferred=False).rows
    out: dict[str, list[str]] = {"classes": [], "properties": []}
    for row in rows:
        key = "classes" if str(row["kind"]) == "class" else "properties"
        if str(row["t"]) not in out[key]:
            out[key].append(str(row["t"]))
    return jsonify(out)
