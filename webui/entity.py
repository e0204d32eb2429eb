"""Entity pages (/entity?iri=, /id/<local>): HTML for people, RDF for machines."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, Response, abort, has_request_context, render_template, request, url_for
from markupsafe import Markup, escape

from kb.derived.memo import one_page
from kb.namespaces import CKB, CKBR, PREFIXES
from kb.views.browse import check_iri
from kb.views.docfacts import contribution
from kb.views.eventcodings import event_codings
from kb.views.eventfacts import event_facts
from kb.views.facts import EVENT_GROUPS, key_facts
from kb.views.naming import datatype_words, literal_words
from kb.views.neighbours import neighbours
from kb.views.placefacts import place_facts
from kb.views.provenance import claims_page
from kb.views.saidfacts import said
from webui import get_kb
from webui.negotiation import by_name, content_type, formats_for, negotiate, prefers_html
from webui.sending import attachment, send_bytes

bp = Blueprint("entity", __name__)

AGENT_TYPES = frozenset({"http://www.w3.org/ns/prov#Agent", str(CKB.Actor), str(CKB.UnnamedAgent)})
_LOCAL_OK = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~/")


@bp.app_template_global()
def entity_url(iri: str) -> str:
    """The page of an entity: /id/<local> for our individuals, /entity?iri= for the rest."""
    iri = str(iri)
    local = iri[len(str(CKBR)):] if iri.startswith(str(CKBR)) else ""
    if not has_request_context():
        return url_for("entity.by_id", local=local) if _ours(local) else url_for("entity.show", iri=iri)
    # what url_for builds, without its routing per call (pages draw hundreds of links)
    if _ours(local):
        return f"{request.script_root}/id/{local}"
    return f"{request.script_root}/entity?{query_string({'iri': iri})}"


def _ours(local: str) -> bool:
    return bool(local) and set(local) <= _LOCAL_OK and not local.startswith("/")


def query_string(args: dict[str, str]) -> str:
    """A URL's query as url_for writes it (werkzeug leaves these characters as they are)."""
    return urlencode(args, safe="!$'()*,/:;?@")


_LONGEST_FIRST = sorted(PREFIXES.items(), key=lambda kv: -len(kv[1]))


@bp.app_template_global()
def short_iri(iri: str) -> str:
    """Write an IRI as prefix:local when a known prefix fits, else in full."""
    iri = str(iri)
    for prefix, ns in _LONGEST_FIRST:
        if iri.startswith(ns) and len(iri) > len(ns):
            return f"{prefix}:{iri[len(ns):]}"
    return iri


# literals in words on every page (kb.views.naming): "date and time", "25 April 2003"
bp.add_app_template_global(datatype_words)
bp.add_app_template_global(literal_words)


@bp.app_template_global()
def elink(iri: str, label: str | None = None, cls: str = "") -> Markup:
    """A link to an entity's page, shown by its label, the IRI in its tooltip (every argument
    escaped). A function, not a Jinja macro: pages draw hundreds of them."""
    iri = str(iri)
    # escape() and an f-string write what Markup.format writes, in a tenth of the time
    return Markup(f'<a class="iri {escape(cls)}" href="{escape(entity_url(iri))}" '
                  f'title="{escape(iri)}">{escape(label or short_iri(iri))}</a>')


@bp.get("/entity")
def show() -> Response | str:
    """Describe the entity named by ?iri= in the format the client asks for."""
    iri = request.args.get("iri", "").strip()
    if not iri:
        abort(400, description="give the entity's IRI as ?iri=")
    return _answer(check_iri(iri))


@bp.get("/id/<path:local>")
def by_id(local: str) -> Response | str:
    """The page of a ckbr: individual, named by its local part."""
    return _answer(check_iri(str(CKBR) + local))


def _answer(iri: str) -> Response | str:
    """HTML when the client is a browser (or asks ?format=html), else RDF of the entity."""
    override = request.args.get("format")
    accept = request.headers.get("Accept")
    if override:
        if by_name(override, "page"):
            return _page(iri)
        fmt = by_name(override, "graph")
        if fmt is None:
            names = ", ".join(f.ext for f in formats_for("graph"))
            abort(400, description=f"unknown format {override!r}; use html or one of {names}")
    elif prefers_html(accept):
        return _page(iri)
    else:
        fmt = negotiate(accept, "graph")
        if fmt is None:
            abort(406, description="this entity is available as text/html and "
                  + ", ".join(f.media_type for f in formats_for("graph")))
    kb = get_kb()
    kb.describe(iri)  # 404 for IRIs the KB does not know, in every format
    # Within a download slot (per-client cap, budget); the engine writes the format in its worker.
    response = send_bytes(lambda limit: kb.export(format=fmt.name, entity=iri, timeout=limit),
                          content_type(fmt))
    if override:
        name = iri.rstrip("/#").rsplit("/", 1)[-1].rsplit("#", 1)[-1] or "entity"
        response.headers["Content-Disposition"] = attachment(f"{name}.{fmt.ext}")
    response.vary.add("Accept")
    return response


CLAIMS_PER_PAGE = 10


def page_number() -> int:
    """The ?page= of a paged list (1 when absent); 400 for anything else than 1..10000."""
    number = request.args.get("page", 1, type=int)
    if number is None or not 1 <= number <= 10_000:
        abort(400, description="page must be a whole number from 1 to 10000")
    return number


def _page(iri: str) -> str:
    """The HTML entity page: key facts, claim cards (paged), graph, raw statements folded."""
    with one_page():  # on a server its panels share their lookups and labels (kb.derived.memo)
        return _build_page(iri)


def _build_page(iri: str) -> str:
    kb = get_kb()
    desc = kb.describe(iri)
    type_iris = {t.iri for t in desc.types}
    is_document = str(CKB.Document) in type_iris
    number = page_number()
    claims, total = claims_page(kb, iri, number, CLAIMS_PER_PAGE)
    # the panel of the page's kind (each view returns None for things of another kind)
    event = event_facts(kb, iri)
    place = None if event else place_facts(kb, iri)
    return render_template(
        "entity.html",
        d=desc,
        facts=key_facts(kb, iri),
        event_groups=EVENT_GROUPS,
        event=event,
        codings=event_codings(kb, iri) if event else [],
        place=place,
        said=None if event or place else said(kb, iri),
        contribution=None if event or place else contribution(kb, iri),
        claims=claims,
        claims_total=total,
        page=number,
        pages=max(1, -(-total // CLAIMS_PER_PAGE)),
        is_agent=bool(type_iris & AGENT_TYPES),
        formats=formats_for("graph"),
        is_document=is_document,
        is_term=iri.startswith(str(CKB)),
    )


@bp.get("/api/neighbourhood")
def api_neighbourhood() -> Response:
    """The graph around ?iri= as JSON nodes and edges (?depth= 0..2, default 1)."""
    iri = check_iri(request.args.get("iri", "").strip())
    depth = request.args.get("depth", 1, type=int)
    if depth is None or not 0 <= depth <= 2:
        abort(400, description="depth must be 0, 1 or 2")
    limit = min(max(request.args.get("limit", 150, type=int) or 150, 1), 500)
    data = get_kb().neighbourhood(iri, depth=depth, limit=limit)
    return data


@bp.get("/api/neighbours")
def api_neighbours() -> dict:
    """The actors, events and places around ?iri= as JSON nodes and worded edges, at most
    ?cap= (1..20, default 6) per kind of link and the rest counted (kb.views.neighbours)."""
    iri = check_iri(request.args.get("iri", "").strip())
    cap = min(max(request.args.get("cap", 6, type=int) or 6, 1), 20)
    return neighbours(get_kb(), iri, cap=cap)
