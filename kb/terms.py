"""Conversions between pyoxigraph terms, plain tuples (for pipes) and rdflib terms."""

from __future__ import annotations

import re
from typing import Any

import pyoxigraph as ox
from rdflib import BNode, Literal, URIRef
from rdflib.term import Identifier

from kb.errors import KBError

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
RDF_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"

Encoded = tuple[str, ...]


def encode(term: Any) -> Encoded:
    """Turn a pyoxigraph term into a small picklable tuple."""
    if isinstance(term, ox.NamedNode):
        return ("u", term.value)
    if isinstance(term, ox.BlankNode):
        return ("b", term.value)
    if isinstance(term, ox.Literal):
        return ("l", term.value, term.datatype.value, term.language or "")
    # RDF-star quoted triples are outside this KB's model; keep them readable.
    return ("l", str(term), XSD_STRING, "")


def decode(enc: Encoded) -> Identifier:
    """Turn an encoded tuple back into an rdflib term."""
    kind = enc[0]
    if kind == "u":
        return URIRef(enc[1])
    if kind == "b":
        return BNode(enc[1])
    value, datatype, lang = enc[1], enc[2], enc[3]
    # normalize=False: the engine's lexical form is kept exactly ("32100"^^xsd:double stays so).
    if lang:
        return Literal(value, lang=lang, normalize=False)
    if datatype == XSD_STRING:
        return Literal(value, normalize=False)
    return Literal(value, datatype=URIRef(datatype), normalize=False)


def from_ox(term: Any) -> Identifier:
    """Convert a pyoxigraph term to rdflib."""
    return decode(encode(term))


def to_ox(term: Identifier) -> Any:
    """Convert an rdflib term to pyoxigraph."""
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    if isinstance(term, Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype is not None and str(term.datatype) != RDF_LANG_STRING:
            return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
        return ox.Literal(str(term))
    raise TypeError(f"not an RDF term: {term!r}")


# An absolute IRI that can be written between < and > in SPARQL or N-Triples as it is.
IRI_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[^\x00-\x20<>\"{}|\\^`\x7f]+")


def check_iri(value: str) -> str:
    """Return ``value`` if it is an absolute IRI safe to write as <...>, else raise KBError."""
    text = str(value)
    if not IRI_PATTERN.fullmatch(text):
        shown = text if len(text) <= 80 else text[:77] + "..."
        raise KBError(f"not a valid IRI: {shown!r}")
    return text


def iri_ref(iri: str) -> str:
    """Return ``<iri>`` for safe use in SPARQL text, or raise KBError for a bad IRI."""
    return f"<{check_iri(iri)}>"
