"""The claims explorer (/claims): facets like Datasette, full text over quotes, CSV and SPARQL."""

from __future__ import annotations

import re
import time
from typing import Any

from flask import Blueprint, Response, render_template, request, url_for

from kb.derived import remoteindex
from kb.query import scheduling
from kb.views import claimlist, classes
from kb.views.browse import labels
from kb.views.claimcsv import csv_query
from kb.views.claimfacets import facet_counts
from kb.views.claimlist import enrich, run
from kb.views.claims import FACET_TITLES, FACETS, IRI_FACETS, MAX_ROWS, Filters, build_query, check_filters
from webui import get_kb
from webui.entity import page_number, query_string

bp = Blueprint("claims", __name__)

PER_PAGE = 25
FACET_TIMEOUT = 1.0  # seconds per facet; past it, that facet is left out
FACET_BUDGET = 2.0  # seconds for all facets of one view; facets past it are left out
PAGE_MARGIN = 1.0  # seconds kept before the request's limit to enrich and render the page
CSV_CHUNK = 400  # claims per CSV query from a server's claim index: a short VALUES block each


def _filename(active: dict[str, str]) -> str:
    """A download name after the filters: claims-anonymity-anonymous.csv, claims.csv."""
    words = [f"{k}-{v.rstrip('/#').rsplit('/', 1)[-1].rsplit('#', 1)[-1]}" for k, v in active.items()]
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", "-".join(["claims", *words]))[:80].strip("-")
    return stem or "claims"


@bp.get("/claims")
def index() -> str | Response:
    """Claims matching the filters in ?source= &via= &speaker= &anonymity= &hedge= &coding=
    &kind= &event= &actor= &document= &supports= &q=, with facet counts; ?format=csv or
    ?format=sparql to download."""
    kb = get_kb()
    filters = check_filters(request.args)
    active = filters.active()
    fmt = request.args.get("format", "")
    if fmt == "sparql":
        return _download(build_query(filters).encode("utf-8"),
                         "application/sparql-query", _filename(active) + ".rq")
    if fmt == "csv":  # in words: labels, with the outlet cited
        return _download(_csv(kb, filters), "text/csv; charset=utf-8", _filename(active) + ".csv")
    if fmt:
        return Response("format must be csv or sparql\n", status=400, mimetype="text/plain")
    number = page_number()
    listing = run(kb, filters, PER_PAGE, (number - 1) * PER_PAGE)
    rows, total = listing.rows, listing.total
    names = enrich(kb, rows)
    facets, slow = facet_counts(kb, filters, timeout=FACET_TIMEOUT, budget=_facet_budget())
    iris = {v for name in IRI_FACETS for v, _n in facets.get(name, [])} | set(active.values())
    names |= labels(kb, {i for i in iris if i.startswith(("http://", "https://"))})
    path = url_for("claims.index")
    facet_view = [(name, FACET_TITLES[name], [
        (value, names.get(value, value), n, _view_url(path, active | {name: value}),
         active.get(name) == value) for value, n in facets.get(name, [])]) for name in FACETS
        if facets.get(name)]
    titles = FACET_TITLES | {"source": "Resting on", "supports": "Supporting", "q": "Words in the quote"}
    removers = [(name, titles.get(name, name), names.get(value, value), _view_url(path, {
        k: v for k, v in active.items() if k != name})) for name, value in active.items()]
    return render_template(
        "claims.html", rows=rows, names=names, facets=facet_view, removers=removers,
        active=active, sparql=listing.sparql, total=total, page=number,
        pages=max(1, -(-total // PER_PAGE)), sorted=listing.sorted, truncated=listing.truncated, slow=slow,
        notice=listing.notice, more=listing.more,
        base=url_for("claims.index", **active), filename=_filename(active),
    )


def _csv(kb: Any, filters: Filters) -> bytes:
    """The view as CSV. On a SPARQL server within the page's own limits, never grouping every claim
    over the server (Virtuoso went past 9 GB at 1M): without a current claim index, of the page's
    first FALLBACK_CLAIMS claims within FALLBACK_TIMEOUT, as the page says; with one, the claims its
    bitmaps match, in the page's order, at most MAX_ROWS (the explorer's per-view cap), CSV_CHUNK
    at a time. Bounded, not streamed: a response streamed past an error would end as a short file
    that looks whole."""
    if not remoteindex.is_remote(kb):
        return kb.query(classes.listed(kb, csv_query(filters))).serialize("csv")
    held, _notice = claimlist.held_or_notice(kb)
    if held is None:
        bound = claimlist.FALLBACK_CLAIMS
        return kb.query(classes.listed(kb, csv_query(filters, bound)), limit=bound,
                        timeout=claimlist.FALLBACK_TIMEOUT).serialize("csv")
    chosen = held.page(held.matching(filters, lambda: claimlist.supporting(kb, filters)), MAX_ROWS)
    out = []
    for start in range(0, max(1, len(chosen)), CSV_CHUNK):
        part = kb.query(classes.listed(kb, csv_query(filters, claims=chosen[start:start + CSV_CHUNK])),
                        limit=CSV_CHUNK).serialize("csv")
        out.append(part if start == 0 else part.split(b"\n", 1)[1])  # the header once
    return b"".join(out)


def _view_url(path: str, args: dict[str, str]) -> str:
    """url_for("claims.index", **args), built as werkzeug does, without its routing per call
    (a page links every facet value: 11 ms of 45 ms)."""
    return f"{path}?{query_string(args)}" if args else path


def _facet_budget() -> float:
    """FACET_BUDGET, or less when the listing has used the request's time: a slow list (a broad
    filter over a big store) gets its page back with the facets left out, not a 503."""
    deadline = scheduling.DEADLINE.get()
    if deadline is None:
        return FACET_BUDGET
    return max(0.0, min(FACET_BUDGET, deadline - time.monotonic() - PAGE_MARGIN))


def _download(body: bytes, mimetype: str, name: str) -> Response:
    """An attachment named after the view."""
    response = Response(body, mimetype=mimetype.split(";")[0])
    response.headers["Content-Type"] = mimetype
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
