"""The /sparql endpoint: SPARQL 1.1 Protocol (query, update, service description, CORS).

Status codes: 200 results; 204 update applied; 429 the client spent its query-time budget
(QUERY_BUDGET seconds per minute, with Retry-After) or already has its share of heavy queries
running; 303 browsers (HTML preferred) to the query
page; 400 bad syntax (with line/column), forbidden query (SERVICE, LOAD, unknown FROM or
default-graph-uri/named-graph-uri), bad parameters, unknown ?format=; 403 update refused
(read-only, or missing/wrong bearer token); 405 other methods; 406 no acceptable format;
413 body over MAX_CONTENT_LENGTH or query over MAX_QUERY_LENGTH; 415 other POST bodies;
503 the query hit its time limit, counted from the request's arrival, or the heavy queue is
full (as Fuseki does: the server declined to finish, the client may narrow the query or retry;
with Retry-After). Every answer carries X-CKB-Truncated when the row cap applied.
"""

from __future__ import annotations

import hmac
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, redirect, request, url_for
from werkzeug.exceptions import HTTPException

from kb.service import service_description
from webui import get_kb
from webui.negotiation import (
    FORMATS,
    acceptable_types,
    by_name,
    content_type,
    formats_for,
    negotiate,
    prefers_html,
)

bp = Blueprint("sparql", __name__)

FORM = "application/x-www-form-urlencoded"
QUERY_TYPE = "application/sparql-query"
UPDATE_TYPE = "application/sparql-update"
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "X-CKB-Truncated, X-CKB-Elapsed, Content-Disposition",
}
_TRIPLE_FORMATS = ("turtle", "nt", "jsonld", "xml")
_NO_FALSE = ("false", "0", "no", "off")


class _Fail(HTTPException):
    """An HTTP error with a readable one-line message (rendered by webui.errors)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(description=message)
        self.code = code


@bp.route("/sparql", methods=["GET", "POST", "OPTIONS"], endpoint="endpoint")
def endpoint() -> Response:
    """Answer one SPARQL Protocol request."""
    if request.method == "OPTIONS":
        return _preflight()
    op, text, default_graphs, named_graphs = _read_operation()
    if op is None:
        return _service_description()
    limit = current_app.config["MAX_QUERY_LENGTH"]
    if limit and len(text) > limit:
        raise _Fail(413, f"the {op} is {len(text)} characters long; the limit is {limit}")
    if not text.strip():
        raise _Fail(400, f"the {op} is empty")
    if op == "update":
        return _update(text)
    return _query(text, default_graphs, named_graphs)


def _read_operation() -> tuple[str | None, str, list[str], list[str]]:
    """Return (\"query\" | \"update\" | None, text, default graphs, named graphs)."""
    args = request.args
    if request.method == "GET":
        if "update" in args:
            raise _Fail(400, "SPARQL Update must be sent with POST, not GET")
        if "query" not in args:
            return None, "", [], []
        return "query", _single(args.getlist("query"), "query"), *_graphs(args)
    mimetype = request.mimetype
    if mimetype == FORM:
        form = request.form
        has_query, has_update = "query" in form, "update" in form
        if has_query == has_update:
            raise _Fail(400, "send exactly one of the form fields 'query' or 'update'")
        if has_update:
            _refuse_update_dataset(form)
            return "update", _single(form.getlist("update"), "update"), [], []
        params = form if ("default-graph-uri" in form or "named-graph-uri" in form) else args
        return "query", _single(form.getlist("query"), "query"), *_graphs(params)
    if mimetype in (QUERY_TYPE, UPDATE_TYPE):
        charset = request.mimetype_params.get("charset", "utf-8")
        if charset.lower().replace("_", "-") not in ("utf-8", "utf8"):
            raise _Fail(415, f"SPARQL bodies must be UTF-8; got charset={charset}")
        try:
            text = request.get_data(cache=False).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _Fail(400, f"the request body is not valid UTF-8: {exc}") from None
        if mimetype == UPDATE_TYPE:
            _refuse_update_dataset(args)
            return "update", text, [], []
        return "query", text, *_graphs(args)
    shown = mimetype or "none"
    raise _Fail(415, f"POST bodies must be {FORM}, {QUERY_TYPE} or {UPDATE_TYPE}; got {shown}")


def _single(values: list[str], name: str) -> str:
    if len(values) != 1:
        raise _Fail(400, f"the '{name}' parameter must be given exactly once")
    return values[0]


def _graphs(params) -> tuple[list[str], list[str]]:
    return params.getlist("default-graph-uri"), params.getlist("named-graph-uri")


def _refuse_update_dataset(params) -> None:
    if "using-graph-uri" in params or "using-named-graph-uri" in params:
        raise _Fail(400, "using-graph-uri / using-named-graph-uri are not supported; "
                         "use USING or WITH inside the update")


def _query(text: str, default_graphs: list[str], named_graphs: list[str]) -> Response:
    accept = request.headers.get("Accept")
    override = request.values.get("format") if request.method == "GET" else (
        request.args.get("format") or (request.form.get("format") if request.mimetype == FORM
                                       else None))
    if (request.method == "GET" and not override and not default_graphs and not named_graphs
            and prefers_html(accept)):
        # A person following a /sparql?query= link gets the query page, which runs it.
        return redirect(_query_page(query=text), code=303)
    if override:
        if not any(by_name(override, kind) for kind in ("select", "ask", "graph")):
            raise _Fail(400, f"unknown format {override!r}")
    elif not any(negotiate(accept, kind) for kind in ("select", "ask", "graph")):
        raise _Fail(406, "no acceptable format; this endpoint speaks "
                         + ", ".join(dict.fromkeys(acceptable_types("select")
                                                   + acceptable_types("graph"))))
    inferred = request.values.get("inferred", "true").lower() not in _NO_FALSE
    config = current_app.config
    kb = get_kb()
    timeout = float(config["QUERY_TIMEOUT"]) if config["QUERY_TIMEOUT"] else kb.timeout
    # The kind is known only once the engine has parsed the query: negotiate for each kind now,
    # and the worker has the engine write the answer in the one that applies.
    wanted = {kind: f.name for kind in ("select", "ask", "graph")
              if (f := negotiate(accept, kind, override)) is not None}
    # Budget, lanes and the deadline from arrival: webui.admission decides the time limit.
    result = current_app.extensions["ckb.admission"].run_query(text, timeout, lambda limit: kb.query(
        text,
        inferred=inferred,
        timeout=limit,
        limit=int(config["ROW_LIMIT"]) if config["ROW_LIMIT"] else None,
        default_graphs=default_graphs or None,
        named_graphs=named_graphs or None,
        format=wanted,
    ))
    fmt = negotiate(accept, result.kind, override)
    if fmt is None:
        raise _Fail(406, f"cannot send a {result.kind} result as {override or accept}; available: "
                         + ", ".join(acceptable_types(result.kind)))
    response = Response(result.serialize(fmt.name), content_type=content_type(fmt))
    response.headers["X-CKB-Truncated"] = "true" if result.truncated else "false"
    response.headers["X-CKB-Elapsed"] = f"{float(getattr(result, 'elapsed', 0.0)):.3f}"
    response.vary.add("Accept")
    return response


def _query_page(**params: str) -> str:
    if "query" in current_app.blueprints:
        return url_for("query.index", **params)
    return "/query" + (f"?{urlencode(params)}" if params else "")


def _update(text: str) -> Response:
    token = current_app.config.get("UPDATE_TOKEN")
    if not token:
        raise _Fail(403, "this endpoint is read-only: updates are disabled")
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    given = given.strip()
    if scheme.lower() != "bearer" or not given:
        raise _Fail(403, "update refused: send the header 'Authorization: Bearer <token>'")
    if not hmac.compare_digest(given.encode(), str(token).encode()):
        raise _Fail(403, "update refused: the bearer token is not valid")
    get_kb().update(text, token=given)
    return Response(status=204)


def _preflight() -> Response:
    response = Response(status=204)
    response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
    response.headers["Access-Control-Allow-Headers"] = "Accept, Content-Type, Authorization"
    response.headers["Access-Control-Max-Age"] = "86400"
    response.headers["Allow"] = "GET, POST, OPTIONS"
    return response


def _service_description() -> Response:
    override = request.args.get("format")
    accept = request.headers.get("Accept")
    if not override and prefers_html(accept):
        return redirect(_query_page(), code=303)
    fmt = negotiate(accept, "graph", override)
    if fmt is None:
        raise _Fail(406, "the service description is available as "
                         + ", ".join(acceptable_types("graph")[:4]))
    if fmt.name not in _TRIPLE_FORMATS:  # N-Quads/TriG: one graph, sent as its triples
        fmt = next(f for f in formats_for("graph") if f.name == "nt")
    result_formats = [f.w3c for f in FORMATS if f.w3c and f.kinds & {"select", "ask", "graph"}]
    body = service_description(
        get_kb(),
        url_for("sparql.endpoint", _external=True),
        result_formats,
        update=bool(current_app.config.get("UPDATE_TOKEN")),
        fmt=fmt.name,
    )
    response = Response(body, content_type=content_type(fmt))
    response.vary.add("Accept")
    return response


@bp.after_app_request
def _cors(response: Response) -> Response:
    # After-app hook: errors raised before routing (405, 413) must carry CORS headers too.
    if request.path == "/sparql":
        for key, value in CORS_HEADERS.items():
            response.headers.setdefault(key, value)
    return response

