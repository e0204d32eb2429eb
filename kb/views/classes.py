"""A class and the classes below it, so that queries test types with a list, not a path.

``?x a ?t . ?t rdfs:subClassOf* C`` joined with other patterns loses rows on Virtuoso 7.2 (its
zero-or-more path bug); the same path asked alone answers right everywhere. So the closure is
read by itself, once per store generation where a memo exists, and the page's query tests
``?t`` against that list: the standard rewrite, and cheaper on every engine.
"""

from __future__ import annotations

from typing import Any

from kb.derived.memo import memo
from kb.terms import iri_ref

SUBCLASS = "http://www.w3.org/2000/01/rdf-schema#subClassOf"


def below(kb: Any, cls: str) -> list[str]:
    """``cls`` and every class below it by ``rdfs:subClassOf*``, sorted."""
    held = memo(kb, "classes-below")
    if held is not None and cls in held:
        return held[cls]
    rows = kb.query(f"SELECT DISTINCT ?c WHERE {{ ?c <{SUBCLASS}>* {iri_ref(cls)} }}").rows
    found = sorted({cls} | {str(r["c"]) for r in rows})
    if held is not None:
        held[cls] = found
    return found


def typed(kb: Any, var: str, cls: str, type_var: str = "?t") -> str:
    """A pattern for "``var`` has a type at or below ``cls``", with the classes listed."""
    return f"{var} a {type_var} . VALUES {type_var} {{ {' '.join(iri_ref(c) for c in below(kb, cls))} }}"
