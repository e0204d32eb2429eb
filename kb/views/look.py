"""One small lookup interface for the key-facts panels of events, places, sources and documents.

On the embedded store it is a kb.views.lookups.Reader (pattern lookups, no query text); on a
remote engine each lookup is one short bounded SELECT over checked IRIs, so the panels' code is
the same on both paths. Every lookup takes a cap: a page never reads more than it can show.

A round trip to a server costs milliseconds, a lookup on disk microseconds: before a loop, a
panel says what it will look up (``ahead``: properties of many subjects; ``behind``: subjects
of many objects), and on a remote engine that is read in one query per chunk and kept here, so
the loop's lookups are answered without a round trip each (on the embedded store they are
no-ops). Single lookups are kept too: a panel asking the same twice asks the server once.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import pyoxigraph as ox

from kb.derived.memo import memo, page_memo
from kb.terms import iri_ref
from kb.views.lookups import RDF_TYPE, SUBCLASS, Reader, reader

CAP = 1000  # default cap of one lookup
PROV = "http://www.w3.org/ns/prov#"
CHUNK = 300  # IRIs per VALUES block of a batched read
BATCH_ROWS = 20_000  # rows one batched read may bring; past it the lookups go one by one


class Look:
    """Bounded lookups by IRI: objects (IRIs or literal values), subjects, types, subclasses."""

    def __init__(self, kb: Any, r: Reader | None) -> None:
        self.kb, self.r = kb, r
        self._classes: dict[str, frozenset[str]] = {}
        # remote only: (s, p) -> every distinct object; (p, o) -> every distinct subject
        self._out: dict[tuple[str, str], list[Any]] = {}
        self._in: dict[tuple[str, str], list[Any]] = {}
        # remote only: single lookups as asked, (s, p, limit) / (p, o, limit) -> answer
        self._asked: dict[tuple[str, str, str, int], Any] = {}

    def ahead(self, subjects: Iterable[str], props: Iterable[str]) -> None:
        """Read ``?s p ?o`` for every subject and property now, in one query per chunk of
        subjects, for the lookups that follow (a remote engine only)."""
        self._batch("s", subjects, props, self._out)

    def behind(self, props: Iterable[str], objects: Iterable[str]) -> None:
        """Read ``?s p <o>`` for every property and object now, in one query per chunk of
        objects, for the lookups that follow (a remote engine only). For links with few
        subjects per object (a participation's event, a statement's quoters)."""
        self._batch("o", objects, props, self._in)

    def _batch(self, end: str, nodes: Iterable[str], props: Iterable[str],
               into: dict[tuple[str, str], list[Any]]) -> None:
        """Read the triples whose ``end`` ("s" or "o") is one of ``nodes`` and whose property is
        one of ``props`` into ``into``, keyed (subject, p) or (p, object) as the lookups ask."""
        if self.r is not None:
            return
        other = "o" if end == "s" else "s"

        def key(node: str, prop: str) -> tuple[str, str]:
            return (node, prop) if end == "s" else (prop, node)

        props = list(dict.fromkeys(props))
        todo = sorted({n for n in nodes if any(key(n, p) not in into for p in props)})
        listed = ", ".join(iri_ref(p) for p in props)
        for start in range(0, len(todo), CHUNK):
            part = todo[start:start + CHUNK]
            # FILTER IN, not a VALUES of properties nor a UNION of one branch per property beside
            # the VALUES: either risks a plan that reads every triple of each property first
            # (kb.views.chains._listed, and as chains walks downstream)
            result = self.kb.query(
                f"SELECT ?s ?p ?o WHERE {{ VALUES ?{end} {{ {' '.join(iri_ref(x) for x in part)} }} "
                f"?s ?p ?o FILTER(?p IN ({listed})) }} LIMIT {BATCH_ROWS + 1}",
                limit=BATCH_ROWS, inferred=False)
            if result.truncated:
                continue  # too much to keep: these lookups go one by one
            got: dict[tuple[str, str], dict[Any, None]] = {key(x, p): {} for x in part for p in props}
            for row in result.rows:
                got[key(str(row[end]), str(row["p"]))][row[other]] = None
            into.update({k: list(found) for k, found in got.items()})

    def _objects(self, s: str, p: str, limit: int) -> list[Any]:
        if self.r is not None:
            return [q.object for q in self.r.quads(s, p, None, inferred=False, limit=limit)[0]]
        if (s, p) in self._out:
            return self._out[(s, p)][:limit]
        asked = ("out", s, p, limit)
        if asked not in self._asked:
            # LIMIT in the text too: a server otherwise sends every row for the client to cut
            self._asked[asked] = [r["o"] for r in self.kb.query(
                f"SELECT DISTINCT ?o WHERE {{ {iri_ref(s)} {iri_ref(p)} ?o }} LIMIT {limit + 1}",
                limit=limit, inferred=False).rows]
        return self._asked[asked]

    def iris(self, s: str, p: str, limit: int = CAP) -> list[str]:
        """The IRI objects of ``s p ?o``, at most ``limit``."""
        return list(dict.fromkeys(
            o.value if isinstance(o, ox.NamedNode) else str(o) for o in self._objects(s, p, limit)
            if isinstance(o, ox.NamedNode) or (self.r is None and _is_iri(o))))

    def values(self, s: str, p: str, limit: int = CAP) -> list[str]:
        """The lexical forms of the literal objects of ``s p ?o``, at most ``limit``."""
        return list(dict.fromkeys(
            o.value if isinstance(o, ox.Literal) else str(o) for o in self._objects(s, p, limit)
            if isinstance(o, ox.Literal) or (self.r is None and not _is_iri(o) and _is_literal(o))))

    def first(self, s: str, p: str) -> str | None:
        """One literal value of ``s p ?o`` (the smallest, so pages are stable), or None."""
        found = self.values(s, p, 20)
        return min(found) if found else None

    def subjects(self, p: str, o: str, limit: int = CAP) -> tuple[list[str], bool]:
        """The IRI subjects of ``?s p <o>``, at most ``limit``; and whether the cap cut them."""
        if self.r is not None:
            quads, cut = self.r.quads(None, p, o, inferred=False, limit=limit)
            found = [q.subject.value for q in quads if isinstance(q.subject, ox.NamedNode)]
        elif (p, o) in self._in:
            every = self._in[(p, o)]
            found, cut = [str(x) for x in every[:limit] if _is_iri(x)], len(every) > limit
        else:
            asked = ("in", p, o, limit)
            if asked not in self._asked:
                result = self.kb.query(f"SELECT DISTINCT ?s WHERE {{ ?s {iri_ref(p)} {iri_ref(o)} }} "
                                       f"LIMIT {limit + 1}", limit=limit, inferred=False)
                self._asked[asked] = ([str(r["s"]) for r in result.rows if _is_iri(r["s"])],
                                      bool(result.truncated))
            found, cut = self._asked[asked]
        return list(dict.fromkeys(found)), cut

    def attributed(self, agent: str, limit: int) -> tuple[list[str], bool]:
        """Statements attributed to ``agent``, plainly or by a qualified attribution (a blank
        node, which ``subjects`` does not follow); and whether ``limit`` cut them."""
        direct, cut = self.subjects(PROV + "wasAttributedTo", agent, limit)
        if self.r is not None:
            nodes = [q.subject for q in self.r.quads(None, PROV + "agent", agent, inferred=False,
                                                      limit=limit)[0]]
            qualified = [q.subject.value for n in nodes for q in self.r.store.quads_for_pattern(
                None, ox.NamedNode(PROV + "qualifiedAttribution"), n, None)
                if isinstance(q.subject, ox.NamedNode) and self.r._ok(q.graph_name, True, False)]
        else:
            result = self.kb.query(f"""SELECT DISTINCT ?s WHERE {{ ?s <{PROV}qualifiedAttribution> ?q .
              ?q <{PROV}agent> {iri_ref(agent)} }} LIMIT {limit + 1}""", limit=limit, inferred=False)
            qualified, cut = [str(r["s"]) for r in result.rows], cut or bool(result.truncated)
        return list(dict.fromkeys(direct + qualified)), cut

    def subclasses(self, cls: str) -> frozenset[str]:
        """``cls`` and every class below it (asserted subclass links, followed breadth-first)."""
        if cls not in self._classes:
            if self.r is not None:
                self._classes[cls] = self.r.subclasses(cls, inferred=False)
            else:
                self._classes[cls] = asserted_below(self.kb, cls)
        return self._classes[cls]

    def types(self, s: str) -> list[str]:
        """The asserted types of ``s``."""
        return self.iris(s, RDF_TYPE, 50)

    def is_a(self, s: str, cls: str) -> bool:
        """Whether ``s`` has an asserted type at or below ``cls``."""
        return bool(self.subclasses(cls) & set(self.types(s)))

    def first_of(self, iris: Iterable[str], cls: str) -> bool:
        """Whether any of ``iris`` (type IRIs) is ``cls`` or below it."""
        return bool(self.subclasses(cls) & set(iris))


def asserted_below(kb: Any, cls: str) -> frozenset[str]:
    """``cls`` and every class below it by asserted ``rdfs:subClassOf*`` links, asked of the
    engine; kept per registry state with the class lists where a memo exists (kb.views.classes):
    a page asks for the same few classes in every panel."""
    held = memo(kb, "classes-below")
    key = "asserted " + cls  # beside classes.below's entries, which read inferred links too
    if held is not None and key in held:
        return held[key]
    rows = kb.query(f"SELECT DISTINCT ?c WHERE {{ ?c <{SUBCLASS}>* {iri_ref(cls)} }}", inferred=False).rows
    found = frozenset({cls} | {str(r["c"]) for r in rows})
    if held is not None:
        held[key] = found
    return found


def _is_iri(term: Any) -> bool:
    return type(term).__name__ == "URIRef"


def _is_literal(term: Any) -> bool:
    return type(term).__name__ == "Literal"


@contextmanager
def looking(kb: Any) -> Iterator[Look]:
    """A Look over the KB: pattern lookups on the embedded store, else short queries."""
    with reader(kb) as r:
        # on a server, the panels of one page (kb.derived.memo.one_page) share one Look: what
        # one read, the next does not ask for again (the embedded Reader holds the read lock)
        shared = page_memo("looks") if r is None else None
        if shared is None:
            yield Look(kb, r)
        else:
            yield shared.setdefault(str(id(kb)), Look(kb, None))
