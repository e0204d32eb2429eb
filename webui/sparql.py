"""The /sparql endpoint: SPARQL 1.1 Protocol (query, update, service description, CORS).

Status codes: 200 results; 204 update applied; 429 the client spent its query-time budget
(QUERY_BUDGET seconds per minute, with Retry-After) or already has its share of heavy
queries running; 303 browsers (HTML preferred) to the query
page; 400 bad syntax (with line/column), forbidden query (SERVICE, LOAD, FROM naming no graph of
this store), bad parameters or graph IRIs, an update that sets its dataset twice; 403 update
refused (read-only, missing/wrong bearer token, or with --own-graphs-only a graph outside the
KB's namespace); 405 other methods; 406 no acceptable format;
413 body over MAX_CONTENT_LENGTH or query over MAX_QUERY_LENGTH; 415 other POST bodies, or a
charset other than UTF-8; 503 the query hit its time limit, counted from the request's arrival, or
the heavy queue is full (as Fuseki does: the server declined to finish, the client may narrow the
query or retry; with Retry-After). Every answer carries X-CKB-Truncated when the row
cap applied.

Relative IRIs in queries and updates resolve against BASE_IRI, by default this endpoint's own
URL (the Protocol: the base "MAY be the service endpoint"). A graph named by default-graph-uri or
named-graph-uri that the store lacks is an empty graph. ?format= wins when it names a format
for the result; any other value falls back to the Accept header. GET/HEAD with ?graph= or
?default (and no query) reads a graph as the Graph Store Protocol does (webui.graphstore).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, redirect, request, url_for
from werkzeug.exceptions import HTTPException

from kb.query.service import service_description
from kb.store.commits import valid_key
from webui import get_kb
from webui.negotiation import (
    FORMATS,
    acceptable_types,
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


class Fail(HTTPException):
    """An HTTP error with a readable one-line message (rendered by webui.errors)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(description=message)
        self.code = code


@dataclass
class _Operation:
    """One protocol request, read from the URL and the body."""

    kind: str | None  # "query", "update", or None (no operation: service description)
    text: str = ""
    default_graphs: list[str] = field(default_factory=list)
    named_graphs: list[str] = field(default_factory=list)


@bp.route("/sparql", methods=["GET", "POST", "OPTIONS"], endpoint="endpoint")
def endpoint() -> Response:
    """Answer one SPARQL Protocol request."""
    if request.method == "OPTIONS":
        return _preflight()
    op = _read_operation()
    if op.kind is None:
        if request.method in ("GET", "HEAD") and ("graph" in request.args or "default" in request.args):
            from webui.graphstore import read_graph

            return read_graph()
        return _service_description()
    limit = current_app.config["MAX_QUERY_LENGTH"]
    if limit and len(op.text) > limit:
        raise Fail(413, f"the {op.kind} is {len(op.text)} characters long; the limit is {limit}")
    if not op.text.strip():
        raise Fail(400, f"the {op.kind} is empty")
    if op.kind == "update":
        return _update(op)
    return _query(op)


def _read_operation() -> _Operation:
    """Read the operation, its text and its dataset from the request."""
    args = request.args
    if request.method in ("GET", "HEAD"):
        if "update" in args:
            raise Fail(400, "SPARQL Update must be sent with POST, not GET")
        if "query" not in args:
            return _Operation(None)
        return _Operation("query", _single(args.getlist("query"), "query"), *_graphs(args, "query"))
    mimetype = request.mimetype
    if mimetype == FORM:
        require_utf8()
        form = request.form
        has_query, has_update = "query" in form, "update" in form
        if has_query == has_update:
            raise Fail(400, "send exactly one of the form fields 'query' or 'update'")
        kind = "update" if has_update else "query"
        names = _DATASET[kind]
        params = form if any(n in form for n in names) else args
        return _Operation(kind, _single(form.getlist(kind), kind), *_graphs(params, kind))
    if mimetype in (QUERY_TYPE, UPDATE_TYPE):
        require_utf8()
        try:
            text = request.get_data(cache=False).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise Fail(400, f"the request body is not valid UTF-8: {exc.reason} at byte "
                            f"{exc.start}") from None
        kind = "update" if mimetype == UPDATE_TYPE else "query"
        return _Operation(kind, text, *_graphs(args, kind))
    shown = mimetype or "none"
    raise Fail(415, f"POST bodies must be {FORM}, {QUERY_TYPE} or {UPDATE_TYPE}; got {shown}")


def require_utf8() -> None:
    """Refuse (415) a request body whose declared charset is not UTF-8."""
    charset = request.mimetype_params.get("charset")
    if charset is not None and charset.strip().lower().replace("_", "-") not in ("utf-8", "utf8"):
        raise Fail(415, f"request bodies must be UTF-8; got charset={charset}")


def _single(values: list[str], name: str) -> str:
    if len(values) != 1:
        raise Fail(400, f"the '{name}' parameter must be given exactly once")
    return values[0]


# The protocol's dataset parameters: for a query, and for an update.
_DATASET = {
    "query": ("default-graph-uri", "named-graph-uri"),
    "update": ("using-graph-uri", "using-named-graph-uri"),
}


def _graphs(params, kind: str) -> tuple[list[str], list[str]]:
    default, named = _DATASET[kind]
    other = _DATASET["update" if kind == "query" else "query"]
    if any(n in params for n in other):
        raise Fail(400, f"{' / '.join(other)} do not apply to a SPARQL {kind}; use "
                        f"{' / '.join(_DATASET[kind])}")
    return params.getlist(default), params.getlist(named)


def _base_iri() -> str:
    return current_app.config.get("BASE_IRI") or url_for("sparql.endpoint", _external=True)


def _query(op: _Operation) -> Response:
    accept = request.headers.get("Accept")
    override = request.args.get("format") if request.method != "POST" else (
        request.args.get("format") or (request.form.get("format") if request.mimetype == FORM
                                       else None))
    if (request.method == "GET" and not override and not op.default_graphs
            and not op.named_graphs and prefers_html(accept)):
        # A person following a /sparql?query= link gets the query page, which runs it.
        return redirect(_query_page(query=op.text), code=303)
    if not any(negotiate(accept, kind, override) for kind in ("select", "ask", "graph")):
        raise Fail(406, "no acceptable format; this endpoint speaks "
                        + ", ".join(dict.fromkeys(acceptable_types("select")
                                                  + acceptable_types("graph"))))
    inferred = request.values.get("inferred", "true").lower() not in _NO_FALSE
    dataset = bool(op.default_graphs or op.named_graphs)
    config = current_app.config
    kb = get_kb()
    timeout = float(config["QUERY_TIMEOUT"]) if config["QUERY_TIMEOUT"] else kb.timeout
    # The kind is known only once the engine has parsed the query: negotiate for each kind now,
    # and the worker has the engine write the answer in the one that applies.
    wanted = {kind: f.name for kind in ("select", "ask", "graph")
              if (f := negotiate(accept, kind, override)) is not None}
    # Budget, lanes and the deadline from arrival: webui.admission decides the time limit.
    result = current_app.extensions["ckb.admission"].run_query(op.text, timeout, lambda limit: kb.query(
        op.text,
        inferred=inferred,
        timeout=limit,
        limit=int(config["ROW_LIMIT"]) if config["ROW_LIMIT"] else None,
        # The protocol's dataset replaces the query's own: both lists, even an empty one.
        default_graphs=op.default_graphs if dataset else None,
        named_graphs=op.named_graphs if dataset else None,
        base_iri=_base_iri(),
        format=wanted,
    ))
    fmt = negotiate(accept, result.kind, override)
    if fmt is None:
        raise Fail(406, f"cannot send a {result.kind} result as {accept}; available: "
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


def check_token() -> str:
    """Return the request's bearer token if it is this server's update token, else 403."""
    token = current_app.config.get("UPDATE_TOKEN")
    if not token:
        raise Fail(403, "this endpoint is read-only: updates are disabled")
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    given = given.strip()
    if scheme.lower() != "bearer" or not given:
        raise Fail(403, "update refused: send the header 'Authorization: Bearer <token>'")
    if not hmac.compare_digest(given.encode(), str(token).encode()):
        raise Fail(403, "update refused: the bearer token is not valid")
    return given


def _update(op: _Operation) -> Response:
    given = check_token()
    key = request.headers.get("Idempotency-Key")
    if key is not None and not valid_key(key):
        raise Fail(400, "the Idempotency-Key header must be 1-200 visible ASCII characters without "
                        "quotes, backslashes or angle brackets")
    # 204 means committed, even if the engine's worker died after its commit; an error means
    # nothing was written (kb.store.commits). A retry with a key that committed answers 204 again.
    get_kb().update(op.text, token=given, base_iri=_base_iri(), using_graphs=op.default_graphs,
                    using_named_graphs=op.named_graphs, idempotency_key=key)
    return Response(status=204)


def _preflight() -> Response:
    response = Response(status=204)
    response.headers["Access-Control-Allow-Methods"] = "GET, HEAD, POST, OPTIONS"
    response.headers["Access-Control-Allow-Headers"] = "Accept, Content-Type, Authorization, Idempotency-Key"
    response.headers["Access-Control-Max-Age"] = "86400"
    response.headers["Allow"] = "GET, HEAD, POST, OPTIONS"
    return response


def _service_description() -> Response:
    override = request.args.get("format")
    accept = request.headers.get("Accept")
    if not override and prefers_html(accept):
        return redirect(_query_page(), code=303)
    fmt = negotiate(accept, "graph", override)
    if fmt is None:
        raise Fail(406, "the service description is available as "
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

