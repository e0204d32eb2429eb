"""What an export covers: the whole KB, one graph, one entity, or a CONSTRUCT/DESCRIBE result."""

from __future__ import annotations

import itertools
from typing import Any

from kb.errors import KBError, NotFound
from kb.export.files import Scope
from kb.export.rdf import format_name, serialize_quads
from kb.namespaces import GRAPH_CLAIM_INDEX, GRAPH_SHAPES, graph_iri
from kb.terms import iri_ref

DEFAULT_GRAPH = ""  # the store's own default graph, in kb.export.files' graph lists


def export_scope(kb: Any, graph: str = "all") -> Scope:
    """What an export of ``graph`` ("all", a short name or an IRI) holds, for kb.export.files."""
    from kb.export.rdf import serialize_quads

    def shapes() -> bytes:
        return serialize_quads(kb.shapes.quads(), "nq", prefixes={})

    if graph == "all":
        graphs = kb.graphs()
        if kb._foreign_graphs() or GRAPH_CLAIM_INDEX in graphs:
            own = [g for g in graphs if g != GRAPH_CLAIM_INDEX]
        else:
            own = [DEFAULT_GRAPH, *kb.backend.graphs()]  # what updates wrote without a graph too
        size = sum(graphs.get(g, 0) for g in own) + kb.shapes.count()
        return Scope("all", tuple(own), shapes(), None if DEFAULT_GRAPH in own else size)
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
        # An entity's statements, not the claim index's summaries about it (asked for by a
        # query, they are exported as asked).
        stated = kb.stated_graphs() if entity is not None else None
        name = format_name(format)
        # The engine writes the answer in the format, in its worker, with the KB's prefixes.
        result = kb.query(query or "", default_graphs=stated, timeout=timeout, format={"graph": name})
        if result.kind != "graph":
            raise KBError("only CONSTRUCT and DESCRIBE results can be exported as RDF")
        return result.body if result.format == name else result.serialize(format, kb.prefixes)
    if graph == "all":
        # never another user's graph, nor the claim index (derived; 'ckb index' rebuilds it)
        own = kb.graphs() if kb._foreign_graphs() or GRAPH_CLAIM_INDEX in kb.graphs() else None
        parts = ([kb.backend.quads(None)] if own is None
                 else [kb.backend.quads(g) for g in own if g != GRAPH_CLAIM_INDEX])
        quads = itertools.chain(*parts, kb.shapes.quads())
    elif graph_iri(graph) == GRAPH_SHAPES:
        quads = iter(kb.shapes.quads())
    else:
        iri = graph_iri(graph)
        if iri not in kb.graphs():
            raise NotFound(f"no graph {graph!r}; graphs: {', '.join(kb.graphs())}")
        quads = kb.backend.quads(iri)
    return serialize_quads(quads, format, prefixes=kb.prefixes)
