"""The SPARQL 1.1 Protocol as servers really speak it: requests, engines, time limits, results."""

from __future__ import annotations

import json
import re
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pyoxigraph as ox

from kb.errors import ForbiddenQuery, KBError, StoreError

# the requests themselves, kept alive between queries (re-exported: callers say p.send, p.Pool)
from kb.store.connections import MAX_GET_URL as MAX_GET_URL
from kb.store.connections import Pool as Pool
from kb.store.connections import send as send
from kb.store.connections import with_params

# rdflib's SPARQL parser (pyparsing) is not thread-safe: parses from a server's threads at once
# failed with ParseException (479 of 480 at 8 threads); one at a time, every parse is the same.
PARSE_LOCK = threading.Lock()
# The word FROM where a FROM clause could be: not inside an IRI, a prefixed name or a variable
# (prov:wasDerivedFrom, ckb:drawnFrom, ?from). Any other match (a literal, a comment) only costs
# the parse below; rdflib's parse took 0.05-0.5 s per chain query of a page on a loaded machine.
_FROM_WORD = re.compile(r"(?<![\w?$:/#.%\\-])from(?!\w)", re.IGNORECASE)
# Text that could spell SERVICE or LOAD by some tokenisation, as kb.query.guard.may_reach_network
_NETWORK_SPELLINGS = re.compile(r"service|load|\\u", re.IGNORECASE)
MAX_DEPTH = 64  # kb.query.guard.MAX_DEPTH: the nesting its check refuses (counted as brackets here)
ACCEPT = {
    "select": "application/sparql-results+json",
    "ask": "application/sparql-results+json",
    "graph": "application/n-triples",
    "xml": "application/sparql-results+xml",
}


@dataclass(frozen=True)
class Engine:
    """What one kind of server honours beyond the bare protocol."""

    name: str
    # Query parameter carrying a per-query limit in milliseconds, if the server takes one.
    timeout_param: str | None = None
    # Graph Store Protocol: URL path (relative to the endpoint) and the graph parameter name.
    store_path: str | None = None
    store_graph_param: str = "graph"
    # SELECT answers asked as SPARQL XML (kb.store.xmlresults), where the server writes JSON slowly
    xml_results: bool = False

    @property
    def bounds_queries(self) -> bool:
        """True if a query's own limit can be sent along and the server stops the work there."""
        return self.timeout_param is not None


# Virtuoso: anytime queries stop at `timeout` ms; GSP at /sparql-graph-crud?graph-uri=.
VIRTUOSO = Engine("virtuoso", timeout_param="timeout", store_path="/sparql-graph-crud",
                  store_graph_param="graph-uri", xml_results=True)
# Oxigraph server: GSP at /store?graph=; its only limit is server-wide (serve --timeout-s).
OXIGRAPH = Engine("oxigraph", store_path="/store")
GENERIC = Engine("sparql")
ENGINES = {e.name: e for e in (VIRTUOSO, OXIGRAPH, GENERIC)}


def detect_engine(endpoint: str, timeout: float = 10.0) -> Engine:
    """Ask the server (one tiny GET) which engine it is, from its Server header."""
    url = with_params(endpoint, [("query", "ASK {}")])
    request = urllib.request.Request(url, headers={"Accept": ACCEPT["ask"]})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            server = response.headers.get("Server", "")
    except urllib.error.HTTPError as err:
        server = err.headers.get("Server", "") if err.headers else ""
    except (OSError, urllib.error.URLError) as err:
        reason = getattr(err, "reason", err)
        raise StoreError(f"cannot reach SPARQL server {endpoint}: {reason}") from None
    lowered = server.lower()
    if lowered.startswith("virtuoso"):
        return VIRTUOSO
    if lowered.startswith("oxigraph"):
        return OXIGRAPH
    return GENERIC


def store_url(endpoint: str, engine: Engine, graph: str) -> str | None:
    """The Graph Store Protocol URL of one graph on this server, if it has one."""
    if engine.store_path is None:
        return None
    parts = urllib.parse.urlsplit(endpoint)
    base = urllib.parse.urlunsplit((parts.scheme, parts.netloc, engine.store_path, "", ""))
    return with_params(base, [(engine.store_graph_param, graph)])


def passes_check(query: str) -> bool:
    """True if the fenced worker's parse check (kb.query.guard) is known to pass ``query``, as
    long as Oxigraph parses it (query_kind): no spelling of SERVICE or LOAD, no FROM word (which
    the check would parse with rdflib) and fewer brackets than the nesting it refuses. A syntax
    error is then Oxigraph's, as the check itself would answer for such text. A page's queries
    skip a round trip to the worker each (about 9 ms, 30 a page)."""
    if _NETWORK_SPELLINGS.search(query) or _FROM_WORD.search(query):
        return False
    return query.count("{") + query.count("(") + query.count("[") <= MAX_DEPTH


def query_kind(query: str, prefixes: dict[str, str]) -> str:
    """Return select, ask or graph by letting Oxigraph parse (and run) the query on no data.

    This also raises SyntaxError with the query's own line and column before any request.
    """
    result = ox.Store().query(query, prefixes=prefixes)
    if isinstance(result, ox.QueryBoolean | bool):
        return "ask"
    return "select" if isinstance(result, ox.QuerySolutions) else "graph"


def blank_label(label: str) -> str:
    """A valid blank-node id for any server label (Virtuoso says ``nodeID://b10003``)."""
    if label.isalnum() and label.isascii():
        return label
    return "x" + label.encode("utf-8").hex()


def clean_json(body: bytes, kind: str) -> bytes:
    """A server's SPARQL JSON answer made standard, for the engine's parser to read.

    Blank-node labels of any shape become valid ones, and Virtuoso 7.2's answer to ASK
    (one row of ``__ASK_RETVAL`` = 1, or no row) becomes the boolean it means.
    """
    try:
        data = json.loads(body)
        bindings = data.get("results", {}).get("bindings", [])
        names = data.get("head", {}).get("vars", [])
    except (ValueError, AttributeError) as err:
        raise StoreError(f"the SPARQL server's answer is not SPARQL JSON: {err}") from None
    if kind == "ask" and "boolean" not in data:
        value = bindings[0].get(names[0], {}).get("value") if bindings and names else "0"
        return json.dumps({"head": {}, "boolean": value not in ("0", "false")}).encode()
    for row in bindings:
        for term in row.values():
            if term.get("type") == "bnode":
                term["value"] = blank_label(term["value"])
            elif term.get("type") == "typed-literal":  # the 2005 name some servers still send
                term["type"] = "literal"
    return json.dumps(data).encode()


def solutions(body: bytes) -> Iterator[ox.QuerySolution]:
    """The solutions of a cleaned SPARQL JSON answer, read by the engine's parser."""
    return iter(ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON))


def blank_components(triples: list[ox.Triple]) -> Iterator[list[ox.Triple]]:
    """Group triples so that every blank node stays with all the triples that name it.

    Each group is self-contained, so groups can be sent in separate requests (where each
    request's blank-node labels are its own) without splitting or merging any blank node.
    """
    parent: dict[Any, Any] = {}

    def find(x: Any) -> Any:
        root = x
        while parent.get(root, root) != root:
            root = parent[root]
        while x != root:
            parent[x], x = root, parent[x]
        return root

    for t in triples:
        nodes = [n for n in (t.subject, t.object) if isinstance(n, ox.BlankNode)]
        if len(nodes) == 2:
            a, b = find(nodes[0]), find(nodes[1])
            if a != b:
                parent[a] = b
    groups: dict[Any, list[ox.Triple]] = {}
    for t in triples:
        node = t.subject if isinstance(t.subject, ox.BlankNode) else t.object
        if isinstance(node, ox.BlankNode):
            groups.setdefault(find(node), []).append(t)
        else:
            yield [t]
    yield from groups.values()


def chunks(triples: list[ox.Triple], size: int) -> Iterator[list[ox.Triple]]:
    """Bounded chunks of about ``size`` triples; a blank node's triples never straddle two."""
    batch: list[ox.Triple] = []
    for group in blank_components(triples):
        if batch and len(batch) + len(group) > size:
            yield batch
            batch = []
        batch.extend(group)
    if batch:
        yield batch


def own_dataset(
    query: str, prefixes: dict[str, str], own: list[str], refuse: Callable[[str], bool] | None = None
) -> tuple[list[str], list[str], bool]:
    """The dataset a query may see on a shared store: (default, named, taken from its FROM).

    Without FROM / FROM NAMED it is every graph of the KB's own, in both parts; with them, the
    graphs they name that are the KB's own (another user's graph reads as empty), or, when
    ``refuse`` says a named graph is not the KB's, ForbiddenQuery.
    """
    # \u and \U escapes could spell FROM: such a query is parsed too (case matters to SPARQL)
    if not _FROM_WORD.search(query) and "\\u" not in query and "\\U" not in query:
        return list(own), list(own), False
    from rdflib.plugins.sparql.algebra import translateQuery
    from rdflib.plugins.sparql.parser import parseQuery

    prologue = "".join(f"PREFIX {k}: <{v}>\n" for k, v in prefixes.items())
    try:
        with PARSE_LOCK:
            clauses = translateQuery(parseQuery(prologue + query)).algebra.get("datasetClause") or []
    except Exception as err:  # rdflib's parser lags the standard in places: refuse, and say so
        raise ForbiddenQuery(f"cannot read this query's FROM clauses ({type(err).__name__})") from None
    if not clauses:
        return list(own), list(own), False
    # rdflib's CompValue.get(key) answers the key itself when it is missing (so FROM NAMED read
    # as "FROM <default>"); attribute access answers None.
    for c in clauses:
        named_clause = c.default is None
        graph = str(c.named if named_clause else c.default)
        if refuse is not None and refuse(graph):
            raise ForbiddenQuery(f"FROM {'NAMED ' if named_clause else ''}<{graph}>: that graph is not "
                                 "one of this knowledge base's")
    default = [str(c.default) for c in clauses if c.default is not None and str(c.default) in own]
    named = [str(c.named) for c in clauses if c.named is not None and str(c.named) in own]
    return default, named, True


def require_http(endpoint: str) -> str:
    """Check an endpoint URL; return it."""
    if urllib.parse.urlsplit(endpoint).scheme not in ("http", "https"):
        raise KBError(f"endpoint must be an http(s) URL: {endpoint!r}")
    return endpoint
