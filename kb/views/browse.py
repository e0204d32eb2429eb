"""Entity browsing: describe and neighbourhood, over kb.query() (search lives in kb.views.search).

Every function takes the KnowledgeBase (anything with a ``query(sparql, limit=...)``
method) first. User input only reaches SPARQL through rdflib's term serialisation
(``URIRef(x).n3()``, ``Literal(x).n3()``) after validation, never pasted raw.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from rdflib import BNode, URIRef
from rdflib.term import Identifier

from kb.errors import KBError, NotFound
from kb.namespaces import GRAPH_INFERRED, PREFIXES
from kb.terms import check_iri, iri_ref
from kb.views import pagerows
from kb.views.lookups import reader
from kb.views.naming import LABEL_PROPERTIES, chunks, labels, lang_rank, local_name, types_of, values_block

RDF_TYPE = PREFIXES["rdf"] + "type"
RDFS_LABEL = PREFIXES["rdfs"] + "label"
SKOS = PREFIXES["skos"]
SKOS_PREF, SKOS_ALT, SKOS_DEF = SKOS + "prefLabel", SKOS + "altLabel", SKOS + "definition"
# Properties an entity page shows in its header; they also stay in `outgoing`.
SUMMARY_PROPERTIES = frozenset({RDF_TYPE, RDFS_LABEL, SKOS_PREF, SKOS_ALT, SKOS_DEF})

PNAME_PATTERN = re.compile(r"([A-Za-z][\w.-]*)?:([^\s<>\"{}|\\^`]*)")
_MAX_STATEMENTS = 2000  # per direction on an entity page; beyond it, `truncated`


@dataclass(frozen=True)
class Labelled:
    """An IRI with its display label."""

    iri: str
    label: str


@dataclass(frozen=True)
class Value:
    """One statement's other end: the rdflib term, its label, and whether it is inferred."""

    term: Identifier
    label: str
    inferred: bool
    details: tuple[tuple[str, str], ...] = ()  # (property label, value label) of a blank node

    @property
    def is_iri(self) -> bool:
        """True when the value is an IRI (linkable)."""
        return isinstance(self.term, URIRef)


@dataclass
class PropertyGroup:
    """All values of one property (outgoing) or all subjects using it (incoming)."""

    iri: str
    label: str
    values: list[Value] = field(default_factory=list)


@dataclass
class Description:
    """Everything an entity page shows about one IRI."""

    iri: str
    label: str
    alt_labels: list[str]
    types: list[Labelled]
    definition: str | None
    outgoing: list[PropertyGroup]
    incoming: list[PropertyGroup]
    truncated: bool = False


def _statements(kb: Any, iri: str, outgoing: bool, limit: int) -> tuple[dict[tuple, set[str]], bool]:
    """``GRAPH ?g { <iri> ?a ?b }`` (or ``?b ?a <iri>``); map (a, b) to the graphs holding it."""
    with reader(kb) as r:
        if r is not None:
            rows, cut = pagerows.statements(r, iri, outgoing, limit)
        else:
            pattern = f"{iri_ref(iri)} ?a ?b" if outgoing else f"?b ?a {iri_ref(iri)}"
            # LIMIT in the text too: a server otherwise sends every row for the client to cut
            # (an outlet at 1M: 8,110 incoming statements, 2.5-8.5 s on Virtuoso, for 2,000 shown)
            result = kb.query(f"SELECT ?a ?b ?g WHERE {{ GRAPH ?g {{ {pattern} }} }} LIMIT {limit + 1}",
                              limit=limit)
            rows, cut = result.rows, bool(result.truncated)
    held: dict[tuple, set[str]] = defaultdict(set)
    for row in rows:
        held[(row["a"], row["b"])].add(str(row["g"]))
    return held, cut


def _is_inferred(graphs: set[str]) -> bool:
    return graphs == {GRAPH_INFERRED}


def _blank_details(kb: Any, iri: str) -> dict[str, list[tuple[str, Identifier]]]:
    """The statements about blank-node values of ``iri`` (OWL restrictions, qualified nodes)."""
    with reader(kb) as r:
        rows = pagerows.blank_details(r, iri, _MAX_STATEMENTS) if r else kb.query(
            f"SELECT DISTINCT ?b ?p ?o WHERE {{ GRAPH ?g {{ {iri_ref(iri)} ?x ?b . ?b ?p ?o }} "
            f"FILTER(isBlank(?b)) }} LIMIT {_MAX_STATEMENTS + 1}", limit=_MAX_STATEMENTS).rows
    out: dict[str, list[tuple[str, Identifier]]] = defaultdict(list)
    for row in rows:
        out[str(row["b"])].append((str(row["p"]), row["o"]))
    return out


def describe(kb: Any, iri: str, inferred: bool = True, incoming: bool = True) -> Description:
    """Describe ``iri``: labels, types, definition, statements in and out grouped by property
    (without ``incoming``, the statements pointing to it are left out: an outlet has thousands)."""
    ref = iri_ref(iri)
    out, trunc_out = _statements(kb, iri, True, _MAX_STATEMENTS)
    inc, trunc_in = _statements(kb, iri, False, _MAX_STATEMENTS if incoming else 1)
    if not incoming:
        inc, trunc_in = ({} if out else inc), False  # one is enough to know the IRI is there
    if not inferred:
        out = {k: g for k, g in out.items() if not _is_inferred(g)}
        inc = {k: g for k, g in inc.items() if not _is_inferred(g)}
    if not out and not inc:
        with reader(kb) as r:
            used = pagerows.used_as_property(r, iri) if r else kb.query(
                f"ASK {{ GRAPH ?g {{ ?s {ref} ?o }} }}").boolean
        if not used:
            raise NotFound(f"no entity <{iri}> in the knowledge base")
    blanks = _blank_details(kb, iri) if any(isinstance(b, BNode) for _, b in out) else {}
    names = {iri} | {str(t) for key in (*out, *inc) for t in key if isinstance(t, URIRef)}
    names |= {p for rows in blanks.values() for p, _ in rows}
    names |= {str(o) for rows in blanks.values() for _, o in rows if isinstance(o, URIRef)}
    names_of = labels(kb, names)

    def label_of(term: Identifier) -> str:
        if isinstance(term, URIRef):
            return names_of.get(str(term), local_name(str(term)))
        return "[blank node]" if isinstance(term, BNode) else str(term)

    def value(term: Identifier, graphs: set[str]) -> Value:
        details = tuple(
            sorted((names_of.get(p, local_name(p)), label_of(o)) for p, o in blanks.get(
                str(term), []))
        ) if isinstance(term, BNode) else ()
        return Value(term, label_of(term), _is_inferred(graphs), details)

    def groups(held: dict[tuple, set[str]]) -> list[PropertyGroup]:
        by_prop: dict[str, PropertyGroup] = {}
        for (prop, other), graphs in held.items():
            key = str(prop)
            group = by_prop.setdefault(key, PropertyGroup(key, label_of(prop)))
            group.values.append(value(other, graphs))
        for group in by_prop.values():
            group.values.sort(key=lambda v: (v.inferred, v.label.lower(), str(v.term)))
        return sorted(by_prop.values(), key=lambda g: (g.label.lower(), g.iri))

    outgoing = groups(out)
    props = {g.iri: g for g in outgoing}
    alt = sorted({str(v.term) for v in _group_values(props, SKOS_ALT)})
    definitions = sorted(_group_values(props, SKOS_DEF), key=lambda v: lang_rank(v.term))
    types = [Labelled(str(v.term), v.label) for v in _group_values(props, RDF_TYPE) if v.is_iri]
    return Description(
        iri=iri,
        label=names_of.get(iri, local_name(iri)),
        alt_labels=alt,
        types=types,
        definition=str(definitions[0].term) if definitions else None,
        outgoing=outgoing,
        incoming=groups(inc) if incoming else [],
        truncated=trunc_out or trunc_in,
    )


def _group_values(props: dict[str, PropertyGroup], prop: str) -> list[Value]:
    return list(props[prop].values) if prop in props else []


def neighbourhood(kb: Any, iri: str, depth: int = 1, limit: int = 200) -> dict[str, Any]:
    """Return the IRI-to-IRI graph around ``iri`` (rdf:type left to node types), Cytoscape-ready."""
    if not 0 <= depth <= 4:
        raise KBError(f"depth must be between 0 and 4, not {depth}")
    if limit < 1:
        raise KBError(f"limit must be at least 1, not {limit}")
    root = check_iri(iri)
    nodes: dict[str, int] = {root: 0}  # IRI -> distance from the root
    edges: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    frontier, truncated = [root], False
    for distance in range(1, depth + 1):
        found: list[tuple[str, str, str, str]] = []
        for part in chunks(frontier):
            v = values_block(part)
            result = kb.query(
                f"SELECT ?s ?p ?o ?g WHERE {{ "
                f"{{ VALUES ?s {{ {v} }} GRAPH ?g {{ ?s ?p ?o }} FILTER(isIRI(?o)) }} UNION "
                f"{{ VALUES ?o {{ {v} }} GRAPH ?g {{ ?s ?p ?o }} FILTER(isIRI(?s)) }} "
                f"FILTER(?p != {iri_ref(RDF_TYPE)}) }}",
                limit=limit * 50,
            )
            truncated |= bool(result.truncated)
            found += [(str(r["s"]), str(r["p"]), str(r["o"]), str(r["g"])) for r in result.rows]
        frontier = []
        for s, p, o, g in sorted(found):
            for end in (s, o):
                if end not in nodes:
                    if len(nodes) >= limit:
                        truncated = True
                        continue
                    nodes[end] = distance
                    frontier.append(end)
            if s in nodes and o in nodes:
                edges[(s, p, o)].add(g)
        if not frontier:
            break
    if depth == 0 or len(nodes) == 1:
        describe_exists(kb, root)
    types = types_of(kb, nodes)
    names = labels(kb, [*nodes, *(p for _, p, _ in edges), *(t for ts in types.values()
                                                              for t in ts)])
    return {
        "nodes": [
            {"id": n, "label": names.get(n, local_name(n)), "types": types.get(n, []),
             "typeLabels": [names.get(t, local_name(t)) for t in types.get(n, [])],
             "distance": d, "root": n == root}
            for n, d in nodes.items()
        ],
        "edges": [
            {"id": f"e{i}", "source": s, "target": o, "predicate": p,
             "label": names.get(p, local_name(p)), "inferred": _is_inferred(graphs)}
            for i, ((s, p, o), graphs) in enumerate(sorted(edges.items()))
        ],
        "truncated": truncated,
    }


def describe_exists(kb: Any, iri: str) -> None:
    """Raise NotFound unless ``iri`` occurs somewhere in the knowledge base."""
    ref = iri_ref(iri)
    if not kb.query(f"ASK {{ GRAPH ?g {{ {{ {ref} ?p ?o }} UNION {{ ?s ?p {ref} }} "
                    f"UNION {{ ?s {ref} ?o }} }} }}").boolean:
        raise NotFound(f"no entity <{iri}> in the knowledge base")


__all__ = [
    "LABEL_PROPERTIES",
    "Description",
    "Labelled",
    "PropertyGroup",
    "Value",
    "check_iri",
    "describe",
    "describe_exists",
    "labels",
    "local_name",
    "neighbourhood",
    "types_of",
    "values_block",
]
