"""What an export covers: the whole KB, one graph, one entity, or a CONSTRUCT/DESCRIBE result."""

from __future__ import annotations

import itertools
from typing import Any

from kb.errors import KBError, NotFound
from kb.export.rdf import serialize_quads
from kb.namespaces import GRAPH_SHAPES, graph_iri
from kb.terms import iri_ref


def export(kb: Any, format: str = "turtle", graph: str = "all", entity: str | None = None,
           query: str | None = None) -> bytes:
    """Serialise the KB's chosen part in ``format`` (never another user's graph)."""
    if query is not None or entity is not None:
        if entity is not None:
            ref = iri_ref(entity)
            query = (
                f"CONSTRUCT {{ {ref} ?p ?o . ?s ?q {ref} }} "
                f"WHERE {{ {{ {ref} ?p ?o }} UNION {{ ?s ?q {ref} }} }}"
            )
        result = kb.query(query or "")
        if result.kind != "graph":
            raise KBError("only CONSTRUCT and DESCRIBE results can be exported as RDF")
        return result.serialize(format, kb.prefixes)
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
