"""The claims explorer: one row per claim with its sources, hedge and kind; facets over them.

The SPARQL is built from checked filter values only (IRIs through kb.terms.iri_ref, text as
an escaped literal); the same text is shown to the user as "the SPARQL that produced it".
Source chains are followed with fixed-length optional steps (at most ``CHAIN_HOPS``), so
the query never evaluates an unbounded property path.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from itertools import pairwise

from kb.derived.claimindex import CLAIM_KINDS, ROLE_PROPERTIES
from kb.errors import KBError
from kb.namespaces import CKB
from kb.terms import iri_ref

PROV = "http://www.w3.org/ns/prov#"
CHAIN_HOPS = 4  # upstream statements followed from a claim
MAX_ROWS = 5000  # claims one explorer view reads (facets count over these)
# Matching claims sorted by label; more are paged in the store's own order. Oxigraph sorts by
# decoding every term it compares (4.4 s for 32k claims at 1M, against 10 ms unsorted).
SORT_LIMIT = 2000
# The explorer's queries read the union of the KB's graphs, inferred one included (kb.query's
# default): leaving it out makes the engine evaluate over a list of graphs, 2.5-3.5x slower at
# 1M (8.9 s against 3.4 s to count the anonymous-only claims). The reasoner adds no chain
# links; a kind it infers shows among the claim's kinds, and the listing is by claim.
KINDS = {str(CKB) + kind: kind.lower() for kind in CLAIM_KINDS}
_KIND_IRIS = tuple(iri_ref(k) for k in KINDS)
ANONYMITY = ("anonymous", "named", "own voice")
FACETS = ("document", "via", "speaker", "anonymity", "hedge", "coding", "kind", "event", "actor")
FACET_TITLES = {"document": "Document or dataset", "via": "According to (the outlet cited)",
                "speaker": "First speaker", "anonymity": "Anonymity", "hedge": "Hedge",
                "coding": "Dataset coder's judgement", "kind": "Claim kind", "event": "Event type",
                "actor": "Actor"}
# Facets and filters whose values are IRIs (checked as such; shown by their labels).
IRI_FACETS = ("source", "via", "speaker", "event", "actor", "supports", "hedge", "coding", "document")


@dataclass
class Filters:
    """The explorer's filters, each already checked."""

    source: str = ""  # anywhere in the chain (the source pages link here)
    via: str = ""  # the outlet of the statement the claim itself derives from
    speaker: str = ""
    anonymity: str = ""
    hedge: str = ""  # a ckb:Hedge individual
    coding: str = ""  # a dataset coder's judgement (ckb:CodedClear, ckb:CodedUnclear)
    document: str = ""  # the quote's document, or the imported file the claim came in
    kind: str = ""
    event: str = ""
    actor: str = ""
    supports: str = ""
    q: str = ""

    def active(self) -> dict[str, str]:
        """The filters that are set, as name -> value."""
        return {k: v for k, v in vars(self).items() if v}


def check_filters(args: dict[str, str]) -> Filters:
    """Build Filters from request arguments; KBError (one line) for a bad value."""
    f = Filters()
    for name in IRI_FACETS:
        value = (args.get(name) or "").strip()
        if name == "hedge" and value and ":" not in value:
            # the hedge's word, as the vocabulary names it: "at least" -> ckb:AtLeast
            value = str(CKB) + "".join(w.capitalize() for w in value.split())
        if value:
            iri_ref(value)  # raises on anything that is not an IRI
            setattr(f, name, value)
    anonymity = (args.get("anonymity") or "").strip()
    if anonymity and anonymity not in ANONYMITY:
        raise KBError(f"anonymity must be one of {', '.join(ANONYMITY)}, not {anonymity!r}")
    kind = (args.get("kind") or "").strip()
    if kind and kind not in KINDS.values():
        raise KBError(f"kind must be one of {', '.join(KINDS.values())}, not {kind!r}")
    f.anonymity, f.kind = anonymity, kind
    f.q = (args.get("q") or "").strip()[:200]
    return f


def _literal(text: str) -> str:
    """A SPARQL string literal for any text (JSON escaping is valid SPARQL escaping)."""
    return json.dumps(text, ensure_ascii=True)


_SUB = "rdfs:subClassOf*"
# A dataset coder's judgement of its reports (UCDP's event_clarity) is stated with ckb:hedge,
# but it is not the source hedging its words: the explorer shows it as a facet of its own.
CODING = (str(CKB.CodedClear), str(CKB.CodedUnclear))
_CODING = ", ".join(iri_ref(c) for c in CODING)
# The outlets: media outlets (news agencies included) and unnamed groups of outlets.
OUTLET_CLASSES = (str(CKB.MediaOutlet), str(CKB.OutletGroup))
# How each facet binds ?v for a claim (the engine counts them with GROUP BY). Paths are spelt
# out as joins: the engine then starts from the claim (or from a filter's IRI) it already has.
# A filter puts its IRI in place of ?v, so no other variable here may start with "?v".
FACET_PATTERNS = {
    "via": "?claim prov:wasDerivedFrom|prov:wasQuotedFrom ?dst . ?dst prov:wasAttributedTo ?v . "
           f"?v a ?otype . ?otype {_SUB} ?ocls . "
           f"FILTER(?ocls IN ({', '.join(iri_ref(c) for c in OUTLET_CLASSES)}))",
    "speaker": "?claim prov:hadPrimarySource ?sst . ?sst prov:wasAttributedTo ?v .",
    "anonymity": "__ANONYMITY__ BIND(?anonymity AS ?v)",
    "hedge": f"?claim ckb:hedge ?v . FILTER(?v NOT IN ({_CODING}))",
    "coding": f"?claim ckb:hedge ?v . FILTER(?v IN ({_CODING}))",
    "kind": "BIND(?kindClass AS ?v)",
    # the most specific types only: a clash is not also counted as a violent event and an event
    "event": f"?claim ckb:supports ?ev . ?ev a ?v . ?v {_SUB} ckb:Event . "
             "FILTER NOT EXISTS { ?ev a ?sub . ?sub rdfs:subClassOf+ ?v . FILTER(?sub != ?v) }",
    # the actors a claim names, or that take a role in what it supports (by role property)
    # (FILTER IN, not VALUES: VALUES ?p made the engine scan every triple of those properties)
    "actor": "{ ?claim ckb:supports|ckb:about|ckb:mentions|ckb:characterises ?v . ?v a ?at . "
             f"?at {_SUB} ckb:Actor }} UNION {{ ?claim ckb:supports ?x . ?x ?p ?v . "
             f"FILTER(?p IN ({', '.join(ROLE_PROPERTIES)})) }}",
    # the imported file the claim came in with (a dataset), else the document of its quote
    "document": "{ GRAPH ?dg { ?claim a ?dk . ?v a ckb:ImportedFile } } UNION "
                "{ ?claim ckb:hasQuote ?dq . ?dq ckb:inDocument ?v . "
                "FILTER NOT EXISTS { GRAPH ?dg2 { ?claim a ?dk2 . ?df a ckb:ImportedFile } } }",
}
# Variables of the patterns above, renamed per filter so that a filter's join does not meet
# the facet's own.
_PATTERN_VARS = ("?dst", "?sst", "?ev", "?x", "?p", "?at", "?otype", "?ocls", "?sub",
                 "?dg", "?dk", "?dq", "?dg2", "?dk2", "?df")
# A claim is in the article's own voice without an upstream statement; anonymous when every
# primary source (prov:hadPrimarySource) is attributed to a ckb:UnnamedAgent. Counted with
# OPTIONAL + GROUP BY: the engine evaluates that per claim, where EXISTS was far slower. The
# counts are aggregated first and the IF reads them one level up: an IF over aggregates stops
# Virtuoso 7.2's compiler ("SQ156: Internal Optimized compiler error").
_COUNTS = "(COUNT(DISTINCT ?up) AS ?nup) (COUNT(DISTINCT ?ps) AS ?nps) (COUNT(DISTINCT ?unnamed) AS ?nun)"
_ANONYMITY_OF = 'IF(?nup = 0, "own voice", IF(?nps > 0 && ?nps = ?nun, "anonymous", "named"))'
_ANONYMITY = f"({_ANONYMITY_OF} AS ?anonymity)"
# The same rule as conditions on the counts, one per value (Virtuoso cannot filter on the IF).
_ANONYMITY_IS = {"own voice": "?nup = 0", "anonymous": "?nup > 0 && ?nps > 0 && ?nps = ?nun",
                 "named": "?nup > 0 && !(?nps > 0 && ?nps = ?nun)"}
PREFIXES = f"""PREFIX ckb: <{CKB}>
PREFIX prov: <{PROV}>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
"""


def _resting_on(agent: str, flat: bool = False) -> str:
    """The claims resting on ``agent``: from its statements downstream, 0..CHAIN_HOPS steps;
    ``flat``: the arms alone, not a SELECT DISTINCT of their own (see _bounded)."""
    ref, step = iri_ref(agent), "prov:wasDerivedFrom|prov:wasQuotedFrom|prov:hadPrimarySource"
    said = f"{{ ?s0 prov:wasAttributedTo {ref} }} UNION {{ ?s0 prov:qualifiedAttribution/prov:agent {ref} }}"
    arms = [f"{{ {said} BIND(?s0 AS ?claim) }}"]
    for n in range(1, CHAIN_HOPS + 1):
        hops = [f"?s{i}" for i in range(n)] + ["?claim"]
        arms.append(f"{{ {said} " + " ".join(f"{b} {step} {a} ." for a, b in pairwise(hops)) + " }")
    if flat:
        return "{ " + " UNION ".join(arms) + " }"
    return "{ SELECT DISTINCT ?claim WHERE { " + " UNION ".join(arms) + " } }"


def _selective(f: Filters) -> bool:
    """Whether a filter names an IRI the engine can start from."""
    return any((f.source, f.via, f.speaker, f.event, f.actor, f.supports))


def kind_in() -> str:
    """``?claim a ?kindClass`` tested with FILTER IN: the engine starts from what it already has."""
    return f"?claim a ?kindClass . FILTER(?kindClass IN ({', '.join(_KIND_IRIS)}))"


def _kind_pattern(f: Filters) -> str:
    """Bind ?kindClass to the claim's kind. VALUES makes the engine scan every claim of the four
    kinds (1.7 s at 1M), so when a filter names an IRI the kind is tested last with FILTER IN
    and the engine starts from that IRI instead (6 ms)."""
    if _selective(f):
        return kind_in()
    return f"?claim a ?kindClass . VALUES ?kindClass {{ {' '.join(_KIND_IRIS)} }}"


def where(f: Filters, bound: int | None = None, flat: bool = False) -> str:
    """The graph pattern shared by the listing and every facet: the claims matching ``f``,
    each with its ?kindClass (and ?anonymity when that is filtered on), from the data alone
    (the claim index is never in the queried dataset: kb.derived.claimindex); ``bound``: of
    the first that many claims the engine finds (matching ``f`` but for its anonymity)."""
    if bound is not None:
        return _bounded(f, bound)
    parts = []
    if f.source:
        parts.append(_resting_on(f.source, flat))
    if f.supports:
        parts.append(f"?claim ckb:supports {iri_ref(f.supports)} .")
    for name in ("via", "speaker", "event", "actor", "hedge", "coding", "document"):
        value = getattr(f, name)
        if value:
            # the checked IRI stands in for ?v, so the engine starts from it
            pattern = FACET_PATTERNS[name].replace("?v", iri_ref(value))
            for var in _PATTERN_VARS:
                pattern = pattern.replace(var + " ", f"?f_{name}_{var[1:]} ")
            parts.append(pattern)
    parts.append(_kind_pattern(f))
    if f.kind:
        kind_iri = next(k for k, v in KINDS.items() if v == f.kind)
        parts.append(f"FILTER(?kindClass = {iri_ref(kind_iri)})")
    if f.q:
        parts.append("?claim ckb:hasQuote ?fqn . ?fqn ckb:exact ?fq . "
                     f"FILTER(CONTAINS(LCASE(STR(?fq)), LCASE({_literal(f.q)})))")
    if f.anonymity:
        parts.append(anonymity_of_claims(f, only=f.anonymity))
    return "\n  ".join(parts)


def _bounded(f: Filters, bound: int) -> str:
    """``where(f)`` over at most ``bound`` claims: those the engine finds first matching ``f``
    but for its anonymity, which is then decided for them alone. A SPARQL server's KB without a
    current claim index reads this (kb.views.claimlist): the anonymity of every claim, grouped
    over the whole KB, took Oxigraph server 28 s at 1M and Virtuoso past 9 GB."""
    # The source's claims as a plain UNION: Virtuoso 7.2 ignores the LIMIT of a SELECT (nested or
    # not) whose pattern holds a SELECT DISTINCT subquery, and read every claim resting on it.
    base = where(Filters(**{**vars(f), "anonymity": ""}), flat=True)
    # the first claims (not pairs of a claim and a kind), their anonymity decided over them alone,
    # their kinds joined again beside
    some = f"{{ SELECT DISTINCT ?claim WHERE {{\n  {base}\n  }} LIMIT {int(bound)} }}"
    parts = [anonymity_of_claims(f, only=f.anonymity, bound=bound) if f.anonymity else some, kind_in()]
    if f.kind:
        parts.append(f"FILTER(?kindClass = {iri_ref(next(k for k, v in KINDS.items() if v == f.kind))})")
    return "\n  ".join(parts)


def anonymity_of_claims(f: Filters, only: str = "", bound: int | None = None) -> str:
    """Bind ?anonymity for each ?claim matching ``f`` but for its anonymity (grouped by claim);
    ``only``: keep the claims of that anonymity (filtered inside: Virtuoso 7.2 cannot compile the
    filter on the subquery's ?anonymity once it is joined with other patterns); ``bound``: of the
    first that many claims (see where)."""
    inner = where(Filters(**{**vars(f), "anonymity": ""}), bound).replace("?kindClass", "?kc2")
    keep = f" FILTER({_ANONYMITY_IS[only]})" if only else ""
    return f"""{{ SELECT ?claim {_ANONYMITY} WHERE {{ {{ SELECT ?claim {_COUNTS} WHERE {{
      {inner}
      OPTIONAL {{ ?claim prov:wasDerivedFrom|prov:wasQuotedFrom|prov:hadPrimarySource ?up }}
      OPTIONAL {{ ?claim prov:hadPrimarySource ?pst . ?pst prov:wasAttributedTo ?ps .
                 OPTIONAL {{ ?ps a ckb:UnnamedAgent . BIND(?ps AS ?unnamed) }} }}
    }} GROUP BY ?claim }}{keep} }} }}"""


def count_query(f: Filters, bound: int | None = None) -> str:
    """The SELECT counting the claims matching ``f`` (``bound``: among the first that many)."""
    return f"""{PREFIXES}SELECT (COUNT(DISTINCT ?claim) AS ?n) WHERE {{
  {where(f, bound)}
}}"""


def build_query(f: Filters, limit: int | None = None, offset: int = 0, sort: bool = True,
                claims: list[str] | None = None, bound: int | None = None) -> str:
    """The SELECT that lists the claims matching ``f``, one row per claim: the page of claims
    is chosen first (by label when ``sort``, else in the store's order; or given as
    ``claims``; ``bound``: among the first that many, see where), one row per claim however many
    kinds or labels it has, and their quotes, hedges, speakers and anonymity are fetched for
    that page only."""
    window = f" LIMIT {int(limit)} OFFSET {int(offset)}" if limit else ""
    # The label after the kind: Virtuoso 7.2 answers no rows for VALUES (or a subquery), an
    # OPTIONAL that matches nothing, then a pattern with FILTER IN (tests/test_remote_derived.py).
    label = ""
    if claims is not None:
        chosen = f"VALUES ?claim {{ {' '.join(iri_ref(c) for c in claims)} }}"
        label = "OPTIONAL { ?claim rdfs:label ?l }"
    elif sort:
        chosen = f"""{{ SELECT ?claim (MIN(STR(?l0)) AS ?l) WHERE {{
    {where(f, bound)}
    OPTIONAL {{ ?claim rdfs:label ?l0 }}
  }} GROUP BY ?claim ORDER BY ?l ?claim{window} }}"""
    else:
        chosen = f"""{{ SELECT DISTINCT ?claim WHERE {{
    {where(f, bound)}
  }}{window} }}"""
        label = "OPTIONAL { ?claim rdfs:label ?l }"
    # One quote per claim, the same on every engine: its IRI and words together (SAMPLE could
    # take the words of one quote and the IRI of another).
    columns = "?claim ?label ?quotePair ?document ?kinds ?hedges ?speakers"
    return f"""{PREFIXES}SELECT {columns} {_ANONYMITY} WHERE {{ {{
SELECT ?claim (MIN(STR(?l)) AS ?label) {_COUNTS}
       (MIN(CONCAT(STR(?qiri), " ", STR(?quoteText))) AS ?quotePair) (MIN(STR(?doc)) AS ?document)
       (GROUP_CONCAT(DISTINCT STR(?kindClass); separator=" ") AS ?kinds)
       (GROUP_CONCAT(DISTINCT STR(?h); separator="|") AS ?hedges)
       (GROUP_CONCAT(DISTINCT STR(?ps); separator=" ") AS ?speakers)
WHERE {{
  {chosen}
  {kind_in()}
  {label}
  OPTIONAL {{ ?claim ckb:hasQuote ?qiri . ?qiri ckb:exact ?quoteText .
             OPTIONAL {{ ?qiri ckb:inDocument ?doc }} }}
  OPTIONAL {{ ?claim ckb:hedge ?h }}
  OPTIONAL {{ ?claim prov:wasDerivedFrom|prov:wasQuotedFrom|prov:hadPrimarySource ?up }}
  OPTIONAL {{ ?claim prov:hadPrimarySource ?pst . ?pst prov:wasAttributedTo ?ps .
             OPTIONAL {{ ?ps a ckb:UnnamedAgent . BIND(?ps AS ?unnamed) }} }}
}}
GROUP BY ?claim }} }}
ORDER BY ?label ?claim"""
