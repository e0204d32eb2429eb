"""/import: add a claim sheet, a dataset CSV or an RDF file to the running KB, behind the update token.

GET shows the upload form (only when updates are enabled). POST takes a multipart/form-data body
(``file``; a sheet's ``text``; ``format``, ``name``, ``skip_bad``) with the token as a bearer header
(``ckb import`` through a running server) or as the form's ``token`` field (the page), and imports it
as ``ckb import`` would: all-or-nothing, through the same import paths (webui.uploads).

Status codes: 200 imported (or unchanged); 400 a bad file (each problem as FILE:LINE:COLUMN) or a bad
form; 403 updates disabled, no or a wrong token, or a cross-site form post; 413 a body above
IMPORT_MAX_BYTES. Nothing is written unless the answer is 200. The token travels in the body or a
header, never in a cookie, so another site cannot make a browser post with it (no CSRF).
"""

from __future__ import annotations

import hmac
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, jsonify, render_template, request

from kb.errors import KBError, StoreFull
from kb.query import scheduling
from webui import get_kb, uploads
from webui.negotiation import prefers_html
from webui.sparql import Fail

bp = Blueprint("importing", __name__)

DEFAULT_MAX_BYTES = 64 * 1024 * 1024  # IMPORT_MAX_BYTES unless the config says otherwise


def enabled() -> bool:
    """True when this server takes imports (it was started with an update token)."""
    return bool(current_app.config.get("UPDATE_TOKEN"))


def max_bytes() -> int:
    """The largest upload body this server takes."""
    return int(current_app.config.get("IMPORT_MAX_BYTES") or DEFAULT_MAX_BYTES)


@bp.get("/import", endpoint="page")
def page() -> Any:
    """The upload form; 404 when updates are disabled (the page is then linked nowhere)."""
    if not enabled():
        raise Fail(404, "imports are disabled on this server (start 'ckb serve' with --update-token)")
    return render_template("import.html", **_form())


@bp.post("/import", endpoint="upload")
def upload() -> Any:
    """Import the uploaded file; answer JSON (``ckb import``) or the page (a browser)."""
    html = prefers_html(request.headers.get("Accept"))
    try:
        outcome = _upload()
    except (Fail, KBError) as err:
        if isinstance(err, StoreFull):
            raise
        status = int(getattr(err, "code", None) or getattr(err, "status", 400) or 400)
        message = " ".join(str(getattr(err, "description", None) or err).split())
        if not html:
            return _json({"error": {"status": status, "message": message}}, status)
        if status == 403 or not enabled():
            raise Fail(status, message) from None  # no form for someone without the token
        return render_template("import.html", error=message, **_form()), status
    bad = bool(outcome.problems)
    status = 400 if bad else 200
    if not html:
        body = outcome.as_json()
        if bad:
            body["error"] = {"status": 400, "message": f"{len(outcome.problems)} problem(s) in the sheet; "
                                                      "nothing imported"}
        return _json(body, status)
    return render_template("import.html", outcome=outcome, **_form()), status


def _upload() -> uploads.Outcome:
    """Check the origin and the token, stage the files, import; a bad request raises Fail."""
    if not enabled():
        raise Fail(403, "this server takes no imports: updates are disabled (start 'ckb serve' with "
                        "--update-token or $CKB_UPDATE_TOKEN)")
    _same_origin()
    request.max_content_length = max_bytes()  # this view only; every other one keeps the app's limit
    bearer = _bearer()
    if request.mimetype != "multipart/form-data":
        raise Fail(415, "send the file as multipart/form-data (field 'file')")
    _check_token(bearer if bearer is not None else request.form.get("token", ""))
    # An import takes as long as the file needs, not a page's time: its queries keep their own limits.
    scheduling.DEADLINE.set(None)
    main, text = request.files.get("file"), request.files.get("text")
    if main is None or not main.filename:
        raise Fail(400, "choose a file to import (field 'file')")
    fmt = request.form.get("format") or "rdf"
    name = (request.form.get("name") or "").strip() or None
    skip_bad = request.form.get("skip_bad", "") in ("1", "on", "true", "yes")
    with uploads.staging() as folder:
        try:
            path = uploads.stage(folder, main, text)
            outcome = uploads.run(get_kb(), path, fmt, name, skip_bad)
        except KBError as err:
            if isinstance(err, StoreFull):
                raise
            raise Fail(int(getattr(err, "status", 400) or 400), uploads.scrub(str(err), folder)) from None
        outcome.problems = [uploads.scrub(p, folder) for p in outcome.problems]
        outcome.notes = [uploads.scrub(n, folder) for n in outcome.notes]
    return outcome


def _bearer() -> str | None:
    """The Authorization header's bearer token, None if the request has no such header."""
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        raise Fail(403, "import refused: send the header 'Authorization: Bearer <token>'")
    return given.strip()


def _check_token(given: str) -> None:
    if not given:
        raise Fail(403, "import refused: give the update token")
    if not hmac.compare_digest(given.encode(), str(current_app.config["UPDATE_TOKEN"]).encode()):
        raise Fail(403, "import refused: the update token is not valid")


def _same_origin() -> None:
    """Refuse a browser's post from another site (it could not know the token, but need not try)."""
    origin = request.headers.get("Origin")
    if origin is None:  # not a browser (ckb import, curl): the token alone decides
        return
    here = urlsplit(request.host_url)
    there = urlsplit(origin)
    if (there.scheme, there.netloc) != (here.scheme, here.netloc):
        raise Fail(403, "import refused: the form was posted from another site")


def _form() -> dict[str, Any]:
    return {"formats": uploads.FORMATS, "limit_mb": max_bytes() // (1024 * 1024)}


def _json(body: dict[str, Any], status: int) -> Response:
    response = jsonify(body)
    response.status_code = status
    return response
