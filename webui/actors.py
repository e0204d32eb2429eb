"""The actor graph (/actors): who backs, allies with, rivals, fought whom, and who says so."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, render_template, request, url_for

from kb.terms import iri_ref
from kb.views.browse import check_iri, labels
from kb.views.facts import EDGE_LABELS, EDGES, Fact, actor_edges
from webui import get_kb
from webui.entity import entity_url

bp = Blueprint("actors", __name__)

HEDGE_CHOICES = {"": "any", "hedged": "hedged only", "unhedged": "unhedged only"}
# The "raw" mode: the same relations as the RDF has them, relation nodes linked to their actors by
# role, drawn by the query page's node-link view. Built from the ontology's roles, never from input.
_SHORT = {"https://w3id.org/conflict-kb/ontology#": "ckb:", "http://www.w3.org/ns/org#": "org:"}
_ROLES = sorted({iri_ref(r) for _k, a, b, _l, _s in EDGES for r in (a, b)})
for _ns, _p in _SHORT.items():
    _ROLES = [r.replace(f"<{_ns}", _p).rstrip(">") if r.startswith(f"<{_ns}") else r for r in _ROLES]
RAW_QUERY = ("".join(f"PREFIX {p} <{ns}>\n" for ns, p in _SHORT.items()) +
             "\n# Every relation node (backing, alliance, rivalry, membership, ...) and its actors, by role\n"
             "CONSTRUCT { ?relation ?role ?actor }\nWHERE {\n"
             f"  VALUES ?role {{ {' '.join(_ROLES)} }}\n  ?relation ?role ?actor .\n}}\n")


def _edge_json(f: Fact) -> dict[str, Any]:
    """One edge for the graph script, with the evidence shown when it is clicked."""
    return {
        "id": f"{f.group} {f.relation} {f.subject} {f.other}", "source": f.subject, "target": f.other,
        "group": f.group, "label": EDGE_LABELS[f.group], "relation": f.relation_label,
        "detail": f.detail, "time": f.time_text, "hedges": f.hedges,
        "according": [label for _iri, label in f.outlets], "claims": len(f.claims),
        "anonymousOnly": f.anonymous_only, "ownVoiceOnly": f.own_voice_only,
        "claimsUrl": url_for("claims.index", supports=f.relation), "relationUrl": entity_url(f.relation),
    }


@bp.get("/actors")
def index() -> str:
    """Relations as typed arrows: ?relation= (repeatable), ?hedge=hedged|unhedged, ?source=IRI."""
    kinds = request.args.getlist("relation")
    unknown = [k for k in kinds if k not in EDGE_LABELS]
    if unknown:
        abort(400, description=f"relation must be one of {', '.join(EDGE_LABELS)}, not {unknown[0]!r}")
    hedge = request.args.get("hedge", "")
    if hedge not in HEDGE_CHOICES:
        abort(400, description="hedge must be hedged or unhedged")
    source = request.args.get("source", "").strip()
    if source:
        source = check_iri(source)
    kb = get_kb()
    edges, truncated = actor_edges(kb, kinds or None)
    if hedge:
        edges = [e for e in edges if bool(e.hedges) == (hedge == "hedged")]
    if source:
        edges = [e for e in edges if source in e.sources]
    every_source = sorted({s for e in edges for s in e.sources})
    names = labels(kb, every_source + ([source] if source else []))
    nodes = {e.subject: e.subject_label for e in edges} | {e.other: e.other_label for e in edges}
    graph = {
        "nodes": [{"id": iri, "label": label, "url": entity_url(iri)} for iri, label in nodes.items()],
        "edges": [_edge_json(e) for e in edges],
    }
    return render_template(
        "actors.html", edges=edges, graph=graph, kinds=kinds, edge_labels=EDGE_LABELS,
        hedge=hedge, hedge_choices=HEDGE_CHOICES, source=source, names=names,
        sources=[(s, names.get(s, s)) for s in every_source], truncated=truncated,
        raw_url=url_for("query.index", query=RAW_QUERY),
    )
