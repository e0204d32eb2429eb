"""Run W3C HTTP test manifests (ht:Request / ht:Response) against a real `ckb serve` on loopback.

The SPARQL 1.1 Protocol and Graph Store Protocol manifests describe each test as HTTP requests
in the W3C HTTP vocabulary (method, path, headers, body with its character encoding) and the
response each must get (status or status class, boolean, result format, headers, RDF body).
This module reads them with rdflib, sends them byte for byte with http.client (which adds no
Content-Type or Accept of its own), and checks the responses.
"""

from __future__ import annotations

import http.client
import os
import re
import socket
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path

import pyoxigraph as ox
from rdflib import RDFS, Graph, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.compare import isomorphic

from tests.engines import wait_serving

from .manifests import ROOT, SUITE

W3C = SUITE  # the suites folder, for the runners that import it from here

TOKEN = "w3c-suite-token"

MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
HT = Namespace("http://www.w3.org/2011/http#")
HTS = Namespace("http://www.w3.org/2011/http-statusCodes#")
CNT = Namespace("http://www.w3.org/2011/content#")
UT = Namespace("http://www.w3.org/2009/sparql/tests/test-update#")

RESULT_TYPES = {
    "application/sparql-results+json": ox.QueryResultsFormat.JSON,
    "application/sparql-results+xml": ox.QueryResultsFormat.XML,
    "text/csv": ox.QueryResultsFormat.CSV,
    "text/tab-separated-values": ox.QueryResultsFormat.TSV,
}
# The Protocol test for CONSTRUCT/DESCRIBE: "expect one of: RDF/XML, Turtle, N-Triples, RDFa".
RDF_TYPES = {
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
}


@dataclass
class Request:
    """One ht:Request and what its ht:Response must be."""

    method: str
    path: str
    headers: list[tuple[str, str]]
    body: bytes | None
    statuses: list[str]  # local names in hts:, e.g. "StatusCode2xx", "Created"
    boolean: bool | None = None
    result_format: str | None = None  # "boolean", "tabular" or "RDF"
    location_var: str | None = None  # mf:expectedLocation: a template for later requests
    response_headers: list[tuple[str, str]] = field(default_factory=list)
    response_body: str | None = None  # RDF the response body must be isomorphic to


@dataclass
class Case:
    """One manifest entry."""

    id: str
    name: str
    requests: list[Request]
    graph_data: list[tuple[Path, str]] = field(default_factory=list)  # (file, graph IRI)


def _list(graph: Graph, node) -> list:
    return list(Collection(graph, node)) if node is not None else []


def _headers(graph: Graph, node) -> list[tuple[str, str]]:
    return [
        (str(graph.value(h, HT.fieldName)), str(graph.value(h, HT.fieldValue)))
        for h in _list(graph, graph.value(node, HT.headers))
    ]


def _request(graph: Graph, node) -> Request:
    body_node = graph.value(node, HT.body)
    body = None
    if body_node is not None:
        encoding = str(graph.value(body_node, CNT.characterEncoding) or "UTF-8")
        body = str(graph.value(body_node, CNT.chars)).encode(encoding)
    resp = graph.value(node, HT.resp)
    expected_body = graph.value(resp, HT.body)
    boolean = graph.value(resp, MF.expectedBoolean)
    fmt = graph.value(resp, MF.expectedFormat)
    location = graph.value(resp, MF.expectedLocation)
    return Request(
        method=str(graph.value(node, HT.methodName)),
        path=str(graph.value(node, HT.absolutePath)),
        headers=_headers(graph, node),
        body=body,
        statuses=sorted(str(s).rsplit("#", 1)[1] for s in graph.objects(resp, MF.expectedStatus)),
        boolean=None if boolean is None else bool(boolean.toPython()),
        result_format=None if fmt is None else str(fmt),
        location_var=None if location is None else str(location),
        response_headers=_headers(graph, resp),
        response_body=None if expected_body is None else str(graph.value(expected_body, CNT.chars)),
    )


def read_manifest(path: Path) -> list[Case]:
    """Read the entries of a manifest (and of the manifests it includes), in their order."""
    graph = Graph().parse(path, format="turtle")
    manifest = URIRef(path.resolve().as_uri())
    cases: list[Case] = []
    for included in _list(graph, graph.value(manifest, MF.include)):
        cases += read_manifest(Path(str(included).removeprefix("file://")))
    for entry in _list(graph, graph.value(manifest, MF.entries)):
        action = graph.value(entry, MF.action)
        requests = [_request(graph, r) for r in _list(graph, graph.value(action, HT.requests))]
        data = [
            (Path(str(graph.value(d, UT.graph)).removeprefix("file://")), str(graph.value(d, RDFS.label)))
            for d in graph.objects(entry, UT.graphData)
        ]
        cases.append(Case(str(entry).rsplit("#", 1)[1], str(graph.value(entry, MF.name)), requests,
                          sorted(data, key=lambda d: d[1])))
    return cases


# -- the server ---------------------------------------------------------------------------

def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def ckb_serve(*options: str, store: Path | None = None) -> Iterator[str]:
    """Run `ckb serve --update-token T` on a fresh disk store, as shipped; yield its URL.

    No option changes what the server does: the store is a new folder named by $CKB_STORE
    (the default store on disk, loaded with the bundle on first use), and only the address
    (loopback, a free port) is given besides the token. ``options`` are added after those;
    ``store`` serves that folder instead of a new one (to restart on the same store).
    """
    port = free_port()
    cmd = [sys.executable, "-m", "kb.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
           "--update-token", TOKEN, *options]
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="ckb-w3c-") as folder, tempfile.TemporaryFile() as log:
        env = {**os.environ, "CKB_STORE": str(store or Path(folder) / "store")}
        env.pop("CKB_ENDPOINT", None)
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env)
        try:
            # 180 s: the first use loads the bundle into the new store
            wait_serving(proc, log, lambda: send(base, "GET", "/sparql?query=ASK%7B%7D", [])[0] == 200, 180)
            yield base
        finally:
            proc.terminate()
            proc.wait(timeout=60)


def send(base: str, method: str, path: str, headers: list[tuple[str, str]],
         body: bytes | None = None) -> tuple[int, dict[str, str], bytes]:
    """Send one request exactly as given; return (status, headers with lower-case names, body)."""
    host = base.removeprefix("http://")
    conn = http.client.HTTPConnection(host, timeout=60)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        for name, value in headers:
            conn.putheader(name, value)
        if body is not None:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        response = conn.getresponse()
        data = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, data
    finally:
        conn.close()


# -- checking responses --------------------------------------------------------------------

# hts: local names (OK, Created, NoContent, NotFound) -> codes.
_STATUS = {s.phrase.replace(" ", ""): s.value for s in HTTPStatus}


def status_ok(status: int, expected: list[str]) -> bool:
    """True if ``status`` is one the manifest allows (a class like StatusCode2xx, or a code)."""
    for name in expected:
        m = re.fullmatch(r"StatusCode(\d)xx", name)
        if m and status // 100 == int(m.group(1)):
            return True
        if not m and status == _STATUS[name]:
            return True
    return False


def media_type(headers: dict[str, str]) -> str:
    """The response's media type without parameters."""
    return headers.get("content-type", "").split(";")[0].strip().lower()


def check_result(req: Request, headers: dict[str, str], body: bytes) -> str | None:
    """Check the expected result format, boolean, headers and RDF body; return a problem or None."""
    mt = media_type(headers)
    if req.result_format in ("boolean", "tabular"):
        if mt not in RESULT_TYPES:
            return f"a {req.result_format} result came as {mt or 'no media type'}"
        parsed = ox.parse_query_results(body, format=RESULT_TYPES[mt])
        if req.result_format == "boolean":
            if not isinstance(parsed, ox.QueryBoolean):
                return "expected a boolean result"
            if req.boolean is not None and bool(parsed) is not req.boolean:
                return f"expected {req.boolean}, got {bool(parsed)}"
        elif not isinstance(parsed, ox.QuerySolutions):
            return "expected a table of solutions"
        else:
            list(parsed)
    if req.result_format == "RDF":
        if mt not in RDF_TYPES:
            return f"an RDF result came as {mt or 'no media type'}"
        list(ox.parse(body, format=RDF_TYPES[mt]))
    for name, value in req.response_headers:
        got = headers.get(name.lower())
        if got is None or got.replace(" ", "").lower() != value.replace(" ", "").lower():
            return f"header {name}: expected {value!r}, got {got!r}"
    if req.response_body is not None:
        got_graph = parse_graph(body, mt)
        want = Graph().parse(data=req.response_body, format="turtle")
        if not isomorphic(got_graph, want):
            return f"the body is not the expected graph; got:\n{body.decode(errors='replace')}"
    return None


def parse_graph(body: bytes, mt: str) -> Graph:
    """Parse an RDF response with pyoxigraph into an rdflib Graph (for the isomorphism check)."""
    from kb.terms import from_ox

    graph = Graph()
    for t in ox.parse(body, format=ox.RdfFormat.from_media_type(mt)):
        graph.add((from_ox(t.subject), from_ox(t.predicate), from_ox(t.object)))
    return graph


@dataclass
class Outcome:
    """How one manifest entry went."""

    case: Case
    passed: bool
    detail: str = ""


def run_case(base: str, case: Case, prepare: Callable[[str, str], str],
             extra_headers: Callable[[str], list[tuple[str, str]]],
             variables: dict[str, str] | None = None) -> Outcome:
    """Send the case's requests in order; stop at the first unexpected response.

    ``variables`` (mf:expectedLocation templates) live for the case, or as long as the caller's dict.
    """
    variables = {} if variables is None else variables
    for n, req in enumerate(case.requests, 1):
        path, body = req.path, req.body
        for var, value in variables.items():
            path = path.replace(var, value)
            body = body.replace(var.encode(), value.encode()) if body is not None else None
        path = prepare(path, req.method)
        status, headers, data = send(base, req.method, path, req.headers + extra_headers(req.method), body)
        where = f"request {n} ({req.method} {path})"
        if not status_ok(status, req.statuses):
            message = data.decode(errors="replace").strip()[:300]
            return Outcome(case, False, f"{where}: status {status}, expected "
                                        f"{' or '.join(req.statuses)}: {message}")
        if req.location_var:
            if "location" not in headers:
                return Outcome(case, False, f"{where}: no Location header")
            variables[req.location_var] = headers["location"]
        if req.method != "HEAD":
            problem = check_result(req, headers, data)
            if problem:
                return Outcome(case, False, f"{where}: {problem}")
        elif data:
            return Outcome(case, False, f"{where}: HEAD answered with a body")
    return Outcome(case, True)


def table(title: str, intro: str, outcomes: list[Outcome], command: str | None,
          notes: dict[str, str] | None = None, level: int = 1) -> str:
    """The Markdown results table kept in docs/; ``notes`` explain known failures."""
    passed = sum(o.passed for o in outcomes)
    lines = [f"{'#' * level} {title}", "", intro, "", f"Result: **{passed} of {len(outcomes)} pass**."]
    if command:
        lines[-1] += " Re-run (and rewrite this file) with:"
        lines += ["", "```sh", command, "```"]
    lines += ["", "| # | test | name | result |", "|---|---|---|---|"]
    for n, o in enumerate(outcomes, 1):
        if o.passed:
            result = "pass"
        elif notes and o.case.id in notes:
            result = "fail: " + notes[o.case.id]
        else:
            result = "FAIL: " + " ".join(o.detail.split())[:200]
        lines.append(f"| {n} | `{o.case.id}` | {o.case.name.replace('|', '/')} | "
                     f"{result.replace('|', '/')} |")
    return "\n".join(lines) + "\n"


def keep_doc(doc: Path, text: str) -> None:
    """Write the doc with CKB_WRITE_DOCS=1; otherwise it must equal what this run found."""
    if os.environ.get("CKB_WRITE_DOCS") == "1":
        doc.write_text(text, encoding="utf-8")
    assert doc.is_file(), f"{doc} is missing; run with CKB_WRITE_DOCS=1 to write it"
    assert doc.read_text(encoding="utf-8") == text, (
        f"{doc.name} does not match this run; run with CKB_WRITE_DOCS=1 to rewrite it"
    )


def literal_graph_data(files: list[tuple[Path, str]]) -> str:
    """An update that replaces the whole store by these N-Triples files in their graphs."""
    parts = []
    for path, iri in files:
        parsed = [q.triple for q in ox.parse(path=str(path), format=ox.RdfFormat.N_TRIPLES)]
        triples = ox.serialize(parsed, format=ox.RdfFormat.N_TRIPLES).decode()
        parts.append(f"GRAPH <{URIRef(iri)}> {{\n{triples}}}")
    return "DROP ALL ;\nINSERT DATA {\n" + "\n".join(parts) + "\n}"


# -- the deprecated http-rdf-update manifest: tests written as HTTP messages in prose ---------

_SECTION = re.compile(r"#### Request\n(?P<request>.*?)#### Response\n(?P<response>.*)", re.DOTALL)


def _message(block: str) -> tuple[str, list[tuple[str, str]], str]:
    """Split an indented HTTP message into (start line, headers, body)."""
    text = "\n".join(line[4:] if line.startswith("    ") else line.strip()
                     for line in block.strip("\n").splitlines()).strip()
    head, _, body = text.partition("\n\n")
    start, *fields = head.splitlines()
    headers = [(k.strip(), v.strip()) for k, _, v in (f.partition(":") for f in fields)]
    return start.strip(), headers, body.strip()


def read_prose_manifest(path: Path) -> list[Case]:
    """Read http-rdf-update/manifest.ttl: each entry's request and response are prose."""
    graph = Graph().parse(path, format="turtle")
    manifest = URIRef(path.resolve().as_uri())
    cases = []
    for entry in _list(graph, graph.value(manifest, MF.entries)):
        prose = next(str(c) for c in graph.objects(entry, RDFS.comment) if "#### Request" in str(c))
        m = _SECTION.search(prose)
        assert m, entry
        start, headers, body = _message(m.group("request"))
        method, target, _ = start.split()
        status_line, resp_headers, resp_body = _message(m.group("response"))
        code = int(status_line.split()[0])
        headers = [(k, v) for k, v in headers if k.lower() != "host"]  # http.client sends Host
        location = next((v for k, v in resp_headers if k.lower() == "location"), None)
        content_type = next((v for k, v in headers if k.lower() == "content-type"), "")
        data = body.encode() if body else None
        if data and content_type.startswith("multipart/"):
            data = body.replace("\n", "\r\n").encode() + b"\r\n"
        request = Request(
            method=method, path=target, headers=headers, body=data,
            statuses=[HTTPStatus(code).phrase.replace(" ", "")],
            location_var=location,
            response_headers=[(k, v) for k, v in resp_headers
                              if k.lower() not in ("content-length", "location")],
            response_body=resp_body or None,
        )
        cases.append(Case(str(entry).rsplit("#", 1)[1], str(graph.value(entry, MF.name)), [request]))
    return cases
