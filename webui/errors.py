"""Error answers: an HTML page for people, JSON or plain text for programs; no tracebacks."""

from __future__ import annotations

from http import HTTPStatus

from flask import Flask, Response, current_app, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from kb.errors import KBError
from webui.negotiation import parse_accept, prefers_html, quality

_HINTS = {
    400: "The request could not be understood; the message says what to fix.",
    403: "This operation is not allowed here.",
    404: "Nothing lives at this address. Try the search or the SPARQL query page.",
    405: "This address does not accept that HTTP method.",
    406: "None of the formats the client accepts can be produced here.",
    413: "The request is larger than this server accepts.",
    415: "The request body has a media type this address does not accept.",
    429: "This client has used its share of query time for now; wait, then try again.",
    500: "Something went wrong on the server; the details are in its log.",
    503: "The server could not finish in time. Narrow the query or add a LIMIT.",
    507: "The disk holding the store is full; nothing was written. Reading still works.",
}


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _wants_json() -> bool:
    """True when the client explicitly asks for application/json over plain text."""
    header = request.headers.get("Accept")
    explicit = [r for r in parse_accept(header) if r.type != "*"]
    json_q = quality(explicit, "application/json")
    return json_q > 0 and json_q >= quality(explicit, "text/plain")


def _render_page(status: int, title: str, message: str) -> str:
    """Render error.html in the site layout; if the layout itself fails, in the bare one."""
    page = {"status": status, "title": title, "message": message, "hint": _HINTS.get(status)}
    try:
        return render_template("error.html", **page)
    except Exception:  # an error page must never fail: fall back to the minimal layout
        current_app.logger.exception("error page failed to render in the site layout")
        return render_template("error.html", ckb_base_template="_fallback_base.html", **page)


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    """Build the error answer for ``status`` in the form the client prefers."""
    title = _title(status)
    message = " ".join(str(message).split()) or title  # always one readable line
    if prefers_html(request.headers.get("Accept")):
        body = _render_page(status, title, message)
        response = Response(body, status=status, mimetype="text/html")
    elif _wants_json():
        response = jsonify(error={"status": status, "title": title, "message": message})
        response.status_code = status
    else:
        response = Response(f"{status} {title}: {message}\n", status=status, mimetype="text/plain")
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def _http_error(exc: HTTPException) -> Response:
    headers = {
        key: value
        for key, value in exc.get_headers()
        if key.lower() not in ("content-type", "content-length")
    }
    return error_response(exc.code or 500, exc.description or _title(exc.code or 500), headers)


def _kb_error(exc: KBError) -> Response:
    status = int(getattr(exc, "status", 400) or 400)
    if status >= 500:
        current_app.logger.warning("%s: %s", type(exc).__name__, exc)
    from webui.admission import retry_after

    wait = retry_after(exc)
    return error_response(status, str(exc), {"Retry-After": str(wait)} if wait else None)


def _unexpected(exc: Exception) -> Response:
    current_app.logger.exception("unhandled error on %s %s", request.method, request.path)
    return error_response(500, "Internal server error; the details are in the server log.")


def init_app(app: Flask) -> None:
    """Register the error handlers on ``app``, and the base layout pages extend."""

    @app.context_processor
    def _base_template() -> dict[str, str]:
        # The site layout (base.html) if the pages have one, else a bare fallback.
        names = app.jinja_env.list_templates()
        return {"ckb_base_template": "base.html" if "base.html" in names else "_fallback_base.html"}

    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(KBError, _kb_error)
    app.register_error_handler(Exception, _unexpected)
