"""Label search (ranked) and resolving IRIs, prefixed names or labels to entities."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from rdflib import Literal

from kb.errors import KBError, NotFound
from kb.namespaces import CKB, GRAPH_SHAPES, PREFIXES
from kb.terms import IRI_PATTERN, iri_ref
from kb.views.browse import (
    PNAME_PATTERN,
    RDFS_LABEL,
    SKOS_ALT,
    SKOS_PREF,
    Labelled,
    describe_exists,
    labels,
    types_of,
    values_block,
)


@dataclass(frozen=True)
class SearchHit:
    """One search result, ranked: exact > prefix > word > substring."""

    iri: str
    label: str  # the entity's display label
    matched: str  # the label or alias that matched
    match: str  # "exact", "prefix", "word" or "substring"
    field: str  # "label", "prefLabel" or "altLabel"
    types: tuple[Labelled, ...] = ()


_FIELDS = {RDFS_LABEL: "label", SKOS_PREF: "prefLabel", SKOS_ALT: "altLabel"}
_MATCHES = ("exact", "prefix", "word", "substring")
_CANDIDATES = 300  # best label matches ranked by kind of entity
_ORDER = (str(CKB.Actor), str(CKB.Event), str(CKB.Claim))


def _category(iri: str, types: list[str]) -> int:
    """0 actors, 1 events, 2 claims, 3 anything else in the data, 4 ontology terms."""
    if iri.startswith(str(CKB)):
        return 4
    for rank, cls in enumerate(_ORDER):
        if cls in types:
            return rank
    return 3


def _match_kind(text: str, needle: str) -> int:
    if text == needle:
        return 0
    if text.startswith(needle):
        return 1
    if re.search(r"(?<!\w)" + re.escape(needle), text):
        return 2
    return 3


def search(kb: Any, text: str, limit: int = 20) -> list[SearchHit]:
    """Find entities whose label or alias contains ``text`` (case-insensitive), best first."""
    needle = " ".join(str(text).split()).lower()
    if not needle:
        return []
    lit = Literal(needle).n3()
    # Exact and prefix matches sort first in SPARQL, so the row cap can only cut weak ones.
    result = kb.query(
        f"SELECT ?s ?p ?l WHERE {{ VALUES ?p {{ {values_block(_FIELDS)} }} GRAPH ?g {{ ?s ?p ?l }} "
        f"FILTER(isIRI(?s) && isLiteral(?l) && ?g != {iri_ref(GRAPH_SHAPES)}) "
        f"BIND(LCASE(STR(?l)) AS ?lc) FILTER(CONTAINS(?lc, {lit})) "
        f"BIND(IF(?lc = {lit}, 0, IF(STRSTARTS(?lc, {lit}), 1, 2)) AS ?rank) "
        f"}} ORDER BY ?rank STRLEN(?lc) ?s",
        limit=5000,
    )
    best: dict[str, tuple[int, int, int, str, str, str]] = {}
    for row in result.rows:
        iri, prop, matched = str(row["s"]), str(row["p"]), str(row["l"])
        kind = _match_kind(" ".join(matched.split()).lower(), needle)
        key = (kind, 1 if prop == SKOS_ALT else 0, len(matched), matched.lower(), prop, matched)
        if iri not in best or key < best[iri]:
            best[iri] = key
    # The best-matching candidates, then by what they are: actors, events, claims, the rest,
    # ontology terms last (a reader looks for the Republican Guard, not the class Report).
    candidates = sorted(best.items(), key=lambda item: (item[1], item[0]))[:_CANDIDATES]
    types = types_of(kb, [iri for iri, _ in candidates])
    ranked = sorted(candidates, key=lambda item: (_category(item[0], types.get(item[0], [])),
                                                  item[1], item[0]))[: max(limit, 0)]
    iris = [iri for iri, _ in ranked]
    names = labels(kb, [*iris, *(t for ts in types.values() for t in ts)])
    return [
        SearchHit(iri, names[iri], key[5], _MATCHES[key[0]], _FIELDS[key[4]],
                  tuple(Labelled(t, names[t]) for t in types.get(iri, [])))
        for iri, key in ranked
    ]


def resolve(kb: Any, iri_or_label: str) -> str:
    """Turn an IRI, a prefixed name (ckbr:x) or an exact label/alias into a known IRI."""
    text = str(iri_or_label).strip()
    if text.startswith("<") and text.endswith(">"):
        text = text[1:-1]
    if not text:
        raise KBError("nothing to resolve: give an IRI, a prefixed name or a label")
    pname = PNAME_PATTERN.fullmatch(text)
    if pname and (pname.group(1) or "") in PREFIXES and "//" not in text:
        text = PREFIXES[pname.group(1) or ""] + pname.group(2)
    if IRI_PATTERN.fullmatch(text):
        try:
            describe_exists(kb, text)
            return text
        except NotFound:
            if "/" in text or text.lower().startswith("urn:"):
                raise
            # "word:word" without a slash may be a label that contains a colon: search it.
    hits = search(kb, text, limit=50)
    exact = [h for h in hits if h.match == "exact"]
    if len({h.iri for h in exact}) == 1:
        return exact[0].iri
    if exact:
        preferred = [h for h in exact if h.field != "altLabel"]
        if len(preferred) == 1:
            return preferred[0].iri
        shown = ", ".join(f"{h.label} <{h.iri}>" for h in exact[:5])
        raise KBError(f"{text!r} is ambiguous: it names {shown}; give the IRI instead")
    if hits:
        shown = ", ".join(h.label for h in hits[:5])
        raise NotFound(f"no entity is labelled {text!r}; did you mean: {shown}?")
    raise NotFound(f"no entity is labelled {text!r} and no label contains it")
