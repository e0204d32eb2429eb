"""What an export covers: the whole KB, one graph, one entity, or a CONSTRUCT/DESCRIBE result."""

from __future__ import annotations

import itertools
from typing import Any

from kb.errors import KBError, NotFound
from kb.export.files import Scope
from kb.export.rdf import format_name, serialize_quads
from kb.namespaces import GRAPH_SHAPES, graph_iri
from kb.terms import iri_ref

DEFAULT_GRAPH = ""  # the store's own default graph, in kb.export.files' graph lists


def export_scope(kb: Any, graph: str = "all") -> Scope:
    """What an export of ``graph`` ("all", a short name or an IRI) holds, for kb.export.files."""
    from kb.export.rdf import serialize_quads

    def shapes() -> bytes:
        return serialize_quads(kb.shapes.quads(), "nq", prefixes={})

    if graph == "all":
        # Every graph of the KB's (a server's backend lists no other user's) and the store's
        # default graph (what updates wrote without a graph): its size is not recorded.
        own = [DEFAULT_GRAPH, *kb.graphs()]
        return Scope("all", tuple(own), shapes(), None)
    iri = graph_iri(graph)
    if iri == GRAPH_SHAPES:
        return Scope("shapes", (), shapes(), kb.shapes.count())
    if iri not in kb.graphs():
        raise NotFound(f"no graph {graph!r}; graphs: {', '.join(kb.graphs())}")
    return Scope(iri.rstrip("/#").rsplit("/", 1)[-1], (iri,), b"", kb.graphs()[iri])


def export(kb: Any, format: str = "turtle", graph: str = "all", entity: str | None = None,
           query: str | None = None, timeout: float | None = None) -> bytes:
    """Serialise the KB's chosen part in ``format`` (never another user's graph)."""
    if query is not None or entity is not None:
        if entity is not None:
            ref = iri_ref(entity)
            query = (
                f"CONSTRUCT {{ {ref} ?p ?o . ?s ?q {ref} }} "
                f"WHERE {{ {{ {ref} ?p ?o }} UNION {{ ?s ?q {ref} }} }}"
            )
        name = format_name(format)
        # The engine writes the answer in the format, in its worker, with the KB's prefixes.
        result = kb.query(query or "", timeout=timeout, format={"graph": name})
        if result.kind != "graph":
            raise KBError("only CONSTRUCT and DESCRIBE results can be exported as RDF")
        return result.body if result.format == name else result.serialize(format, kb.prefixes)
    if graph == "all":
        # Every graph of the KB's (a server's backend lists no other user's) and the embedded
        # store's default graph; derived state lives beside the store, never in it.
        quads = itertools.chain(kb.backend.quads(None), kb.shapes.quads())
    elif graph_iri(graph) == GRAPH_SHAPES:
        quads = iter(kb.shapes.quads())
    else:
        iri = graph_iri(graph)
        if iri not in kb.graphs():
            raise NotFound(f"no graph {graph!r}; graphs: {', '.join(kb.graphs())}")
        quads = kb.backend.quads(iri)
    return serialize_quads(quads, format, prefixes=kb.prefixes)
