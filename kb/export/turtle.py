"""A pretty Turtle/TriG writer: grouped subjects, inline blank nodes and lists, stable order.

pyoxigraph's writer gives every blank node a label, so one new OWL restriction renames
all the others and a diff of the ontology turns to noise. Here a blank node used once is
written in place (``[ ... ]``, lists as ``( ... )``); only shared blank nodes keep labels.
Each term is rendered once and cached, which keeps the writer fast on large graphs.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import pyoxigraph as ox

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
XSD = "http://www.w3.org/2001/XMLSchema#"
RDF_TYPE, RDF_FIRST, RDF_REST, RDF_NIL = (RDF + n for n in ("type", "first", "rest", "nil"))
IND = "    "
# Turtle's own number and boolean tokens: written bare they keep the exact lexical form.
_BARE = {
    XSD + "integer": re.compile(r"[+-]?\d+"),
    XSD + "decimal": re.compile(r"[+-]?\d*\.\d+"),
    XSD + "double": re.compile(r"[+-]?(\d+\.\d*|\.\d+|\d+)[eE][+-]?\d+"),
    XSD + "boolean": re.compile(r"true|false"),
}
# A conservative subset of PN_LOCAL: anything else is written as a full <IRI>.
_LOCAL = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_-])?|")
_PREFIX = re.compile(r"[A-Za-z](?:[A-Za-z0-9_.-]*[A-Za-z0-9_-])?|")

Relabel = Callable[[list[Any], set[Any]], dict[Any, Any]]


class _Terms:
    """Renders terms with the prefixes, caching each rendering."""

    def __init__(self, prefixes: dict[str, str]) -> None:
        self.prefixes = {p: ns for p, ns in prefixes.items() if _PREFIX.fullmatch(p) and ns}
        self.by_ns = sorted(self.prefixes.items(), key=lambda kv: -len(kv[1]))
        self.cache: dict[Any, str] = {}
        self.used: set[str] = set()

    def iri(self, iri: str) -> str:
        for p, ns in self.by_ns:
            if iri.startswith(ns) and _LOCAL.fullmatch(iri[len(ns):]):
                self.used.add(p)
                return f"{p}:{iri[len(ns):]}"
        return f"<{iri}>"

    def __call__(self, term: Any) -> str:
        text = self.cache.get(term)
        if text is None:
            text = self.cache[term] = self._render(term)
        return text

    def _render(self, term: Any) -> str:
        if isinstance(term, ox.NamedNode):
            return self.iri(term.value)  # "a" only as a predicate (body), never as an object
        if isinstance(term, ox.BlankNode):
            return f"_:{term.value}"
        quoted = str(ox.Literal(term.value))  # pyoxigraph's escaping of the string
        if term.language:
            return f"{quoted}@{term.language}"
        dt = term.datatype.value
        if dt == XSD + "string":
            return quoted
        bare = _BARE.get(dt)
        if bare is not None and bare.fullmatch(term.value):
            return term.value
        return f"{quoted}^^{self.iri(dt)}"


class _Graph:
    """The statements of one graph, indexed for writing."""

    def __init__(self, triples: list[Any], inline: set[Any]) -> None:
        self.props: dict[Any, dict[Any, list[Any]]] = defaultdict(lambda: defaultdict(list))
        for t in triples:
            self.props[t.subject][t.predicate].append(t.object)
        self.inline = inline

    def list_items(self, node: Any) -> list[Any] | None:
        """The members if ``node`` heads a well-formed list of inline nodes, else None."""
        items: list[Any] = []
        seen: set[Any] = set()
        while not (isinstance(node, ox.NamedNode) and node.value == RDF_NIL):
            props = self.props.get(node)
            if node in seen or node not in self.inline or props is None or len(props) != 2:
                return None
            first = [v for p, v in props.items() if p.value == RDF_FIRST]
            rest = [v for p, v in props.items() if p.value == RDF_REST]
            if len(first) != 1 or len(rest) != 1 or len(first[0]) != 1 or len(rest[0]) != 1:
                return None
            seen.add(node)
            items.append(first[0][0])
            node = rest[0][0]
        return items


def _inlinable(triples: list[Any], shared: set[Any]) -> set[Any]:
    """Blank nodes used as object exactly once and reachable from a written subject."""
    uses: dict[Any, int] = defaultdict(int)
    subjects: set[Any] = set()
    for t in triples:
        subjects.add(t.subject)
        if isinstance(t.object, ox.BlankNode):
            uses[t.object] += 1
    inline = {b for b, n in uses.items() if n == 1 and b not in shared}
    children: dict[Any, list[Any]] = defaultdict(list)
    for t in triples:
        if t.object in inline:
            children[t.subject].append(t.object)
    # A ring of blank nodes, each used once, has no root to hang from: keep those labelled.
    reached: set[Any] = set()
    stack = [s for s in subjects if s not in inline]
    while stack:
        for child in children.get(stack.pop(), ()):
            if child not in reached:
                reached.add(child)
                stack.append(child)
    return inline & reached


def write(items: list[Any], prefixes: dict[str, str], relabel: Relabel) -> bytes:
    """Write triples as Turtle, or quads as TriG (named graphs in ``{ }`` blocks)."""
    by_graph: dict[Any, list[Any]] = defaultdict(list)
    graph_of: dict[Any, set[Any]] = defaultdict(set)
    for item in items:
        g = getattr(item, "graph_name", None)
        g = None if isinstance(g, ox.DefaultGraph) else g
        by_graph[g].append(item)
        for t in (item.subject, item.object):
            if isinstance(t, ox.BlankNode):
                graph_of[t].add(g)
    # TriG blank node labels are document-wide: a node in two graphs cannot be inlined.
    shared = {b for b, gs in graph_of.items() if len(gs) > 1}
    inline = set().union(*(_inlinable(ts, shared) for ts in by_graph.values()))
    labelled = (set(graph_of) - inline) | {g for g in by_graph if isinstance(g, ox.BlankNode)}
    rename = relabel(items, labelled)
    terms = _Terms(prefixes)
    sections = []
    for g in sorted(by_graph, key=lambda g: "" if g is None else str(rename.get(g, g))):
        triples = [_swap(t, rename) for t in by_graph[g]] if rename else by_graph[g]
        body = _write_graph(_Graph(triples, inline), terms)
        if g is None:
            sections.append(body)
            continue
        indented = "".join(f"{IND}{line}\n" if line else "\n" for line in body.splitlines())
        sections.append(f"{terms(rename.get(g, g))} {{\n{indented}}}\n")
    head = "".join(f"@prefix {p}: <{terms.prefixes[p]}> .\n" for p in sorted(terms.used))
    return (head + ("\n" if head and sections else "") + "\n".join(sections)).encode()


def _swap(t: Any, rename: dict[Any, Any]) -> ox.Triple:
    return ox.Triple(rename.get(t.subject, t.subject), t.predicate, rename.get(t.object, t.object))


def _write_graph(graph: _Graph, terms: _Terms) -> str:
    """Every subject block of one graph, in the order of the subjects' N-Triples forms."""

    def obj(o: Any, ind: str) -> str:
        if o not in graph.inline:
            return terms(o)
        items = graph.list_items(o)
        if items is not None:
            return "( " + " ".join(obj(i, ind) for i in items) + " )" if items else "()"
        return "[" + body(o, ind + IND, nested=True) + "]"

    def body(subject: Any, ind: str, nested: bool = False) -> str:
        parts = []
        props = graph.props.get(subject, {})
        for p in sorted(props, key=lambda p: (p.value != RDF_TYPE, p.value)):
            values = sorted(obj(o, ind) for o in props[p])
            parts.append(f"{'a' if p.value == RDF_TYPE else terms(p)} {', '.join(values)}")
        if not nested:
            return f" ;\n{ind}".join(parts)
        if len(parts) == 1 and "\n" not in parts[0]:
            return f" {parts[0]} "
        return f"\n{ind}" + f" ;\n{ind}".join(parts) + f"\n{ind[:-len(IND)]}"

    subjects = sorted((s for s in graph.props if s not in graph.inline), key=str)
    # A blank line between subjects, as in hand-written Turtle: diffs split at subjects.
    return "\n".join(f"{terms(s)} {body(s, IND)} .\n" for s in subjects)
