"""The SPARQL 1.1 Graph Store HTTP Protocol on /rdf-graph-store (the name Oxigraph's server uses).

A graph is named indirectly (/rdf-graph-store?graph=IRI, or ?default for the store's own default
graph) or directly (/rdf-graph-store/<path> names the graph whose IRI is that URL). GET and HEAD
read a graph for anyone; PUT (replace), POST (add; to /rdf-graph-store alone: a new graph, 201
with its IRI in Location) and DELETE need the update token, as SPARQL Update does.

Status codes: 200 a graph; 201 a graph was created; 204 written or deleted; 400 bad graph IRI,
bad parameters or a body that does not parse (with line:column); 403 read-only, bad token, or
(--own-graphs-only) a graph outside the KB's namespace; 404 no such graph; 405 other methods;
406 no acceptable format; 413 body too large; 415 a body that is not one graph in an RDF format,
or a charset other than UTF-8.
"""

from __future__ import annotations

import uuid

import pyoxigraph as ox
from flask import Blueprint, Response, request, url_for
from werkzeug.datastructures import FileStorage

from kb.export.files import Scope
from kb.store import graphstore
from kb.terms import check_iri
from webui import get_kb, sending
from webui.negotiation import acceptable_types, content_type, negotiate
from webui.sparql import Fail, check_token, require_utf8

bp = Blueprint("graphstore", __name__)

ROUTE = "/rdf-graph-store"
METHODS = ["GET", "HEAD", "PUT", "POST", "DELETE", "OPTIONS"]
_NEW = object()  # POST to the store itself: make a new graph


@bp.route(ROUTE, methods=METHODS, endpoint="store")
@bp.route(f"{ROUTE}/<path:rest>", methods=METHODS, endpoint="direct")
def store(rest: str | None = None) -> Response:
    """Answer one Graph Store Protocol request."""
    if request.method == "OPTIONS":
        return _preflight()
    graph = target(direct=rest is not None)
    if request.method in ("GET", "HEAD"):
        return read_graph(graph)
    if request.method == "DELETE":
        graphstore.delete(get_kb(), graph, check_token())
        return Response(status=204)
    token = check_token()
    location = None
    if graph is _NEW:
        graph = location = url_for("graphstore.direct", rest=uuid.uuid4().hex, _external=True)
    triples = _read_body(graph)
    created = graphstore.write(get_kb(), graph, triples, replace=request.method == "PUT", token=token)
    response = Response(status=201 if created else 204)
    if location:
        response.headers["Location"] = location
    return response


def target(direct: bool = False) -> str | object | None:
    """The graph a request names: an IRI, None for the default graph, or _NEW (POST, no graph)."""
    args = request.args
    if direct:
        if "graph" in args or "default" in args:
            raise Fail(400, "a graph named by its URL takes no ?graph= or ?default")
        return check_iri(request.base_url)
    if "graph" in args and "default" in args:
        raise Fail(400, "name one graph: ?graph=IRI or ?default, not both")
    if "default" in args:
        return None
    if "graph" in args:
        values = args.getlist("graph")
        if len(values) != 1:
            raise Fail(400, "the 'graph' parameter must be given exactly once")
        return check_iri(values[0])
    if request.method == "POST":
        return _NEW
    raise Fail(400, "name a graph: ?graph=IRI, or ?default for the default graph")


def read_graph(graph: str | object | None = _NEW) -> Response:
    """GET/HEAD one graph in the format the client accepts (also for /sparql?graph=)."""
    if graph is _NEW:
        graph = target()
    fmt = negotiate(request.headers.get("Accept"), "graph", request.args.get("format"))
    if fmt is None or fmt.name not in graphstore.FORMATS:
        raise Fail(406, "a graph is available as " + ", ".join(acceptable_types("graph")[:4]))
    kb = get_kb()
    if not graphstore.exists(kb, graph):
        raise Fail(404, f"no graph <{graph}> in this store")
    size = None if graph is None else kb.backend.graphs().get(graph)
    scope = Scope("default" if graph is None else "graph", ("" if graph is None else graph,), b"", size)
    # A file per graph and store generation, written in a worker and sent from disk (webui.sending).
    response = sending.send_scope(scope, fmt.name, content_type(fmt),
                                  fallback=lambda: graphstore.read(kb, graph, fmt.name))
    response.vary.add("Accept")
    return response


def _read_body(graph: str | None) -> list:
    """Parse the request body (one RDF document, or the files of a multipart form) completely."""
    base = graph or url_for("graphstore.store", _external=True)
    if request.mimetype == "multipart/form-data":
        parts: list[FileStorage] = list(request.files.values())
        if not parts or request.form:
            # A part without a file name is a plain form field: refuse it rather than skip it.
            raise Fail(400, "every part of a multipart/form-data body must be an RDF file "
                            "(Content-Disposition with a filename)")
        triples = []
        for part in parts:
            triples += graphstore.parse(part.read(), _part_type(part), base, part.filename or part.name,
                                        **_limits())
        return triples
    require_utf8()
    return graphstore.parse(request.get_data(cache=False), request.mimetype, base, **_limits())


def _limits() -> dict:
    """A body's parse runs in a worker with the kb's time limit, fenced as its queries are."""
    kb = get_kb()
    return {"timeout": float(kb.timeout), "require_fence": bool(getattr(kb.backend, "sandbox", False))}


def _part_type(part: FileStorage) -> str:
    """A form part's media type: its own header, else its file name's extension."""
    if part.mimetype and part.mimetype != "application/octet-stream":
        if part.mimetype_params.get("charset", "utf-8").lower().replace("_", "-") not in ("utf-8", "utf8"):
            raise Fail(415, f"request bodies must be UTF-8; got charset={part.mimetype_params['charset']}")
        return part.mimetype
    ext = (part.filename or "").rpartition(".")[2]
    fmt = ox.RdfFormat.from_extension(ext) if ext else None
    return fmt.media_type if fmt else ""


def _preflight() -> Response:
    response = Response(status=204)
    response.headers["Access-Control-Allow-Methods"] = ", ".join(METHODS)
    response.headers["Access-Control-Allow-Headers"] = "Accept, Content-Type, Authorization"
    response.headers["Access-Control-Max-Age"] = "86400"
    response.headers["Allow"] = ", ".join(METHODS)
    return response


@bp.after_app_request
def _cors(response: Response) -> Response:
    if request.path == ROUTE or request.path.startswith(ROUTE + "/"):
        response.headers.setdefault("Access-Control-Allow-Origin", "*")
    return response
