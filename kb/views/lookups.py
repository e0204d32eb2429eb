"""Pattern lookups on the embedded store, in the server process: no SPARQL text, no worker.

Pages read what they show by ``quads_for_pattern`` bound to IRIs they already hold, each
lookup bounded by the caller's caps, so a page costs microseconds per lookup instead of a
worker round trip, a parse and a plan. User input never becomes query text here: an IRI is
checked, then passed as a pyoxigraph term. Remote engines have no store in this process:
``reader`` yields None and the callers run their short bounded queries instead.

The rows returned have the shape of ``kb.query(...).rows`` (dicts of rdflib terms), so the
page code after a lookup is the same on both paths.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

import pyoxigraph as ox
from rdflib import BNode, URIRef
from rdflib.term import Identifier

from kb.namespaces import GRAPH_INFERRED
from kb.terms import check_iri, from_ox

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
SUBCLASS = "http://www.w3.org/2000/01/rdf-schema#subClassOf"
MAX_CLASSES = 2000  # subclasses followed for one ``a/rdfs:subClassOf*`` test


def term(value: Any) -> Identifier:
    """A pyoxigraph term as rdflib (IRIs and blank nodes without a round trip through text)."""
    if isinstance(value, ox.NamedNode):
        return URIRef(value.value)
    if isinstance(value, ox.BlankNode):
        return BNode(value.value)
    return from_ox(value)


def _node(iri: str | None) -> ox.NamedNode | None:
    return None if iri is None else named_node(iri)


@lru_cache(maxsize=1 << 16)
def named_node(iri: str) -> ox.NamedNode:
    """A checked IRI as a pyoxigraph term, kept for the next lookup."""
    # a page looks the same properties and neighbours up hundreds of times: checked once each
    return ox.NamedNode(check_iri(iri))


class Reader:
    """Bounded pattern lookups over the KB's dataset: its own named graphs, plus the default
    graph where a query would read the union (the engine's default dataset)."""

    def __init__(self, store: ox.Store, named: Iterable[str]) -> None:
        self.store = store
        self.named = frozenset(named)
        self._classes: dict[tuple[str, bool], frozenset[str]] = {}

    def _ok(self, graph: Any, union: bool, inferred: bool) -> bool:
        if isinstance(graph, ox.DefaultGraph):
            return union
        return graph.value in self.named and (inferred or graph.value != GRAPH_INFERRED)

    def quads(self, s: str | None, p: str | None, o: Any = None, *, union: bool = True,
              inferred: bool = True, limit: int | None = None) -> tuple[list[ox.Quad], bool]:
        """Quads matching the pattern in the dataset (``union``: default graph too); and
        whether ``limit`` cut them."""
        obj = _node(o) if isinstance(o, str) else o
        out: list[ox.Quad] = []
        for quad in self.store.quads_for_pattern(_node(s), _node(p), obj, None):
            if self._ok(quad.graph_name, union, inferred):
                if limit is not None and len(out) >= limit:
                    return out, True
                out.append(quad)
        return out, False

    def objects(self, s: str, p: str, inferred: bool = True) -> list[Any]:
        """The distinct objects of ``s p ?o`` (pyoxigraph terms), in store order."""
        return list(dict.fromkeys(q.object for q in self.quads(s, p, None, inferred=inferred)[0]))

    def subjects(self, p: str, o: Any, inferred: bool = True) -> list[Any]:
        """The distinct subjects of ``?s p o`` (pyoxigraph terms), in store order."""
        return list(dict.fromkeys(q.subject for q in self.quads(None, p, o, inferred=inferred)[0]))

    def subclasses(self, cls: str, inferred: bool = True) -> frozenset[str]:
        """``cls`` and every class below it by rdfs:subClassOf (``?t rdfs:subClassOf* cls``)."""
        key = (cls, inferred)
        if key not in self._classes:
            found, frontier = {cls}, [cls]
            while frontier and len(found) < MAX_CLASSES:
                nxt = []
                for c in frontier:
                    for sub in self.subjects(SUBCLASS, c, inferred):
                        if isinstance(sub, ox.NamedNode) and sub.value not in found:
                            found.add(sub.value)
                            nxt.append(sub.value)
                frontier = nxt
            self._classes[key] = frozenset(found)
        return self._classes[key]

    def of_class(self, iris: Iterable[str], cls: str, inferred: bool = True) -> set[str]:
        """Those of ``iris`` (IRIs the store gave) with a type below ``cls``: one lookup each,
        without re-checking IRIs that came from the store (a source page tests thousands)."""
        classes, typ = self.subclasses(cls, inferred), ox.NamedNode(RDF_TYPE)
        return {i for i in iris if any(
            isinstance(q.object, ox.NamedNode) and q.object.value in classes
            and self._ok(q.graph_name, True, inferred)
            for q in self.store.quads_for_pattern(ox.NamedNode(i), typ, None, None))}


@contextmanager
def reader(kb: Any) -> Iterator[Reader | None]:
    """A Reader on the KB's embedded store (writers wait until it is released), or None for
    a remote engine, or when ``kb.use_lookups`` is False or CKB_PAGE_LOOKUPS=0 (the page
    benchmark's "before": the same pages by bounded queries in the workers)."""
    reading = getattr(getattr(kb, "backend", None), "reading", None)
    off = not getattr(kb, "use_lookups", True) or os.environ.get("CKB_PAGE_LOOKUPS") == "0"
    if reading is None or off:
        yield None
        return
    with reading() as store:
        yield Reader(store, kb.graphs())


def text(value: Any) -> str:
    """The IRI, blank node id or lexical form of a pyoxigraph term."""
    return str(value.value)
