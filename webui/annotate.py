"""Annotation in the reader, behind the update token: add, change and withdraw claims on a document.

A claim made here goes into the document's annotation sheet (kb.sheets.edit) and, in the same
step, into the store: the sheet is compiled into its own graph, all-or-nothing.

The sheets live in ANNOTATION_DIR, by default a folder beside an on-disk store (``<store>.annotations``,
as its ``<store>.keys`` do): they are source data, a person's work, so not in a cache that may be
deleted, and not inside the store's folder, which a rebuild replaces; ``ckb import`` of a sheet puts
its claims into a rebuilt store. A store in memory keeps no sheets: annotation is off unless the
folder is configured.

The session: the token is entered once in the reader, kept in the tab's sessionStorage (never a
cookie) and sent as ``Authorization: Bearer``; a forged cross-site form cannot set that header, and a
cross-site script cannot send it without a CORS preflight, which these routes never allow. A request
that says it comes from another site (Origin, Sec-Fetch-Site) is refused even with the token.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, jsonify, request
from werkzeug.exceptions import BadRequest

from kb.namespaces import CKB, CKBR
from kb.sheets import edit
from kb.sheets.compile import quote_iri
from kb.sheets.importer import SheetProblems
from kb.sheets.vocab import KINDS
from kb.views.browse import labels
from webui import get_kb
from webui.sparql import Fail, check_token

bp = Blueprint("annotate", __name__)

MAX_QUOTE = 2000  # characters of a selected quote


def folder() -> Path | None:
    """Where annotation sheets are kept (None: annotation is off on this server)."""
    configured = current_app.config.get("ANNOTATION_DIR")
    if configured:
        return Path(configured)
    store = getattr(get_kb().backend, "path", None)
    return Path(store).with_name(Path(store).name + ".annotations") if store else None


def enabled() -> bool:
    """True when this server takes annotations: an update token and a folder for the sheets."""
    return bool(current_app.config.get("UPDATE_TOKEN")) and folder() is not None


def reader_context(doc_iri: str) -> dict[str, Any] | None:
    """What the reader's annotation form needs for a document (None: no form on this page)."""
    if not enabled():
        return None
    kb = get_kb()
    try:
        doc = edit.document(kb, doc_iri)
    except edit.EditError:
        return None
    terms = _vocabularies(kb)
    sheet = edit.load(folder(), doc) if edit.sheet_path(folder(), doc.id).is_file() else None
    made = [_form(sheet, c) for c in sheet["claims"]] if sheet else []
    names = labels(kb, sorted({i for c in made for i in _iris(c)}))
    for c in made:
        c["labels"] = {i: names.get(i, i) for i in _iris(c)}
    return {"doc": doc.iri, "kinds": list(KINDS), "hedges": terms[str(CKB.Hedge)],
            "supports": terms[str(CKB.SupportKind)], "statuses": terms[str(CKB.EventStatus)],
            "relations": list(edit.RELATIONS), "base": str(CKBR), "claims": made,
            "quotes": {str(quote_iri(doc.id, c["id"])): c["id"] for c in made if not c["withdrawn"]}}


def _vocabularies(kb: Any) -> dict[str, list[str]]:
    """The labels of the KB's hedges, support kinds and event statuses (what a sheet may name), by
    class; read from the ontology alone, so a page does not scan every actor as a sheet check does."""
    classes = (CKB.Hedge, CKB.SupportKind, CKB.EventStatus)
    rows = kb.query(f"""SELECT DISTINCT ?c ?l WHERE {{ VALUES ?c {{ {' '.join(f'<{c}>' for c in classes)} }}
        ?t a ?c ; <http://www.w3.org/2000/01/rdf-schema#label> ?l }}""", inferred=False).rows
    out: dict[str, list[str]] = {str(c): [] for c in classes}
    for r in rows:
        out[str(r["c"])].append(str(r["l"]))
    return {c: sorted(labels) for c, labels in out.items()}


def _iris(c: dict[str, Any]) -> set[str]:
    return {*c["chain"], *(a for s in c["states"] for a in s["actors"]), *filter(None, [c["characterises"]])}


def _form(sheet: dict[str, Any], c: dict[str, Any]) -> dict[str, Any]:
    """A sheet's claim as the form shows it: IRIs instead of the sheet's keys."""
    actor = {k: a["actor"] for k, a in sheet["agents"].items()}
    stmts = sheet.get("statements") or {}
    chain, via = [], c.get("via")
    while via in stmts:
        chain.insert(0, actor[stmts[via]["by"]])
        via = stmts[via].get("quoting")
    states = []
    for fact in c.get("states") or []:
        (name, body), = fact.items()
        keys = (body["parties"] if "parties" in body else [s[0] for s in body["sides"]] if "sides" in body
                else list(body.values())[:2])
        states.append({"relation": name, "actors": [actor.get(k, k) for k in keys],
                       "term": body.get("support") or body.get("status") or ""})
    return {"id": c["id"], "quote": c["quote"], "start": c.get("start"), "kind": c["kind"],
            "hedge": c.get("hedge", ""), "hedge_text": c.get("hedge_text", ""), "chain": chain,
            "states": states, "characterises": actor.get(c.get("characterises", ""), ""),
            "withdrawn": c.get("withdrawn")}


def guard() -> None:
    """Refuse (403) a write that is cross-site, has no valid token, or where annotation is off."""
    site = request.headers.get("Sec-Fetch-Site")
    origin = request.headers.get("Origin")
    # the host alone: behind a TLS proxy the page's https origin reaches this app as http
    foreign_origin = origin and urlsplit(origin).netloc.lower() != request.host.lower()
    if (site and site not in ("same-origin", "none")) or foreign_origin:
        raise Fail(403, "annotation refused: the request comes from another site")
    check_token()
    if folder() is None:
        raise Fail(403, "annotation is off: this server keeps no annotation sheets "
                        "(a store in memory; set ANNOTATION_DIR)")


def _body() -> dict[str, Any]:
    if request.mimetype != "application/json":
        raise Fail(415, "send the annotation as application/json")
    try:
        data = request.get_json(silent=False)
    except BadRequest:
        raise Fail(400, "the request body is not JSON") from None
    if not isinstance(data, dict):
        raise Fail(400, "the request body must be a JSON object")
    return data


def _doc(data: dict[str, Any]) -> edit.Document:
    iri = data.get("doc")
    if not isinstance(iri, str) or not iri:
        raise Fail(400, "name the document: doc")
    return edit.document(get_kb(), iri)


def _annotation(data: dict[str, Any]) -> edit.Annotation:
    """The form's fields, type-checked; each mistake a readable 400."""
    def text(name: str, limit: int = 200) -> str:
        value = data.get(name, "")
        if not isinstance(value, str) or len(value) > limit:
            raise Fail(400, f"{name} must be text of at most {limit} characters")
        return value

    start = data.get("start")
    if not isinstance(start, int) or isinstance(start, bool) or start < 0:
        raise Fail(400, "start must be the quote's offset in the text (a whole number)")
    chain, states = data.get("chain", []), data.get("states", [])
    if not isinstance(chain, list) or not all(isinstance(x, str) for x in chain) or len(chain) > 10:
        raise Fail(400, "chain must be a list of at most 10 actors' IRIs")
    if not isinstance(states, list) or not all(isinstance(s, dict) for s in states) or len(states) > 10:
        raise Fail(400, "states must be a list of at most 10 facts")
    return edit.Annotation(text("quote", MAX_QUOTE), start, text("prefix"), text("suffix"), text("kind"),
                           text("hedge"), text("hedge_text"), chain, states, text("characterises", 1000))


def _run(action: Any) -> Response | None:
    """Run an edit; its refusals and the sheet's problems become readable 4xx answers."""
    try:
        return action()
    except edit.EditError as err:
        raise Fail(err.status, str(err)) from None
    except SheetProblems as err:
        raise Fail(400, "; ".join(p.message for p in err.problems)) from None


@bp.post("/annotate/session")
def session() -> Response:
    """Check a token before the reader keeps it for the tab (204, else 403)."""
    guard()
    return Response(status=204)


@bp.post("/annotate/claims")
def create() -> Response:
    """Add a claim: 201 with its id."""
    guard()
    data = _body()
    cid = _run(lambda: edit.add(get_kb(), folder(), _doc(data), _annotation(data)))
    return jsonify(id=cid), 201


@bp.put("/annotate/claims/<cid>")
def change(cid: str) -> Response:
    """Change what a claim says: 200."""
    guard()
    data = _body()
    _run(lambda: edit.change(get_kb(), folder(), _doc(data), cid, _annotation(data)))
    return jsonify(id=cid)


@bp.post("/annotate/claims/<cid>/withdraw")
def withdraw(cid: str) -> Response:
    """Withdraw a claim, recording who and when: 200."""
    guard()
    data = _body()
    by, reason = data.get("by", ""), data.get("reason", "")
    if not isinstance(by, str) or not isinstance(reason, str):
        raise Fail(400, "by and reason must be text")
    _run(lambda: edit.withdraw(get_kb(), folder(), _doc(data), cid, by, reason))
    return jsonify(id=cid, withdrawn=True)
