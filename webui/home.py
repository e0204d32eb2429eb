"""Home page: what the KB holds, label search with suggestions, links to examples."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, render_template, request

from kb.derived import classcounts
from kb.derived.memo import memo
from kb.namespaces import CKB, GRAPH_NAMES
from kb.query.examples import load_examples
from kb.views.browse import labels
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


def _type_counts() -> tuple[list[tuple[str, str, int]], str | None]:
    """Instances per ontology class in the data, imported datasets included, largest first:
    (class, label, count); and, when they are older than the store, when they were counted.
    An embedded store counts once per store generation (kb.derived.memo); a SPARQL server's KB
    reads the counts kept beside it (kb.derived.classcounts), never counting on the request path."""
    kb = get_kb()
    held = memo(kb, "home-type-counts")
    if held is not None and "counts" in held:
        return held["counts"], None
    stale = None
    if hasattr(getattr(kb, "backend", None), "counts"):  # a SPARQL server's KB
        found = classcounts.read(kb)
        rows, stale = (found.counts, None if found.current else found.counted) if found else ([], "never")
    else:
        graphs = classcounts.counted_graphs(kb.graphs())
        rows = classcounts.top({str(r["t"]): int(r["n"].toPython())
                                for r in kb.query(classcounts.whole_query(graphs)).rows} if graphs else {})
    names = labels(kb, [t for t, _ in rows])
    counts = [(t, names[t], n) for t, n in rows]
    if held is not None and stale is None:
        held["counts"] = counts
    return counts, stale


@bp.get("/")
def index() -> str:
    """Overview of the graphs, the biggest classes, search, and the example questions."""
    graphs = get_kb().graphs()
    types, stale = _type_counts()
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
        types=types,
        types_stale=stale,
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
