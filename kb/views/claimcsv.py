"""The claims explorer's CSV: one row per claim, every column in words (labels, not IRIs).

The engine writes it (the SELECT below, serialised as CSV), so a reader can run the same query
and get the same table; each IRI column has a label column's words, the claim keeps its IRI.
"""

from __future__ import annotations

from kb.terms import iri_ref
from kb.views.claims import _ANONYMITY, _COUNTS, CODING, FACET_PATTERNS, PREFIXES, Filters, kind_in, where

# The columns, in order, as the CSV's header names them.
COLUMNS = ("claim", "label", "kind", "anonymity", "hedge", "coder_judgement", "according_to",
           "first_speaker", "document", "quote")
_CODING = ", ".join(f"<{c}>" for c in CODING)


def _name(var: str) -> str:
    """``?var``'s English (or untagged) rdfs:label bound to ``?var_l``, else its local name."""
    return (f"OPTIONAL {{ {var} rdfs:label {var}_l0 . "
            f'FILTER(LANG({var}_l0) = "" || LANGMATCHES(LANG({var}_l0), "en")) }} '
            f'BIND(COALESCE({var}_l0, REPLACE(STR({var}), "^.*[/#]", "")) AS {var}_l)')


def _words(var: str, column: str, sep: str = "; ") -> str:
    """The distinct labels of ``?var`` joined into one cell named ``column``."""
    return f'(GROUP_CONCAT(DISTINCT STR({var}_l); separator="{sep}") AS ?{column})'


def csv_query(f: Filters, bound: int | None = None, claims: list[str] | None = None) -> str:
    """The SELECT whose CSV is the explorer's download for ``f``: the columns of COLUMNS;
    ``bound``: of the first that many claims (kb.views.claims.where); ``claims``: those alone."""
    outlet = FACET_PATTERNS["via"].replace("?v", "?outlet")
    document = FACET_PATTERNS["document"].replace("?v", "?docv")
    # Aggregates first, the anonymity IF one level up (as kb.views.claims.build_query: Virtuoso).
    rest = "?hedge ?coder_judgement ?according_to ?first_speaker ?document ?quote"
    # The label after the kind: Virtuoso 7.2 answers no rows for VALUES, an OPTIONAL that matches
    # nothing, then a pattern with FILTER IN (as kb.views.claims.build_query).
    chosen = (f"VALUES ?claim {{ {' '.join(iri_ref(c) for c in claims)} }}" if claims is not None
              else f"{{ SELECT DISTINCT ?claim WHERE {{\n    {where(f, bound)}\n  }} }}")
    return f"""{PREFIXES}SELECT ?claim ?label ?kind {_ANONYMITY} {rest} WHERE {{ {{
SELECT ?claim (MIN(STR(?l)) AS ?label) {_words("?kindClass", "kind")}
       {_COUNTS}
       {_words("?h", "hedge")} {_words("?coded", "coder_judgement")}
       {_words("?outlet", "according_to")} {_words("?ps", "first_speaker")}
       {_words("?docv", "document")} (MIN(STR(?quoteText)) AS ?quote)
WHERE {{
  {chosen}
  {kind_in()} {_name("?kindClass")}
  OPTIONAL {{ ?claim rdfs:label ?l }}
  OPTIONAL {{ ?claim ckb:hasQuote ?qiri . ?qiri ckb:exact ?quoteText }}
  OPTIONAL {{ ?claim ckb:hedge ?h . FILTER(?h NOT IN ({_CODING})) {_name("?h")} }}
  OPTIONAL {{ ?claim ckb:hedge ?coded . FILTER(?coded IN ({_CODING})) {_name("?coded")} }}
  OPTIONAL {{ {outlet} {_name("?outlet")} }}
  OPTIONAL {{ {document} {_name("?docv")} }}
  OPTIONAL {{ ?claim prov:wasDerivedFrom|prov:wasQuotedFrom|prov:hadPrimarySource ?up }}
  OPTIONAL {{ ?claim prov:hadPrimarySource ?pst . ?pst prov:wasAttributedTo ?ps . {_name("?ps")}
             OPTIONAL {{ ?ps a ckb:UnnamedAgent . BIND(?ps AS ?unnamed) }} }}
}}
GROUP BY ?claim }} }}
ORDER BY ?label ?claim"""
