"""The /export page and /export/<graph>.<ext> downloads: files written by kb.export in a worker
once per store generation, sent from disk within a download slot (webui.sending)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from flask import Blueprint, Response, abort, render_template
from flask.blueprints import BlueprintSetupState

from kb.export.scope import export_scope
from kb.namespaces import GRAPH_BASE, GRAPH_NAMES
from webui import get_kb, sending
from webui.negotiation import Format, by_ext, content_type, formats_for

bp = Blueprint("downloads", __name__)


@bp.record_once
def _files(state: BlueprintSetupState) -> None:
    sending.init_app(state.app, state.app.extensions["ckb"])

_SLUG = re.compile(r"[A-Za-z0-9_~%-]+(?:/[A-Za-z0-9_~%-]+)*")  # no dots: the ext follows one

_TITLES = {"all": "Everything", "ontology": "Ontology", "shapes": "SHACL shapes",
           "data": "Data", "inferred": "Inferred statements"}


@dataclass(frozen=True)
class GraphRow:
    """One downloadable scope: a URL slug, a title, its graph IRI (None = all) and size."""

    slug: str
    title: str
    iri: str | None
    count: int


def graph_slug(iri: str) -> str:
    """Return the URL slug of a graph: its short name, its path under GRAPH_BASE, or a hash."""
    for name, known in GRAPH_NAMES.items():
        if iri == known:
            return name
    rest = iri[len(GRAPH_BASE):]
    if iri.startswith(GRAPH_BASE) and _SLUG.fullmatch(rest) and rest != "all":
        return rest
    # Graphs from elsewhere (e.g. added by an update) get a stable opaque slug.
    return "graph-" + hashlib.sha1(iri.encode()).hexdigest()[:12]


def graph_rows() -> list[GraphRow]:
    """Return the whole-KB row followed by one row per graph (the standard graphs first)."""
    counts = get_kb().exportable_graphs()
    order = list(GRAPH_NAMES.values())
    rows = [GraphRow("all", _TITLES["all"], None, sum(counts.values()))]
    for iri in sorted(counts, key=lambda g: (order.index(g) if g in order else len(order), g)):
        slug = graph_slug(iri)
        rows.append(GraphRow(slug, _TITLES.get(slug, slug), iri, counts[iri]))
    return rows


def download_formats() -> list[Format]:
    """Every format a download can take (triple and dataset formats)."""
    return formats_for("dataset")


@bp.route("/export", endpoint="index")
def index() -> str:
    """List every download."""
    return render_template("export.html", rows=graph_rows(), formats=download_formats())


@bp.route("/export/<path:filename>", endpoint="download")
def download(filename: str) -> Response:
    """Send one graph (or all) in the format its extension names, as an attachment."""
    stem, dot, ext = filename.rpartition(".")
    if not dot or not stem:
        abort(404, description=f"no export called {filename!r}; see /export for the list")
    fmt = by_ext(ext, "dataset")
    if fmt is None:
        known = ", ".join(f".{f.ext}" for f in download_formats())
        abort(404, description=f"unknown export format .{ext}; available: {known}")
    row = next((r for r in graph_rows() if r.slug == stem), None)
    if row is None:
        abort(404, description=f"no graph called {stem!r}; see /export for the list")
    kb = get_kb()
    graph = row.iri or "all"
    name = "conflict-kb" if row.iri is None else "conflict-kb-" + row.slug.replace("/", "-")
    scope = export_scope(kb, graph)
    return sending.send_scope(scope, fmt.name, content_type(fmt), f"{name}.{fmt.ext}",
                              fallback=lambda: kb.export(format=fmt.name, graph=graph))
