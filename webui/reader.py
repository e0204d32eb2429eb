"""The reader: a source text with every claim's quote highlighted and linked."""

from __future__ import annotations

import hashlib

from flask import Blueprint, render_template, request

from kb.views.browse import check_iri
from kb.views.sourcetext import document_view, documents
from webui import annotate, get_kb

bp = Blueprint("reader", __name__)


@bp.app_template_global()
def anchor_id(iri: str) -> str:
    """A stable HTML id for an IRI (quotes, claims, ontology terms), safe in any attribute."""
    return "n-" + hashlib.sha1(str(iri).encode("utf-8")).hexdigest()[:12]


@bp.get("/reader")
def index() -> str:
    """?doc=IRI shows that document; without it, the first document (or the list)."""
    kb = get_kb()
    docs = documents(kb)
    wanted = request.args.get("doc", "").strip()
    if wanted:
        iri = check_iri(wanted)
    elif docs:
        iri = docs[0][0]
    else:
        return render_template("reader.html", docs=docs, view=None, annotating=None)
    view = document_view(kb, iri)
    # the annotation form's vocabularies and this document's annotations; None: no form at all
    return render_template("reader.html", docs=docs, view=view, annotating=annotate.reader_context(iri))
