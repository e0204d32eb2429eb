"""The SPARQL service description (W3C sd: vocabulary) of a knowledge base's endpoint."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, RDF, VOID

from kb.export.rdf import serialize_triples
from kb.namespaces import PREFIXES

SD = Namespace("http://www.w3.org/ns/sparql-service-description#")


def describe_service(kb: Any, endpoint: str, result_formats: Sequence[str], update: bool) -> Graph:
    """Describe an endpoint over ``kb``: languages, result formats, and the dataset it serves."""
    graph = Graph()
    service = URIRef(endpoint)
    graph.add((service, RDF.type, SD.Service))
    graph.add((service, SD.endpoint, service))
    graph.add((service, DCTERMS.title, Literal("conflict-kb SPARQL endpoint")))
    graph.add((service, SD.supportedLanguage, SD.SPARQL11Query))
    if update:
        graph.add((service, SD.supportedLanguage, SD.SPARQL11Update))
    for iri in result_formats:
        graph.add((service, SD.resultFormat, URIRef(iri)))
    dataset, default = BNode(), BNode()
    graph.add((service, SD.defaultDataset, dataset))
    graph.add((dataset, RDF.type, SD.Dataset))
    graph.add((dataset, SD.defaultGraph, default))
    graph.add((default, RDF.type, SD.Graph))
    # The default graph is the engine's union of every graph; the SHACL shapes live outside it.
    graph.add((service, SD.feature, SD.UnionDefaultGraph))
    graph.add((default, DCTERMS.description, Literal(
        "the union of every graph of the store: the named graphs listed here and the graph that "
        "updates naming no graph write to")))
    for name, count in sorted(kb.graphs().items()):
        named, described = BNode(), BNode()
        graph.add((dataset, SD.namedGraph, named))
        graph.add((named, RDF.type, SD.NamedGraph))
        graph.add((named, SD.name, URIRef(name)))
        graph.add((named, SD.graph, described))
        graph.add((described, RDF.type, SD.Graph))
        graph.add((described, VOID.triples, Literal(count)))
    return graph


def service_description(
    kb: Any, endpoint: str, result_formats: Sequence[str], update: bool, fmt: str = "turtle"
) -> bytes:
    """The service description serialised in an RDF format (turtle, nt, jsonld, xml)."""
    prefixes = {"sd": str(SD), "void": str(VOID), "dcterms": PREFIXES["dcterms"]}
    return serialize_triples(describe_service(kb, endpoint, result_formats, update), fmt, prefixes=prefixes)
