"""The events table (/events): facets with counts, sortable columns, pages, CSV and SPARQL."""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, Response, render_template, request, url_for

from kb.derived import eventbuild, remoteindex
from kb.derived.events import FACETS, Event, EventFilters, EventIndex
from kb.errors import KBError
from kb.views import remoteevents
from kb.views.events import (
    FACET_TITLES,
    SORT_TITLES,
    actors_in_words,
    build_query,
    check_sort,
    csv_bytes,
    listing,
    side_word,
)
from webui import get_kb
from webui.entity import page_number, query_string

bp = Blueprint("events", __name__)

SIZES = (25, 50, 100, 200)
READY_WAIT = 3.0  # seconds a request waits for the index of a small store before saying it is built


def _index() -> EventIndex:
    kb = get_kb()
    if remoteindex.is_remote(kb):  # a SPARQL server's KB: its index is read and kept apart
        return remoteevents.read(kb)
    index = eventbuild.ready(kb)
    if index is None:
        index = eventbuild.wait(kb, READY_WAIT)
    if index is None:
        raise remoteevents.IndexBuilding("the event index is being built from the store; "
                                         "try again in a few seconds")
    return index


def _filename(active: dict[str, str]) -> str:
    """A download name after the filters: events-country-Syria.csv, events.csv."""
    words = [f"{k}-{v.rstrip('/#').rsplit('/', 1)[-1].rsplit('#', 1)[-1]}" for k, v in active.items()]
    return re.sub(r"[^A-Za-z0-9._-]+", "-", "-".join(["events", *words]))[:80].strip("-") or "events"


@bp.get("/events")
def index() -> str | Response:
    """Events matching ?graph= &country= &admin1= &admin2= &place= &type= &actor= &side=
    &precision= &from= &to= &fat_min= &fat_max=, sorted by ?sort=, paged by ?page= and ?size=;
    ?format=csv or ?format=sparql to download."""
    f = EventFilters.parse(request.args)
    sort = check_sort(request.args.get("sort"))
    size = request.args.get("size", 50, type=int)
    if size not in SIZES:
        raise KBError(f"size must be one of {', '.join(map(str, SIZES))}")
    active = f.active()
    kb = get_kb()
    fmt = request.args.get("format", "")
    if fmt == "sparql":
        return _download(build_query(f, eventbuild.graphs_read(kb), sort).encode("utf-8"),
                         "application/sparql-query", _filename(active) + ".rq")
    if fmt not in ("", "csv"):
        raise KBError("format must be csv or sparql")
    ix = _index()
    if fmt == "csv":
        return _download(csv_bytes(ix, ix.matching(f), sort), "text/csv; charset=utf-8",
                         _filename(active) + ".csv")
    number = page_number()
    page = listing(ix, f, sort, size, (number - 1) * size)
    path = url_for("events.index")
    state = active | ({"sort": sort} if sort != "-date" else {}) | ({"size": str(size)} if size != 50 else {})

    def link(args: dict[str, str]) -> str:
        return f"{path}?{query_string(args)}" if args else path
    facets = [(name, FACET_TITLES[name], [
        (value, _facet_label(ix, name, value), n,
         link({k: v for k, v in state.items() if k != name} | {name: value}), active.get(name) == value)
        for value, n in page.facets.get(name, [])]) for name in FACETS if page.facets.get(name)]
    removers = [(name, _filter_label(ix, name, value), link({k: v for k, v in state.items() if k != name}))
                for name, value in active.items()]
    sorts = {key: link(state | {"sort": ("" if page.sort == f"-{key}" else "-") + key})
             for key in SORT_TITLES}
    rows = [(e, actors_in_words(ix, e)) for e in page.rows]
    sparql = build_query(f, eventbuild.graphs_read(kb), sort, size, (number - 1) * size)
    return render_template(
        "events.html", rows=rows, ix=ix, facets=facets, removers=removers, active=active, total=page.total,
        fatalities=page.fatalities, page=number, pages=max(1, -(-min(page.total, 10_000) // size)),
        truncated=page.truncated, sort=sort, sorts=sorts, sort_titles=SORT_TITLES, base=link(state),
        download=link(state | {"format": "csv"}), sparql_link=link(state | {"format": "sparql"}),
        sparql=sparql, query_url=url_for("query.index", query=sparql), filename=_filename(active),
        state=state, size=size, clear=path, where=_where(ix),
        sizes=[(n, link({k: v for k, v in state.items() if k != "size"}
                        | ({"size": str(n)} if n != 50 else {}))) for n in SIZES])


def _where(ix: EventIndex) -> Any:
    """An event's district, province and country in words, each name once."""
    def where(e: Event) -> str:
        return ", ".join(dict.fromkeys(ix.label(p) for p in (e.admin2, e.admin1, e.country) if p))
    return where


def _facet_label(ix: EventIndex, name: str, value: str) -> str:
    return side_word(ix, value) if name == "side" else ix.label(value)


def _filter_label(ix: EventIndex, name: str, value: str) -> str:
    if name in ("from", "to", "fat_min", "fat_max"):
        return value
    return _facet_label(ix, name, value)


def _download(body: bytes, mimetype: str, name: str) -> Response:
    """An attachment named after the view."""
    response = Response(body, mimetype=mimetype.split(";")[0])
    response.headers["Content-Type"] = mimetype
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
