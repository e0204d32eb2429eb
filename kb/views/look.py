"""One small lookup interface for the key-facts panels of events, places, sources and documents.

On the embedded store it is a kb.views.lookups.Reader (pattern lookups, no query text); on a
remote engine each lookup is one short bounded SELECT over checked IRIs, so the panels' code is
the same on both paths. Every lookup takes a cap: a page never reads more than it can show.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import pyoxigraph as ox

from kb.terms import iri_ref
from kb.views.lookups import RDF_TYPE, SUBCLASS, Reader, reader

CAP = 1000  # default cap of one lookup
PROV = "http://www.w3.org/ns/prov#"


class Look:
    """Bounded lookups by IRI: objects (IRIs or literal values), subjects, types, subclasses."""

    def __init__(self, kb: Any, r: Reader | None) -> None:
        self.kb, self.r = kb, r
        self._classes: dict[str, frozenset[str]] = {}

    def _objects(self, s: str, p: str, limit: int) -> list[Any]:
        if self.r is not None:
            return [q.object for q in self.r.quads(s, p, None, inferred=False, limit=limit)[0]]
        # LIMIT in the text too: a server otherwise sends every row for the client to cut
        rows = self.kb.query(f"SELECT DISTINCT ?o WHERE {{ {iri_ref(s)} {iri_ref(p)} ?o }} LIMIT {limit + 1}",
                             limit=limit, inferred=False).rows
        return [r["o"] for r in rows]

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
        else:
            result = self.kb.query(f"SELECT DISTINCT ?s WHERE {{ ?s {iri_ref(p)} {iri_ref(o)} }} "
                                   f"LIMIT {limit + 1}", limit=limit, inferred=False)
            found, cut = [str(r["s"]) for r in result.rows if _is_iri(r["s"])], bool(result.truncated)
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
                rows = self.kb.query(f"SELECT DISTINCT ?c WHERE {{ ?c <{SUBCLASS}>* {iri_ref(cls)} }}",
                                     inferred=False).rows
                self._classes[cls] = frozenset({cls} | {str(r["c"]) for r in rows})
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


def _is_iri(term: Any) -> bool:
    return type(term).__name__ == "URIRef"


def _is_literal(term: Any) -> bool:
    return type(term).__name__ == "Literal"


@contextmanager
def looking(kb: Any) -> Iterator[Look]:
    """A Look over the KB: pattern lookups on the embedded store, else short queries."""
    with reader(kb) as r:
        yield Look(kb, r)
