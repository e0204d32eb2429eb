"""Source pages (/source?iri=): every claim resting on a person, outlet or unnamed agent."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request, url_for

from kb.derived import bitmaps as claimbitmaps
from kb.derived.memo import one_page
from kb.views.browse import check_iri, labels
from kb.views.chains import downstream_claims, source_chains, supported
from webui import get_kb
from webui.entity import page_number

bp = Blueprint("sources", __name__)

PER_PAGE = 20
SORT_BY_LABEL = 300  # claims of one source sorted by label; more are sorted by IRI


@bp.get("/source")
def show() -> str:
    """The claims that rest on ?iri=, directly or anywhere upstream, with what they support."""
    with one_page():  # on a server: labels and source statements read once for the page
        return _page()


def _page() -> str:
    wanted = request.args.get("iri", "").strip()
    if not wanted:
        abort(400, description="give the source's IRI as ?iri=")
    kb = get_kb()
    iri = check_iri(wanted)
    desc = kb.describe(iri, incoming=False)  # 404 for unknown IRIs; the page names and types it
    number = page_number()
    bitmaps = claimbitmaps.ready(kb)
    if bitmaps is not None:  # the claim index in memory: its own claims, then the rest, by label
        found, total, direct = bitmaps.resting_on(iri, PER_PAGE, (number - 1) * PER_PAGE)
        chosen, truncated, names = list(found), False, {}
    else:
        found, truncated = downstream_claims(kb, iri)
        # Sorted by label when there are few enough to label cheaply; else by IRI (as entity pages).
        names = labels(kb, found) if len(found) <= SORT_BY_LABEL else {}
        order = sorted(found, key=lambda c: (found[c] > 0, names.get(c, c).lower(), c))
        chosen = order[(number - 1) * PER_PAGE:number * PER_PAGE]
        total, direct = len(order), sum(1 for c in order if found[c] == 0)
    names |= labels(kb, chosen)
    chains = source_chains(kb, chosen)
    supports = supported(kb, chosen)
    names |= labels(kb, {x for xs in supports.values() for x in xs})
    rows = [(c, names.get(c, c), found[c], chains.get(c), supports.get(c, [])) for c in chosen]
    return render_template(
        "source.html", d=desc, rows=rows, names=names, total=total,
        direct=direct, truncated=truncated, page=number, pages=max(1, -(-total // PER_PAGE)),
        base=url_for("sources.show", iri=iri),
    )
