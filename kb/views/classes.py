"""A class and the classes below it, so that queries test types with a list, not a path.

``?x a ?t . ?t rdfs:subClassOf* C`` joined with other patterns loses rows on Virtuoso 7.2 (its
zero-or-more path bug); the same path asked alone answers right everywhere. So the closure is
read by itself, once per store generation where a memo exists, and the page's query tests
``?t`` against that list: the standard rewrite, and cheaper on every engine.
"""

from __future__ import annotations

import re
from typing import Any

from kb.derived.memo import memo
from kb.namespaces import CKB
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


_TERM = r"(\?\w+|<[^<>\s]+>)"
_PATH = re.compile(_TERM + r" rdfs:subClassOf\* ckb:(\w+)( \.)?")
_ANY_OF = re.compile(_TERM + r" rdfs:subClassOf\* (\?\w+) \. FILTER\(\2 IN \(([^()]*)\)\)")
_STRICT = re.compile(_TERM + r" rdfs:subClassOf\+ " + _TERM + r"( \.)?")


def strictly_below(kb: Any, root: str) -> list[tuple[str, str]]:
    """Every (sub, super) pair with ``sub`` strictly below ``super``, ``super`` at or below ``root``."""
    held = memo(kb, "classes-strictly-below")
    if held is not None and root in held:
        return held[root]
    # One unjoined closure per class: Virtuoso refuses ``?sub rdfs:subClassOf+ ?sup`` with only
    # ?sup given ("transitive start not given").
    found = sorted({(sub, sup) for sup in below(kb, root) for sub in below(kb, sup) if sub != sup})
    if held is not None:
        held[root] = found
    return found


def listed(kb: Any, sparql: str) -> str:
    """The KB's own query text with each ``?t rdfs:subClassOf* ckb:C`` written as ``VALUES ?t {...}``.

    Only for query text the views write themselves (never a user's): the class lists come from
    the store, so the answers are the engine's own, on every engine.
    """
    def values(m: re.Match[str]) -> str:
        listed = " ".join(iri_ref(c) for c in below(kb, str(CKB[m.group(2)])))
        if m.group(1).startswith("<"):  # a filter's IRI in place of the variable: decided here
            return _holds(m.group(1), below(kb, str(CKB[m.group(2)])))
        return f"VALUES {m.group(1)} {{ {listed} }}"

    def any_of(m: re.Match[str]) -> str:
        # "at or below one of these classes": the classes below each, listed once
        tops = [t.strip()[1:-1] for t in m.group(3).split(",")]
        listed = sorted({c for top in tops for c in below(kb, top)})
        if m.group(1).startswith("<"):
            return _holds(m.group(1), listed)
        return f"VALUES {m.group(1)} {{ {' '.join(iri_ref(c) for c in listed)} }}"

    sparql = _ANY_OF.sub(any_of, sparql)
    roots = [str(CKB[m.group(2)]) for m in _PATH.finditer(sparql)]

    def pairs(m: re.Match[str]) -> str:
        # A strict path between two variables, within the hierarchies the query names above.
        found = sorted({p for root in roots for p in strictly_below(kb, root)})
        rows = " ".join(f"({iri_ref(a)} {iri_ref(b)})" for a, b in found)
        # The outer variable is compared, not bound by VALUES: Virtuoso refuses an outer
        # variable in a VALUES inside FILTER NOT EXISTS ("side effect var passed").
        sup = "?strict_sup"
        return f"VALUES ({m.group(1)} {sup}) {{ {rows} }} FILTER({sup} = {m.group(2)})"

    return _STRICT.sub(pairs, _PATH.sub(values, sparql)) if roots else _PATH.sub(values, sparql)


def _holds(ref: str, listed: list[str]) -> str:
    """Nothing when the IRI ``<...>`` is one of ``listed``, else a filter no solution passes."""
    return "" if ref[1:-1] in listed else "FILTER(false)"
