"""Key facts about an actor: its relations grouped by meaning, each with time, hedge and sources.

Facts are read from the relation nodes of the ontology (ckb:Backing, ckb:Alliance, ...),
which carry their time bounds and the claims that support them, and from the violent
events the actor took part in. Every lookup is a pattern bound to the entity or to a
VALUES block; the source chains come from the bounded walk in kb.chains.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from kb.browse import labels, values_block
from kb.chains import source_chains
from kb.namespaces import CKB
from kb.terms import iri_ref

ORG = "http://www.w3.org/ns/org#"
RDFS_SUB = "http://www.w3.org/2000/01/rdf-schema#subClassOf"
# (group key, the entity's role property, the other end's property, heading)
ROLES = (
    ("backs", str(CKB.backer), str(CKB.backedActor), "Backs"),
    ("backed-by", str(CKB.backedActor), str(CKB.backer), "Backed by"),
    ("allied", str(CKB.allyParty), str(CKB.allyParty), "Allied with"),
    ("rival", str(CKB.rivalParty), str(CKB.rivalParty), "Rival of"),
    ("member-of", ORG + "member", ORG + "organization", "Member of"),
    ("members", ORG + "organization", ORG + "member", "Members"),
    ("unit-of", str(CKB.part), str(CKB.whole), "Unit of"),
    ("units", str(CKB.whole), str(CKB.part), "Units"),
    ("leads", str(CKB.leader), str(CKB.ledActor), "Leads"),
    ("led-by", str(CKB.ledActor), str(CKB.leader), "Led by"),
    ("loyal-to", str(CKB.loyalActor), str(CKB.loyalToActor), "Loyal to"),
    ("loyal-from", str(CKB.loyalToActor), str(CKB.loyalActor), "Has the loyalty of"),
    ("controls", str(CKB.controller), str(CKB.controlledPlace), "Controls"),
)
HEADINGS = {key: heading for key, _m, _o, heading in ROLES} | {"fought": "Fought with or against"}
# Ally and rival are shown side by side when both hold for the same counterpart.
TENSE = ("allied", "rival")
MAX_FACTS = 300  # relation nodes per entity page


@dataclass
class Fact:
    """One relation of the entity to another, with what the sources say about it."""

    group: str
    relation: str  # the relation node or event IRI
    relation_label: str
    other: str
    other_label: str
    detail: str = ""  # kind of support, roles in an event
    time_text: str = ""
    claims: list[str] = field(default_factory=list)
    hedges: list[str] = field(default_factory=list)
    outlets: list[tuple[str, str]] = field(default_factory=list)
    anonymous_only: bool = False  # every claim behind it rests only on unnamed sources
    own_voice_only: bool = False  # every claim behind it is the article's own voice
    tension: list[str] = field(default_factory=list)  # other groups holding the same counterpart


@dataclass
class KeyFacts:
    """The key-facts panel: facts grouped by meaning, in a fixed order."""

    groups: list[tuple[str, str, list[Fact]]]  # (key, heading, facts)
    truncated: bool = False


def key_facts(kb: Any, iri: str) -> KeyFacts:
    """Gather the entity's relations and fights, each with time, hedge and sources."""
    ref = iri_ref(iri)
    rows_spec = " ".join(f'("{k}" {iri_ref(m)} {iri_ref(o)})' for k, m, o, _h in ROLES)
    result = kb.query(f"""SELECT DISTINCT ?key ?rel ?other ?kind ?time ?from WHERE {{
      VALUES (?key ?mine ?theirs) {{ {rows_spec} }}
      ?rel ?mine {ref} . ?rel ?theirs ?other . FILTER(?other != {ref})
      OPTIONAL {{ ?rel <{CKB.supportKind}> ?kind }}
      OPTIONAL {{ ?rel <{CKB.timeText}> ?time }}
      OPTIONAL {{ ?rel <{CKB.earliestDate}> ?from }} }}""", limit=MAX_FACTS, inferred=False)
    facts: dict[tuple[str, str, str], Fact] = {}
    kinds: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    for row in result.rows:
        key = (str(row["key"]), str(row["rel"]), str(row["other"]))
        fact = facts.setdefault(key, Fact(*key[:2], "", key[2], ""))
        if row.get("kind") is not None:
            kinds[key].add(str(row["kind"]))
        if row.get("time") is not None:
            fact.time_text = str(row["time"])
        elif row.get("from") is not None and not fact.time_text:
            fact.time_text = f"since {row['from']}"
    fought = _fights(kb, iri)
    truncated = bool(result.truncated)
    names = labels(kb, {f.relation for f in facts.values()} | {f.other for f in facts.values()}
                   | {k for ks in kinds.values() for k in ks} | {
                       x for f in fought for x in (f.relation, f.other)})
    for key, fact in facts.items():
        fact.relation_label, fact.other_label = names[fact.relation], names[fact.other]
        fact.detail = ", ".join(sorted(names[k] for k in kinds[key]))
    for fact in fought:
        fact.relation_label, fact.other_label = names[fact.relation], names[fact.other]
    every = [*facts.values(), *fought]
    _add_sources(kb, every)
    _mark_tension(every)
    grouped: dict[str, list[Fact]] = defaultdict(list)
    for fact in every:
        grouped[fact.group].append(fact)
    order = [k for k, *_ in ROLES] + ["fought"]
    return KeyFacts([(k, HEADINGS[k], sorted(grouped[k], key=lambda f: (
        f.other_label.lower(), f.relation))) for k in order if grouped.get(k)], truncated)


def _fights(kb: Any, iri: str) -> list[Fact]:
    """The other sides of the violent events (ckb:ViolentEvent) the entity took part in."""
    ref = iri_ref(iri)
    rows = kb.query(f"""SELECT DISTINCT ?ev ?other ?myRole ?theirRole ?time WHERE {{
      ?ev <{CKB.hasParticipation}> ?mp . ?mp <{CKB.participationActor}> {ref} .
      ?ev a ?t . ?t <{RDFS_SUB}>* <{CKB.ViolentEvent}> .
      ?ev <{CKB.hasParticipation}> ?op . ?op <{CKB.participationActor}> ?other .
      FILTER(?other != {ref})
      OPTIONAL {{ ?mp <{CKB.participantRole}> ?myRole }}
      OPTIONAL {{ ?op <{CKB.participantRole}> ?theirRole }}
      OPTIONAL {{ ?ev <{CKB.timeText}> ?time }} }}""", limit=MAX_FACTS, inferred=False).rows
    roles = labels(kb, {str(r[v]) for r in rows for v in ("myRole", "theirRole")
                        if r.get(v) is not None})
    out: dict[tuple[str, str], Fact] = {}
    for r in rows:
        fact = out.setdefault((str(r["ev"]), str(r["other"])), Fact(
            "fought", str(r["ev"]), "", str(r["other"]), ""))
        if r.get("myRole") is not None and r.get("theirRole") is not None:
            fact.detail = f"{roles[str(r['myRole'])]} against {roles[str(r['theirRole'])]}"
        if r.get("time") is not None:
            fact.time_text = str(r["time"])
    return list(out.values())


def _add_sources(kb: Any, facts: list[Fact]) -> None:
    """Fill in each fact's claims, hedges, outlets and anonymous/own-voice markers."""
    relations = sorted({f.relation for f in facts})
    if not relations:
        return
    claims_of: dict[str, list[str]] = defaultdict(list)
    hedges_of: dict[str, set[str]] = defaultdict(set)
    for start in range(0, len(relations), 300):
        part = relations[start:start + 300]
        rows = kb.query(f"""SELECT ?rel ?claim ?h ?hk WHERE {{
          VALUES ?rel {{ {values_block(part)} }} ?claim <{CKB.supports}> ?rel .
          OPTIONAL {{ ?claim <{CKB.hedgeText}> ?h }} OPTIONAL {{ ?claim <{CKB.hedge}> ?hk }} }}""",
                        inferred=False).rows
        for r in rows:
            if str(r["claim"]) not in claims_of[str(r["rel"])]:
                claims_of[str(r["rel"])].append(str(r["claim"]))
            if r.get("h") is not None:
                hedges_of[str(r["claim"])].add(str(r["h"]))
            elif r.get("hk") is not None:
                hedges_of[str(r["claim"])].add(str(r["hk"]))
    every_claim = sorted({c for cs in claims_of.values() for c in cs})
    chains = source_chains(kb, every_claim)
    hedge_names = labels(kb, {h for hs in hedges_of.values() for h in hs if h.startswith("http")})
    for fact in facts:
        fact.claims = sorted(claims_of.get(fact.relation, []))
        mine = [chains[c] for c in fact.claims if c in chains]
        fact.hedges = sorted({hedge_names.get(h, h) for c in fact.claims for h in hedges_of[c]})
        for chain in mine:
            for outlet in chain.outlets:
                if outlet not in fact.outlets:
                    fact.outlets.append(outlet)
        fact.anonymous_only = bool(mine) and all(ch.anonymous_only for ch in mine)
        fact.own_voice_only = bool(mine) and all(ch.own_voice and not ch.lines for ch in mine)


def _mark_tension(facts: list[Fact]) -> None:
    """Note, on ally and rival facts, when the same counterpart is on the other list too."""
    held: dict[str, set[str]] = defaultdict(set)
    for fact in facts:
        if fact.group in TENSE:
            held[fact.other].add(fact.group)
    for fact in facts:
        if fact.group in TENSE and len(held[fact.other]) > 1:
            fact.tension = sorted(HEADINGS[g].lower() for g in held[fact.other] - {fact.group})
