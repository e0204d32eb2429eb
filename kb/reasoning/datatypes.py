"""Literals as an OWL 2 DL reasoner reads them: a defined datatype's literals in its base datatype.

The ontology declares ``geo:wktLiteral owl:equivalentClass xsd:string`` (a datatype definition) so
that GeoSPARQL's ``geo:asWKT`` stays OWL 2 DL. But a datatype defined that way has no lexical
space of its own (OWL 2 Structural Specification, 9.4), so Pellet rejects every
``"POINT(...)"^^geo:wktLiteral`` and calls the KB inconsistent. The store keeps the GeoSPARQL
typing (geo:asWKT's range, what GeoSPARQL tools read); the reasoner's and the rules' input gets
the same lexical form typed with the base datatype, which is what the definition says it is.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import pyoxigraph as ox
from rdflib import Graph, URIRef
from rdflib.namespace import OWL, RDF, RDFS

XSD = "http://www.w3.org/2001/XMLSchema#"


def definitions(graph: Graph) -> dict[URIRef, URIRef]:
    """Each datatype the graph defines as equivalent to an XSD datatype, with that datatype."""
    out: dict[URIRef, URIRef] = {}
    for dt in graph.subjects(RDF.type, RDFS.Datatype):
        for base in graph.objects(dt, OWL.equivalentClass):
            if isinstance(dt, URIRef) and isinstance(base, URIRef) and str(base).startswith(XSD):
                out[dt] = base
    return out


def ox_definitions(triples: Iterable[ox.Triple | ox.Quad]) -> dict[str, ox.NamedNode]:
    """`definitions` over pyoxigraph triples (the ontology's: datatype definitions live there)."""
    typed, equivalent = set(), {}
    for t in triples:
        if t.predicate.value == str(RDF.type) and t.object == ox.NamedNode(str(RDFS.Datatype)):
            typed.add(t.subject)
        elif t.predicate.value == str(OWL.equivalentClass) and isinstance(t.object, ox.NamedNode) \
                and t.object.value.startswith(XSD):
            equivalent[t.subject] = t.object
    return {dt.value: base for dt, base in equivalent.items() if dt in typed}


def ox_view(quads: Iterable[ox.Quad], defined: dict[str, ox.NamedNode]) -> Iterator[ox.Quad]:
    """The quads, each literal of a defined datatype retyped to its base datatype."""
    for q in quads:
        o = q.object
        if isinstance(o, ox.Literal) and o.datatype.value in defined:
            q = ox.Quad(q.subject, q.predicate, ox.Literal(o.value, datatype=defined[o.datatype.value]),
                        q.graph_name)
        yield q
