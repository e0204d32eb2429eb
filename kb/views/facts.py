"""Key facts about an actor: its relations grouped by meaning, each with time, hedge and sources.

Facts are read from the relation nodes of the ontology (ckb:Backing, ckb:Alliance, ...),
which carry their time bounds and the claims that support them, and from the violent
events the actor took part in. Every lookup is a pattern bound to the entity or to a
VALUES block; the source chains come from the bounded walk in kb.views.chains.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from kb.namespaces import CKB
from kb.terms import iri_ref
from kb.views import factrows
from kb.views.browse import labels, values_block
from kb.views.chains import source_chains
from kb.views.claims import CODING
from kb.views.lookups import reader
from kb.views.sides import engagements
from kb.views.through import GROUPS as EVENT_ROLE_GROUPS
from kb.views.through import HEADINGS as EVENT_ROLE_HEADINGS
from kb.views.through import reached

ORG = "http://www.w3.org/ns/org#"
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
HEADINGS = {key: heading for key, _m, _o, heading in ROLES} | {
    "fought": "Fought against", "through": "Fought through the side it backs",
    "attacked": "Attacked", "attacked-by": "Attacked by"} | EVENT_ROLE_HEADINGS
FIGHT_GROUPS = ("fought", "through", "attacked", "attacked-by")  # facts that are events
EVENT_GROUPS = FIGHT_GROUPS + EVENT_ROLE_GROUPS  # shown with the event they happened in
# Ally and rival are shown side by side when both hold for the same counterpart.
TENSE = ("allied", "rival")
MAX_FACTS = 300  # relation nodes per entity page
PER_GROUP = 12  # facts shown per group; the rest are counted ("and 40 more")


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
    sources: list[str] = field(default_factory=list)  # every agent in the chains behind it
    subject: str = ""  # in the actor graph: the edge's source end (the entity on a page)
    subject_label: str = ""


@dataclass
class KeyFacts:
    """The key-facts panel: facts grouped by meaning, in a fixed order."""

    groups: list[tuple[str, str, list[Fact]]]  # (key, heading, facts)
    truncated: bool = False
    more: dict[str, int] = field(default_factory=dict)  # group -> facts not shown


def key_facts(kb: Any, iri: str) -> KeyFacts:
    """Gather the entity's relations and fights, each with time, hedge and sources."""
    ref = iri_ref(iri)
    # the groups by number: a key in the text ("loyal-from") would have the server client parse
    # it for FROM clauses (kb.store.protocol.own_dataset)
    rows_spec = " ".join(f'({n} {iri_ref(m)} {iri_ref(o)})' for n, (_k, m, o, _h) in enumerate(ROLES))
    with reader(kb) as r:
        if r is not None:
            rows, truncated = factrows.relation_rows(r, iri, [x[:3] for x in ROLES], MAX_FACTS)
        else:
            result = kb.query(f"""SELECT DISTINCT ?key ?rel ?other ?kind ?time ?from WHERE {{
              VALUES (?key ?mine ?theirs) {{ {rows_spec} }}
              ?rel ?mine {ref} . ?rel ?theirs ?other . FILTER(?other != {ref})
              OPTIONAL {{ ?rel <{CKB.supportKind}> ?kind }}
              OPTIONAL {{ ?rel <{CKB.timeText}> ?time }}
              OPTIONAL {{ ?rel <{CKB.earliestDate}> ?from }} }}""", limit=MAX_FACTS, inferred=False)
            rows = [{**row, "key": ROLES[int(row["key"])][0]} for row in result.rows]
            truncated = bool(result.truncated)
    facts: dict[tuple[str, str, str], Fact] = {}
    kinds: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    for row in rows:
        key = (str(row["key"]), str(row["rel"]), str(row["other"]))
        fact = facts.setdefault(key, Fact(*key[:2], "", key[2], ""))
        if row.get("kind") is not None:
            kinds[key].add(str(row["kind"]))
        if row.get("time") is not None:
            fact.time_text = str(row["time"])
        elif row.get("from") is not None and not fact.time_text:
            # an xsd:dateTime at midnight is a day (how sheets and datasets record "since")
            fact.time_text = f"since {str(row['from']).removesuffix('T00:00:00')}"
    fought = _fights(kb, iri) + reached(kb, iri)  # fights, other events, facts via collectives
    # Only PER_GROUP facts of each group are labelled and sourced: a state backing hundreds
    # of groups still costs a page a bounded number of lookups.
    grouped: dict[str, list[Fact]] = defaultdict(list)
    for fact in sorted([*facts.values(), *fought], key=lambda f: (f.other, f.relation)):
        grouped[fact.group].append(fact)
    more = {g: len(fs) - PER_GROUP for g, fs in grouped.items() if len(fs) > PER_GROUP}
    every = [f for fs in grouped.values() for f in fs[:PER_GROUP]]
    shown_kinds = {k for key, ks in kinds.items() if facts.get(key) in every for k in ks}
    names = labels(kb, {x for f in every for x in (f.relation, f.other)} | shown_kinds)
    for fact in every:
        fact.relation_label, fact.other_label = names[fact.relation], names[fact.other]
    for key, fact in facts.items():
        if key in kinds and fact.relation_label:
            fact.detail = ", ".join(sorted(names[k] for k in kinds[key]))
    add_sources(kb, every)
    _mark_tension(every)
    order = [k for k, *_ in ROLES] + list(EVENT_GROUPS)
    return KeyFacts([(k, HEADINGS[k], sorted(grouped[k][:PER_GROUP], key=lambda f: (
        f.other_label.lower(), f.relation))) for k in order if grouped.get(k)], truncated, more)


def _fights(kb: Any, iri: str) -> list[Fact]:
    """Whom the entity fought or attacked (or was attacked by) across the sides of violent events,
    and, where it took part only through the side it backs, whom it fought through that side."""
    found, _cut = engagements(kb, iri, MAX_FACTS)
    names = labels(kb, {x for e in found for x in (e.a, e.b, *e.a_backers, *e.b_backers)})
    out: dict[tuple[str, str, str], Fact] = {}
    through: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    for e in found:
        for me, it, mine, theirs, group in (
                (e.a, e.b, e.a_backers, e.b_backers, e.kind),
                (e.b, e.a, e.b_backers, e.a_backers, "fought" if e.kind == "fought" else "attacked-by")):
            if iri == me:
                fact = out.setdefault((group, e.event, it), Fact(group, e.event, "", it, ""))
                if mine or theirs:
                    fact.detail = f"{_side_text(me, mine, names)}, against {_side_text(it, theirs, names)}"
            elif iri in mine:  # an indirect party: it fought whoever its side fought, through it
                for other in (it, *theirs):
                    fact = out.setdefault(("through", e.event, other), Fact(
                        "through", e.event, "", other, ""))
                    through[("through", e.event, other)].add(names[me])
            else:
                continue
            fact.time_text = e.time
    for key, via in through.items():
        out[key].detail = "through " + ", ".join(sorted(via))
    return list(out.values())


def _side_text(actor: str, backers: list[str], names: dict[str, str]) -> str:
    """One side of an engagement in words: "Russia, through Russian-backed regime divisions"."""
    if not backers:
        return names[actor]
    return f"{' and '.join(names[b] for b in backers)}, through {names[actor]}"


def add_sources(kb: Any, facts: list[Fact]) -> None:
    """Fill in each fact's claims, hedges, outlets and anonymous/own-voice markers."""
    relations = sorted({f.relation for f in facts})
    if not relations:
        return
    claims_of: dict[str, list[str]] = defaultdict(list)
    hedges_of: dict[str, set[str]] = defaultdict(set)
    for start in range(0, len(relations), 300):
        part = relations[start:start + 300]
        with reader(kb) as r:
            rows = factrows.support_rows(r, part) if r else kb.query(f"""SELECT ?rel ?claim ?h ?hk WHERE {{
              VALUES ?rel {{ {values_block(part)} }} ?claim <{CKB.supports}> ?rel .
              OPTIONAL {{ ?claim <{CKB.hedgeText}> ?h }} OPTIONAL {{ ?claim <{CKB.hedge}> ?hk }} }}""",
                            inferred=False).rows
        for r in rows:
            if str(r["claim"]) not in claims_of[str(r["rel"])]:
                claims_of[str(r["rel"])].append(str(r["claim"]))
            # one vocabulary (the hedge's label, "Reports:" reads "reportedly"), else the
            # source's word; a dataset coder's judgement (UCDP event_clarity) is no hedge
            if r.get("hk") is not None:
                if str(r["hk"]) not in CODING:
                    hedges_of[str(r["claim"])].add(str(r["hk"]))
            elif r.get("h") is not None:
                hedges_of[str(r["claim"])].add(str(r["h"]))
    every_claim = sorted({c for cs in claims_of.values() for c in cs})
    chains = source_chains(kb, every_claim)
    hedge_names = labels(kb, {h for hs in hedges_of.values() for h in hs if h.startswith("http")})
    for fact in facts:
        fact.claims = sorted(claims_of.get(fact.relation, []))
        mine = [chains[c] for c in fact.claims if c in chains]
        fact.hedges = sorted({hedge_names.get(h, h) for c in fact.claims for h in hedges_of[c]})
        fact.sources = sorted({a for ch in mine for line in ch.lines for hop in line
                               for a, _l in hop.agents})
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


# Edge types of the actor graph: (key, from-role, to-role, label, symmetric)
EDGES = (
    ("backs", str(CKB.backer), str(CKB.backedActor), "backs", False),
    ("allied", str(CKB.allyParty), str(CKB.allyParty), "allied with", True),
    ("rival", str(CKB.rivalParty), str(CKB.rivalParty), "rival of", True),
    ("member-of", ORG + "member", ORG + "organization", "member of", False),
    ("unit-of", str(CKB.part), str(CKB.whole), "unit of", False),
    ("leads", str(CKB.leader), str(CKB.ledActor), "leads", False),
    ("loyal-to", str(CKB.loyalActor), str(CKB.loyalToActor), "loyal to", False),
)
EDGE_LABELS = {key: label for key, _a, _b, label, _s in EDGES} | {
    "fought": "fought", "attacked": "attacked"}
MAX_EDGES = 500  # edges one actor-graph view reads


def actor_edges(kb: Any, kinds: list[str] | None = None) -> tuple[list[Fact], bool]:
    """Relations between actors as typed, directed edges, each with its sources; and whether
    the list was cut at MAX_EDGES."""
    wanted = [e for e in EDGES if not kinds or e[0] in kinds]
    edges: dict[tuple[str, str, str, str], Fact] = {}
    truncated = False
    if wanted:
        if len(wanted) == 1:
            # Virtuoso 7.2 cannot compile a one-row VALUES beside the OPTIONALs (SP031 "no
            # SPART_VARR_FIXED": /actors?relation=backs answered 500); the same pattern written out
            key, pa, pb = wanted[0][:3]
            pattern = f'BIND("{key}" AS ?key) ?rel {iri_ref(pa)} ?a . ?rel {iri_ref(pb)} ?b .'
        else:
            spec = " ".join(f'("{k}" {iri_ref(a)} {iri_ref(b)})' for k, a, b, _l, _s in wanted)
            pattern = f"VALUES (?key ?pa ?pb) {{ {spec} }} ?rel ?pa ?a . ?rel ?pb ?b ."
        result = kb.query(f"""SELECT DISTINCT ?key ?rel ?a ?b ?kind ?time WHERE {{
          {pattern} FILTER(?a != ?b)
          OPTIONAL {{ ?rel <{CKB.supportKind}> ?kind }} OPTIONAL {{ ?rel <{CKB.timeText}> ?time }}
        }} LIMIT {MAX_EDGES + 1}""", limit=MAX_EDGES, inferred=False)
        truncated = bool(result.truncated)
        symmetric = {k for k, _a, _b, _l, s in wanted if s}
        for r in result.rows:
            key, a, b = str(r["key"]), str(r["a"]), str(r["b"])
            if key in symmetric and a > b:
                continue
            fact = edges.setdefault((key, str(r["rel"]), a, b), Fact(
                key, str(r["rel"]), "", b, "", subject=a))
            if r.get("kind") is not None:
                fact.detail = str(r["kind"])
            if r.get("time") is not None:
                fact.time_text = str(r["time"])
    if not kinds or {"fought", "attacked"} & set(kinds):
        fights, cut = _all_fights(kb, kinds)
        truncated |= cut
        edges.update({(f.group, f.relation, f.subject, f.other): f for f in fights})
    facts = list(edges.values())
    names = labels(kb, {x for f in facts for x in (f.subject, f.other, f.relation)} | {
        f.detail for f in facts if f.detail.startswith("http")})
    for f in facts:
        f.subject_label, f.other_label = names[f.subject], names[f.other]
        f.relation_label = names[f.relation]
        if f.detail.startswith("http"):
            f.detail = names[f.detail]
    add_sources(kb, facts)
    _mark_tension_pairs(facts)
    facts.sort(key=lambda f: (f.group, f.subject_label.lower(), f.other_label.lower()))
    return facts, truncated


def _all_fights(kb: Any, kinds: list[str] | None) -> tuple[list[Fact], bool]:
    """Pairs of direct participants on opposing sides of violent events ("fought", drawn once per
    pair) and attackers towards their targets ("attacked"), each with the backers of both sides."""
    found, cut = engagements(kb, None, MAX_EDGES)
    found = [e for e in found if not kinds or e.kind in kinds]
    names = labels(kb, {x for e in found for x in (*e.a_backers, *e.b_backers)} | {
        x for e in found if e.a_backers or e.b_backers for x in (e.a, e.b)})
    out: dict[tuple[str, str, str], Fact] = {}
    for e in found:
        fact = out.setdefault((e.event, e.a, e.b), Fact(e.kind, e.event, "", e.b, "", subject=e.a))
        if e.a_backers or e.b_backers:
            fact.detail = (f"{_side_text(e.a, e.a_backers, names)}, against "
                           f"{_side_text(e.b, e.b_backers, names)}")
        fact.time_text = e.time
    return list(out.values()), cut


def _mark_tension_pairs(facts: list[Fact]) -> None:
    """Mark ally and rival edges between the same two actors."""
    held: dict[frozenset[str], set[str]] = defaultdict(set)
    for f in facts:
        if f.group in ("allied", "rival"):
            held[frozenset((f.subject, f.other))].add(f.group)
    for f in facts:
        pair = held.get(frozenset((f.subject, f.other)), set())
        if f.group in pair and len(pair) > 1:
            f.tension = sorted(EDGE_LABELS[g] for g in pair - {f.group})
