"""The claim index's rules: SPARQL CONSTRUCT rules stating, per claim, what the claims explorer
and the source pages ask (kb.derived.claimindex builds the index from them; kb.derived.remoteindex
runs them on a SPARQL server in chunks), and their fingerprint, which every index file carries.

Any change to PREFIXES or a rule's text changes RULES_VERSION, so every index built before it is
stale and rebuilt.
"""

from __future__ import annotations

import hashlib

from kb.namespaces import CKB

PREFIXES = f"""PREFIX ckb: <{CKB}>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
"""
# The kinds of claim (kb.views.claims names them) and the properties by which an actor takes a
# role in what a claim supports: shared with the explorer's queries, which must count alike.
CLAIM_KINDS = ("Report", "Assessment", "Forecast", "Characterisation")
ROLE_PROPERTIES = (
    *(f"ckb:{p}" for p in ("participant", "backer", "backedActor", "allyParty", "rivalParty", "part",
                           "whole", "leader", "ledActor", "loyalActor", "loyalToActor", "controller")),
    "<http://www.w3.org/ns/org#member>", "<http://www.w3.org/ns/org#organization>")
# The claims: tested after the rule's own pattern (FILTER IN; the engine plans a VALUES block
# joined to ?c a ?k as a scan of every claim first, which made the actors rule take minutes).
_KINDS = f"?c a ?k . FILTER(?k IN ({', '.join(f'ckb:{k}' for k in CLAIM_KINDS)}))"
_UPSTREAM = "prov:wasDerivedFrom|prov:wasQuotedFrom|prov:hadPrimarySource"
# As kb.views.claims: a dataset coder's judgements (not hedges), and the classes of outlets.
_CODING = "ckb:CodedClear, ckb:CodedUnclear"
_OUTLETS = "ckb:MediaOutlet, ckb:OutletGroup"
KINDS_PATTERN, OUTLETS = _KINDS, _OUTLETS  # for kb.derived.remoteindex, which runs the rules in chunks
# The rules, each a CONSTRUCT over the union of the store's graphs (inferred one included).
RULES: dict[str, str] = {
    "claimKind": f"CONSTRUCT {{ ?c ckb:claimKind ?k }} WHERE {{ {_KINDS} }}",
    "firstSpeaker": f"CONSTRUCT {{ ?c ckb:firstSpeaker ?a }} WHERE {{ "
                    f"?c prov:hadPrimarySource ?s . ?s prov:wasAttributedTo ?a . {_KINDS} }}",
    # the outlet cited: the statement the claim derives from is an outlet's (not a person's)
    "accordingTo": f"CONSTRUCT {{ ?c ckb:accordingTo ?a }} WHERE {{ "
                   f"?c prov:wasDerivedFrom|prov:wasQuotedFrom ?s . ?s prov:wasAttributedTo ?a . {_KINDS} "
                   f"?a a ?t . ?t rdfs:subClassOf* ?o . FILTER(?o IN ({_OUTLETS})) }}",
    # The claim itself (zero steps) or any statement upstream, attributed plainly or qualified.
    "restsOn": f"CONSTRUCT {{ ?c ckb:restsOn ?a }} WHERE {{ {_KINDS} ?c ({_UPSTREAM})* ?s . "
               "{ ?s prov:wasAttributedTo ?a } UNION { ?s prov:qualifiedAttribution/prov:agent ?a } }",
    # The claim's own attribution alone (restsOn's zero steps): a source page's own claims.
    "attributedTo": "CONSTRUCT { ?c ckb:attributedTo ?a } WHERE { { ?c prov:wasAttributedTo ?a } "
                    f"UNION {{ ?c prov:qualifiedAttribution/prov:agent ?a }} {_KINDS} }}",
    # the most specific classes below ckb:Event of what the claim supports (as kb.views.claims)
    "concernsEventType": f"CONSTRUCT {{ ?c ckb:concernsEventType ?t }} WHERE {{ "
                         f"?c ckb:supports ?ev . ?ev a ?t . ?t rdfs:subClassOf* ckb:Event . {_KINDS} "
                         "FILTER NOT EXISTS { ?ev a ?sub . ?sub rdfs:subClassOf+ ?t . FILTER(?sub != ?t) } }",
    # Two rules, not one UNION: joined to the kinds test, the UNION made the engine take minutes.
    "concernsActor": "CONSTRUCT { ?c ckb:concernsActor ?v } WHERE { "
                     "?c ckb:supports|ckb:about|ckb:mentions|ckb:characterises ?v . "
                     f"?v a ?at . ?at rdfs:subClassOf* ckb:Actor . {_KINDS} }}",
    "concernsActorByRole": "CONSTRUCT { ?c ckb:concernsActor ?v } WHERE { "
                           f"?c ckb:supports ?x . ?x ?p ?v . FILTER(?p IN ({', '.join(ROLE_PROPERTIES)})) "
                           f"{_KINDS} }}",
    # one vocabulary: the hedge individuals (the source's own words stay in ckb:hedgeText); a
    # dataset coder's judgement of its reports is not a hedge and is indexed apart
    "hedgedAs": f"CONSTRUCT {{ ?c ckb:hedgedAs ?h }} WHERE {{ ?c ckb:hedge ?h . {_KINDS} "
                f"FILTER(?h NOT IN ({_CODING})) }}",
    "coderJudged": f"CONSTRUCT {{ ?c ckb:coderJudged ?h }} WHERE {{ ?c ckb:hedge ?h . {_KINDS} "
                   f"FILTER(?h IN ({_CODING})) }}",
    # the imported file (a dataset) the claim came in with, else the document of its quote
    "fromDocument": "CONSTRUCT { ?c ckb:fromDocument ?d } WHERE { "
                    "{ GRAPH ?g { ?c a ?k0 . ?d a ckb:ImportedFile } } UNION "
                    "{ ?c ckb:hasQuote ?q . ?q ckb:inDocument ?d . "
                    "FILTER NOT EXISTS { GRAPH ?g2 { ?c a ?k2 . ?f a ckb:ImportedFile } } } "
                    f"{_KINDS} }}",
    "quoteText": "CONSTRUCT { ?c ckb:quoteText ?t } WHERE { "
                 f"?c ckb:hasQuote ?q . ?q ckb:exact ?t . {_KINDS} }}",
    # anonymous: every primary source is an unnamed agent; own voice: no upstream statement.
    "sourcing": f"""CONSTRUCT {{ ?c ckb:sourcing ?sourcing }} WHERE {{ {{
      SELECT ?c (IF(COUNT(?up) = 0, "own voice",
        IF(COUNT(DISTINCT ?ps) > 0 && COUNT(DISTINCT ?ps) = COUNT(DISTINCT ?unnamed),
           "anonymous", "named")) AS ?sourcing)
      WHERE {{ {_KINDS}
        OPTIONAL {{ ?c {_UPSTREAM} ?up }}
        OPTIONAL {{ ?c prov:hadPrimarySource ?pst . ?pst prov:wasAttributedTo ?ps .
                   OPTIONAL {{ ?ps a ckb:UnnamedAgent . BIND(?ps AS ?unnamed) }} }}
      }} GROUP BY ?c }} }}""",
}


# The rules' fingerprint, recorded with the index: an index built by other rules (an older
# release, before a rule was added) does not state what these views ask, so it is stale.
RULES_VERSION = hashlib.sha256("\n".join([PREFIXES, *(f"{k}: {v}" for k, v in RULES.items())])
                               .encode("utf-8")).hexdigest()[:16]


# Each explorer facet or filter, and the index property holding its values (kb.derived.bitmaps).
FACET_PROPERTIES = {"source": "restsOn", "via": "accordingTo", "speaker": "firstSpeaker",
                    "anonymity": "sourcing", "kind": "claimKind", "event": "concernsEventType",
                    "actor": "concernsActor", "hedge": "hedgedAs", "coding": "coderJudged",
                    "document": "fromDocument"}
# Every property the rules state: a graph holding only these is an index (see _forget_old_graph).
INDEX_PROPERTIES = frozenset(str(CKB) + p for p in [*FACET_PROPERTIES.values(), "attributedTo", "quoteText"])
