"""RDF export: deterministic, pretty serialisation of quads and triples in every format."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

import pyoxigraph as ox

from kb.errors import KBError
from kb.export import turtle
from kb.export.bnodes import canonical_bnodes, canonical_labels, terms_of
from kb.terms import to_ox

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
# Above this many statements Turtle/TriG come from pyoxigraph's writer (about 15x faster):
# still sorted and grouped by subject, but blank nodes get labels instead of [ ... ].
PRETTY_LIMIT = 300_000
# A compact IRI whose suffix starts with "//" would be read back as an absolute IRI (JSON-LD 1.1).
_GEN_DELIMS = tuple(":/?#[]@")
# Characters XML 1.0 cannot carry at all, not even as character references.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_XML_NAME_END = re.compile(r"[A-Za-z_\u00C0-\uFFFF][-A-Za-z0-9_.\u00B7-\uFFFF]*$")


class Format(NamedTuple):
    """One export format: media type, file extension, pyoxigraph format, keeps graph names."""

    media_type: str
    extension: str
    rdf_format: ox.RdfFormat
    is_dataset: bool


FORMATS: dict[str, Format] = {
    "turtle": Format("text/turtle", "ttl", ox.RdfFormat.TURTLE, False),
    "nt": Format("application/n-triples", "nt", ox.RdfFormat.N_TRIPLES, False),
    "nq": Format("application/n-quads", "nq", ox.RdfFormat.N_QUADS, True),
    "trig": Format("application/trig", "trig", ox.RdfFormat.TRIG, True),
    "jsonld": Format("application/ld+json", "jsonld", ox.RdfFormat.JSON_LD, False),
    "xml": Format("application/rdf+xml", "rdf", ox.RdfFormat.RDF_XML, False),
}

# Other spellings people type; each maps to a key of FORMATS.
ALIASES: dict[str, str] = {
    "ttl": "turtle",
    "ntriples": "nt",
    "n-triples": "nt",
    "nquads": "nq",
    "n-quads": "nq",
    "json-ld": "jsonld",
    "rdfxml": "xml",
    "rdf/xml": "xml",
    "rdf": "xml",
}


def format_name(fmt: str) -> str:
    """Return the canonical format name for ``fmt`` or raise a KBError listing the valid ones."""
    key = fmt.strip().lower()
    key = ALIASES.get(key, key)
    if key not in FORMATS:
        raise KBError(f"unknown RDF format {fmt!r}; choose one of: {', '.join(FORMATS)}")
    return key


def format_for_media_type(media_type: str) -> str | None:
    """Return the format name serving ``media_type`` (parameters ignored), or None."""
    base = media_type.split(";", 1)[0].strip().lower()
    for name, spec in FORMATS.items():
        if spec.media_type == base:
            return name
    return {"application/x-turtle": "turtle", "text/n3": "turtle", "application/xml": "xml",
            "application/json": "jsonld"}.get(base)


def serialize_quads(quads: Iterable[ox.Quad], fmt: str, *, prefixes: dict[str, str]) -> bytes:
    """Serialise quads; triple formats merge all graphs, dataset formats keep graph names."""
    name = format_name(fmt)
    spec = FORMATS[name]
    # pyoxigraph terms hash by value, so a dict keyed by the statement drops duplicates in order.
    if spec.is_dataset:
        items: list[Any] = list(dict.fromkeys(quads))
    else:
        items = list(dict.fromkeys(q.triple for q in quads))
    return _write(items, name, prefixes)


def serialize_triples(triples: Iterable[Sequence[Any]], fmt: str, *,
                      prefixes: dict[str, str]) -> bytes:
    """Serialise CONSTRUCT/DESCRIBE triples (rdflib or pyoxigraph terms) in a triple format."""
    name = format_name(fmt)
    bnodes: dict[str, ox.BlankNode] = {}
    merged: dict[tuple[str, str, str], ox.Triple] = {}
    for t in triples:
        s, p, o = (_ox_term(x, bnodes) for x in (t if not isinstance(t, ox.Triple)
                                                  else (t.subject, t.predicate, t.object)))
        merged.setdefault((str(s), str(p), str(o)), ox.Triple(s, p, o))
    items = list(merged.values())
    if FORMATS[name].is_dataset:
        # A CONSTRUCT result is one graph: write it as the default graph of the dataset.
        items = [ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph()) for t in items]
    return _write(items, name, prefixes)


def _ox_term(term: Any, bnodes: dict[str, ox.BlankNode]) -> Any:
    """Convert an rdflib term to pyoxigraph; blank node ids pyoxigraph rejects get fresh ones."""
    if isinstance(term, ox.NamedNode | ox.BlankNode | ox.Literal):
        return term
    try:
        return to_ox(term)
    except ValueError:
        key = str(term)
        if key not in bnodes:
            bnodes[key] = ox.BlankNode(f"x{len(bnodes)}")
        return bnodes[key]


def _write(items: list[Any], name: str, prefixes: dict[str, str]) -> bytes:
    """Give blank nodes stable names, sort, and hand the statements to pyoxigraph's writer."""
    spec = FORMATS[name]
    if name in ("turtle", "trig") and len(items) <= PRETTY_LIMIT:
        return turtle.write(items, prefixes, canonical_labels)
    items = canonical_bnodes(items)
    items.sort(key=_sort_key)
    if name == "xml":
        _check_xml(items)
    used = _used_prefixes(items, prefixes) if name in ("turtle", "trig", "xml", "jsonld") else {}
    if name == "jsonld":
        return _jsonld(ox.serialize(items, format=spec.rdf_format), used)
    if name == "xml":
        # pyoxigraph writes carriage returns raw and XML parsers turn them into newlines; a raw
        # CR can only come from literal text (the writer's own layout uses LF and TAB).
        return ox.serialize(items, format=spec.rdf_format, prefixes=used or None).replace(
            b"\r", b"&#13;")
    return ox.serialize(items, format=spec.rdf_format, prefixes=used or None)


def _sort_key(item: Any) -> tuple[str, str, int, str, str]:
    """Order by graph (default first), subject, rdf:type first, predicate, object."""
    g = getattr(item, "graph_name", None)
    graph = "" if g is None or isinstance(g, ox.DefaultGraph) else str(g)
    pred = item.predicate.value
    return (graph, str(item.subject), 0 if pred == RDF_TYPE else 1, pred, str(item.object))


def _used_prefixes(items: list[Any], prefixes: dict[str, str]) -> dict[str, str]:
    """Only the prefixes some IRI in ``items`` starts with, in a fixed (sorted) order."""
    iris: set[str] = set()
    for item in items:
        for t in terms_of(item):
            if isinstance(t, ox.NamedNode):
                iris.add(t.value)
            elif isinstance(t, ox.Literal):
                iris.add(t.datatype.value)
    namespaces = {ns for ns in prefixes.values() if ns}
    hit = {ns for ns in namespaces if any(i.startswith(ns) for i in iris)} if len(iris) < 5000 \
        else _namespaces_hit(iris, namespaces)
    return {p: ns for p, ns in sorted(prefixes.items()) if ns in hit}


def _namespaces_hit(iris: set[str], namespaces: set[str]) -> set[str]:
    """Namespaces used by a large IRI set: cut each IRI at its last '#' or '/' and look up."""
    hit: set[str] = set()
    for iri in iris:
        cut = max(iri.rfind("#"), iri.rfind("/")) + 1
        if iri[:cut] in namespaces:
            hit.add(iri[:cut])
    # Namespaces not ending in '#' or '/' are rare; test them the slow way.
    odd = {ns for ns in namespaces if not ns.endswith(("#", "/"))}
    hit |= {ns for ns in odd if any(i.startswith(ns) for i in iris)}
    return hit


def _check_xml(items: list[Any]) -> None:
    """Refuse, with a clear reason, the statements RDF/XML cannot express."""
    for pred in {item.predicate.value for item in items}:
        if not _XML_NAME_END.search(pred):
            raise KBError(f"RDF/XML cannot express the predicate <{pred}> (its IRI does not end "
                          "in an XML name); export as turtle or jsonld instead")
    for item in items:
        obj = item.object
        if isinstance(obj, ox.Literal) and (bad := _XML_ILLEGAL.search(obj.value)):
            raise KBError(f"RDF/XML cannot express a literal of {item.subject} containing "
                          f"control character U+{ord(bad.group()):04X}; export as turtle instead")


def _jsonld(raw: bytes, prefixes: dict[str, str]) -> bytes:
    """Wrap pyoxigraph's expanded JSON-LD in an @context of prefixes and compact its IRIs."""
    context = {p: ns for p, ns in prefixes.items() if ns.endswith(_GEN_DELIMS)}
    by_length = sorted(context.items(), key=lambda kv: -len(kv[1]))

    def compact(iri: str) -> str:
        for p, ns in by_length:
            if iri.startswith(ns) and len(iri) > len(ns) and not iri[len(ns):].startswith("//"):
                return f"{p}:{iri[len(ns):]}"
        return iri

    def walk(node: Any) -> Any:
        if isinstance(node, list):
            return [walk(n) for n in node]
        if not isinstance(node, dict):
            return node
        if "@value" in node:
            out = dict(node)
            if "@type" in out:
                out["@type"] = compact(out["@type"])
            return out
        out = {}
        for key, value in node.items():
            if key == "@id":
                out[key] = value if value.startswith("_:") else compact(value)
            elif key == RDF_TYPE and all(set(v) == {"@id"} for v in value):
                out["@type"] = [walk(v)["@id"] for v in value]
            elif key.startswith("@"):
                out[key] = walk(value)
            else:
                out[compact(key)] = walk(value)
        return out

    nodes = [_plain_strings(walk(n)) for n in json.loads(raw)]
    # One node object per line: compact, yet a diff shows which subject changed.
    lines = ",\n".join("  " + json.dumps(n, ensure_ascii=False, sort_keys=True) for n in nodes)
    head = json.dumps(context, ensure_ascii=False, indent=2).replace("\n", "\n ")
    return f'{{"@context": {head},\n "@graph": [\n{lines}\n ]}}\n'.encode()


def _plain_strings(node: dict[str, Any]) -> dict[str, Any]:
    """Write xsd:string literals as bare JSON strings, which JSON-LD reads back as the same."""
    for key, values in node.items():
        if not key.startswith("@") and isinstance(values, list):
            node[key] = [v["@value"] if isinstance(v, dict) and set(v) == {"@value"} else v
                         for v in values]
    return node
