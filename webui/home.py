"""Home page: what the KB holds, label search with suggestions, links to examples."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, render_template, request

from kb.derived.memo import memo
from kb.namespaces import CKB, GRAPH_INFERRED, GRAPH_NAMES, GRAPH_ONTOLOGY, GRAPH_SHAPES
from kb.query.examples import load_examples
from kb.views.browse import labels, values_block
from webui import get_kb
from webui.entity import entity_url

bp = Blueprint("home", __name__)

MAX_Q = 200  # characters of a search query


def hit_json(hit: Any) -> dict[str, Any]:
    """A kb SearchHit as JSON for the suggestion box (fields read defensively by name)."""
    iri = str(getattr(hit, "iri", hit))
    types = list(getattr(hit, "types", None) or [])
    # The KB's own classes say most; other vocabularies' (SEM, schema.org) repeat them.
    own = [t for t in types if str(getattr(t, "iri", t)).startswith(str(CKB))]
    # one badge per label: org:Organization and prov:Organization both read "Organization"
    shown = list(dict.fromkeys(str(getattr(t, "label", t)) for t in (own or types)))[:4]
    return {
        "iri": iri,
        "label": str(getattr(hit, "label", "") or iri),
        "matched": str(getattr(hit, "matched", "") or ""),
        "types": shown,
        "url": entity_url(iri),
    }


def _search(q: str, limit: int) -> list[dict[str, Any]]:
    """Run kb.views.search on a trimmed query; an empty query finds nothing."""
    q = q.strip()[:MAX_Q]
    return [hit_json(h) for h in get_kb().search(q, limit=limit)] if q else []


# The model's own machinery (a participation, a source statement, a quote, a reified fact) is
# not what a reader looks for: the counts name actors, events, places, claims and documents.
_MACHINERY = tuple(str(CKB[c]) for c in ("Participation", "SourceStatement", "Quote", "FactStatement"))


def _type_counts() -> list[tuple[str, str, int]]:
    """Instances per ontology class in the data, imported datasets included, largest first:
    (class, label, count); counted once per store generation (kb.derived.memo)."""
    kb = get_kb()
    held = memo(kb, "home-type-counts")
    if held is not None and "counts" in held:
        return held["counts"]
    # the asserted types of the data and of every import (not the ontology's, nor the inferred)
    graphs = [g for g in kb.graphs() if g not in (GRAPH_ONTOLOGY, GRAPH_SHAPES, GRAPH_INFERRED)]
    rows = kb.query(f"""
    SELECT ?t (COUNT(DISTINCT ?s) AS ?n) WHERE {{
      VALUES ?g {{ {values_block(graphs)} }} GRAPH ?g {{ ?s a ?t }} FILTER(STRSTARTS(STR(?t), "{CKB}"))
      FILTER(?t NOT IN ({", ".join(f"<{c}>" for c in _MACHINERY)}))
    }} GROUP BY ?t ORDER BY DESC(?n) ?t LIMIT 16""").rows if graphs else []
    names = labels(kb, [str(r["t"]) for r in rows])
    counts = [(str(r["t"]), names[str(r["t"])], int(r["n"].toPython())) for r in rows]
    if held is not None:
        held["counts"] = counts
    return counts


@bp.get("/")
def index() -> str:
    """Overview of the graphs, the biggest classes, search, and the example questions."""
    graphs = get_kb().graphs()
    short = {iri: name for name, iri in GRAPH_NAMES.items()}
    rows = [(short.get(g, g), g, n) for g, n in sorted(graphs.items())]
    # A SPARQL server's sizes come from the registry the KB's writes keep (kb.store.registry):
    # writes made on the server directly are not in them, so the page says when they were counted.
    counts = getattr(get_kb().backend, "counts", None)
    counted = {g: c.counted for g, c in counts().items()} if counts else {}
    return render_template(
        "home.html",
        graphs=rows,
        counted=counted,
        total=sum(graphs.values()),
        types=_type_counts(),
        examples=load_examples(),
    )


@bp.get("/api/search")
def api_search() -> Response:
    """Label and alias search as JSON: ?q=text&limit=n (n <= 50)."""
    limit = min(max(request.args.get("limit", 10, type=int) or 10, 1), 50)
    return jsonify(_search(request.args.get("q", ""), limit))


@bp.get("/search")
def search_page() -> str:
    """Search results as a page (works without JavaScript)."""
    q = request.args.get("q", "")
    return render_template("search.html", q=q, hits=_search(q, 50))
