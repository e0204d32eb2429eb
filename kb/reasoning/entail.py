"""Closing a reasoner's output: what OWL entails that owlready2 leaves out, minus noise.

HermiT reports only the most specific types and property values, and owlready2
drops an inferred relation whose inverse is asserted, so the reasoner's answer is
closed here under the class and property hierarchy, inverses, symmetry and
transitivity, then filtered of built-ins and of anything already asserted.
"""

from __future__ import annotations

from rdflib import RDF, RDFS, BNode, Graph, Literal, URIRef
from rdflib.namespace import OWL, XSD

_BUILTIN = (str(RDF), str(RDFS), str(OWL), str(XSD), "http://www.lesfleursdunormal.fr/",
            "http://inferrences")
_PROPERTY_TYPES = (OWL.ObjectProperty, OWL.DatatypeProperty, OWL.TransitiveProperty,
                   OWL.SymmetricProperty, OWL.FunctionalProperty, OWL.InverseFunctionalProperty)


def _named(term: object) -> bool:
    """True for an IRI that is not an RDF/RDFS/OWL/XSD (or owlready2-internal) term."""
    return isinstance(term, URIRef) and not str.startswith(term, _BUILTIN)


def _edges(graph: Graph, preds: tuple[URIRef, ...], both: tuple[URIRef, ...]) -> dict:
    """Map each named term to the named terms it points to by `preds` (and `both`, both ways)."""
    out: dict[URIRef, set[URIRef]] = {}
    for pred in preds + both:
        for a, b in graph.subject_objects(pred):
            if _named(a) and _named(b) and a != b:
                out.setdefault(a, set()).add(b)
                if pred in both:
                    out.setdefault(b, set()).add(a)
    return out


def _ancestors(edges: dict, start: URIRef) -> set[URIRef]:
    """All terms reachable from `start` along `edges` (not including start)."""
    seen: set[URIRef] = set()
    stack = list(edges.get(start, ()))
    while stack:
        node = stack.pop()
        if node not in seen:
            seen.add(node)
            stack.extend(edges.get(node, ()))
    seen.discard(start)
    return seen


def _key(t: tuple) -> tuple:
    """Compare literals by value: Pellet's values come back re-typed ("x" as "x"^^xsd:string)."""
    o = t[2]
    if isinstance(o, Literal) and o.value is not None:
        dtype = None if o.datatype == XSD.string else o.datatype
        o = ("lit", dtype, (o.language or "").lower(), o.value)
    return (t[0], t[1], o)


def materialise(source: Graph, added: Graph) -> Graph:
    """Close the reasoner's findings under the property/class axioms; keep what is new.

    HermiT reports only the most specific types and property instances, and owlready2 drops a
    relation whose inverse is asserted, so superclasses, super-properties, inverses, symmetric
    and transitive pairs are completed here from the (reasoner-classified) axioms.
    """
    schema = source + added
    classes = _edges(schema, (RDFS.subClassOf,), (OWL.equivalentClass,))
    props = _edges(schema, (RDFS.subPropertyOf,), (OWL.equivalentProperty,))
    inverses = _edges(schema, (), (OWL.inverseOf,))
    symmetric = set(schema.subjects(RDF.type, OWL.SymmetricProperty))
    transitive = set(schema.subjects(RDF.type, OWL.TransitiveProperty))
    declared = {p for t in _PROPERTY_TYPES for p in schema.subjects(RDF.type, t) if _named(p)}
    usable = declared | {q for p in declared for q in _ancestors(props, p) | inverses.get(p, set())}

    known: dict[tuple, tuple] = {}  # value key -> first triple seen (asserted forms win)
    by_sp: dict[tuple, set] = {}
    by_po: dict[tuple, set] = {}
    todo: list[tuple] = []

    def add(t: tuple) -> None:
        key = _key(t)
        if key not in known:
            known[key] = t
            by_sp.setdefault((t[0], t[1]), set()).add(t[2])
            by_po.setdefault((t[1], t[2]), set()).add(t[0])
            todo.append(t)

    def drain() -> None:
        while todo:
            s, p, o = todo.pop()
            if p == RDF.type:
                for c in _ancestors(classes, o):
                    add((s, RDF.type, c))
                continue
            for q in _ancestors(props, p):
                add((s, q, o))
            if not isinstance(o, URIRef):
                continue
            for q in inverses.get(p, ()):
                add((o, q, s))
            if p in symmetric:
                add((o, p, s))
            if p in transitive:
                for o2 in list(by_sp.get((o, p), ())):
                    add((s, p, o2))
                for s0 in list(by_po.get((p, s), ())):
                    add((s0, p, o))

    # close the asserted triples first, so their literal forms win over owlready2's re-typed ones
    for graph in (source, added):
        for s, p, o in sorted(graph, key=_sort_key):
            if _named(s) and not isinstance(o, BNode) and (
                (p == RDF.type and _named(o)) or (p in usable)
            ):
                add((s, p, o))
        drain()

    # the reasoner's new class/property subsumptions between named terms
    for pred in (RDFS.subClassOf, OWL.equivalentClass, RDFS.subPropertyOf, OWL.equivalentProperty):
        for a, b in added.subject_objects(pred):
            if _named(a) and _named(b) and a != b:
                known.setdefault((a, pred, b), (a, pred, b))
    asserted = {_key(t) for t in source}
    out = Graph()
    for key, (s, p, o) in known.items():
        if key not in asserted and not (s == o and p != RDF.type):
            out.add((s, p, o))
    return out


def _sort_key(t: tuple) -> tuple:
    """Order triples so that which of two value-equal literals is kept never varies."""
    return tuple((type(x).__name__, str(x), x.n3()) for x in t)
