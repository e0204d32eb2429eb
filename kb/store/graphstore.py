"""The SPARQL 1.1 Graph Store HTTP Protocol, kb side: read, replace, add to and delete one graph.

A graph is a named graph IRI, or None for the store's own default graph. pyoxigraph parses
request bodies in a fenced, limited worker (each request's blank nodes are fresh) and serialises
answers; a body is parsed completely before anything is written, and each write is one
all-or-nothing step of the backend. Writes need the KB's update token, as SPARQL Update does.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from typing import Any

import pyoxigraph as ox

from kb.errors import KBError, NotFound, OutsideNamespace, UpdateRefused
from kb.namespaces import PREFIXES
from kb.query import uploads
from kb.store.staging import STAGING
from kb.terms import check_iri

# kb format names (webui.negotiation) -> pyoxigraph formats, for one graph.
FORMATS = {
    "turtle": ox.RdfFormat.TURTLE,
    "nt": ox.RdfFormat.N_TRIPLES,
    "xml": ox.RdfFormat.RDF_XML,
    "jsonld": ox.RdfFormat.JSON_LD,
}


class UnsupportedMediaType(KBError):
    """A body in a media type this store cannot read as one graph."""

    status = 415


def _backend(kb: Any) -> Any:
    return kb.backend  # the embedded store (kb.store.graphops) or a server (kb.store.remotegsp)


def _authorise(kb: Any, token: str | None) -> None:
    if not kb.update_token:
        raise UpdateRefused("updates are disabled: this knowledge base is read-only")
    if not token or not hmac.compare_digest(token.encode(), kb.update_token.encode()):
        raise UpdateRefused("updates need the right token (Authorization: Bearer ...)")


def _graph(graph: str | None) -> str | None:
    if graph is not None and check_iri(graph).startswith(STAGING):
        raise KBError(f"<{graph}> is a staging graph of the store; it cannot be read or written")
    return graph


def _writable(kb: Any, graph: str | None) -> str | None:
    """The graph, if this KB takes writes there: with own_graphs_only, only in its namespace."""
    graph = _graph(graph)
    if graph is not None and getattr(kb, "own_graphs_only", False) and not kb.in_namespace(graph):
        raise OutsideNamespace.for_graph(graph)
    return graph


def exists(kb: Any, graph: str | None) -> bool:
    """True if ``graph`` exists (the default graph always does)."""
    return _backend(kb).has_graph(_graph(graph))


def read(kb: Any, graph: str | None, fmt: str) -> bytes:
    """Serialise one graph in ``fmt`` (a key of FORMATS); NotFound if it does not exist."""
    backend = _backend(kb)
    if not backend.has_graph(_graph(graph)):
        raise NotFound(f"no graph <{graph}> in this store")
    triples = backend.graph_triples(graph)
    return ox.serialize(triples, format=FORMATS[fmt], prefixes=_used_prefixes(triples))


def _used_prefixes(triples: list[ox.Triple]) -> dict[str, str]:
    """The KB's prefixes that some IRI of ``triples`` starts with (the writer declares each one given)."""
    iris = {t.value for triple in triples for t in triple if isinstance(t, ox.NamedNode)}
    return {p: ns for p, ns in PREFIXES.items() if any(i.startswith(ns) for i in iris)}


def parse(data: bytes, media_type: str, base_iri: str | None, name: str = "request body", *,
          timeout: float = 10.0, require_fence: bool = False) -> list[ox.Triple]:
    """Parse a body of ``media_type`` into triples, or raise (415 media type, 400 with line:column).

    The parse runs in a fenced worker limited in memory and time (``kb.query.uploads``), never
    in this process: a body is the first thing an anonymous byte stream reaches.
    """
    fmt = ox.RdfFormat.from_media_type(media_type) if media_type else None
    # JSON-LD can name graphs, but a body without any is one graph (the worker refuses named ones).
    if fmt is None or (fmt.supports_datasets and fmt != ox.RdfFormat.JSON_LD):
        raise UnsupportedMediaType(
            f"cannot read {media_type or 'a body without a media type'} as one graph; send "
            + ", ".join(f.media_type for f in FORMATS.values())
        )
    return uploads.parse(data, fmt, base_iri, name, timeout, require_fence)


def write(
    kb: Any, graph: str | None, triples: Sequence[ox.Triple], *, replace: bool, token: str | None
) -> bool:
    """PUT (replace) or POST (add) triples into one graph; return True if the graph is new."""
    backend = _backend(kb)
    _authorise(kb, token)
    graph = _writable(kb, graph)
    created = not backend.has_graph(graph)
    backend.write_graph(graph, triples, replace=replace)
    return created


def delete(kb: Any, graph: str | None, token: str | None) -> None:
    """Remove one graph (or empty the default graph); NotFound if it does not exist."""
    backend = _backend(kb)
    _authorise(kb, token)
    graph = _writable(kb, graph)
    if not backend.has_graph(graph):
        raise NotFound(f"no graph <{graph}> in this store")
    backend.drop_graph(graph)
