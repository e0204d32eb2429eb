"""Who fought or attacked whom: actors paired across the sides of the violent events, never within one.

A participation's side is its ckb:side; where the data gives none, the importers' roles stand in
for it (UCDP side_a/side_b as ckb:SideA/ckb:SideB, ACLED actor 1/actor 2, attacker and target).
Only direct participants are paired; an indirect party (ckb:IndirectParty) is shown as the backer
of its side. Planned, announced or threatened events are not fights, and strikes and one-sided
violence read "attacked", from the attacker's side to the other.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from kb.namespaces import CKB
from kb.terms import iri_ref
from kb.views import factrows
from kb.views.browse import values_block
from kb.views.look import asserted_below
from kb.views.lookups import reader

RDFS_SUB = "http://www.w3.org/2000/01/rdf-schema#subClassOf"
HAPPENED = {str(CKB.Occurred), str(CKB.Ongoing)}  # any other status: not (yet) a fight
ATTACK_CLASSES = (str(CKB.Strike), str(CKB.OneSidedViolence))
INDIRECT = str(CKB.IndirectParty)
ATTACKER, TARGET = str(CKB.Attacker), str(CKB.TargetedParty)
# Roles that name a side when the participation has no ckb:side (the importers' codings)
ROLE_SIDE = {str(CKB.SideA): str(CKB.SideA), str(CKB.SideB): str(CKB.SideB),
             str(CKB.Actor1): str(CKB.SideA), str(CKB.Actor2): str(CKB.SideB),
             ATTACKER: "attacker", TARGET: "target"}


@dataclass
class Engagement:
    """Two direct participants on opposing sides of one violent event."""

    kind: str  # "fought" (symmetric) or "attacked" (a attacked b)
    event: str
    a: str
    b: str
    a_backers: list[str] = field(default_factory=list)  # indirect parties on a's side
    b_backers: list[str] = field(default_factory=list)
    time: str = ""


@dataclass
class _Part:
    actor: str
    roles: set[str] = field(default_factory=set)
    sides: set[str] = field(default_factory=set)


def engagements(kb: Any, actor: str | None, limit: int) -> tuple[list[Engagement], bool]:
    """The engagements of the violent events ``actor`` took part in (all events if None), from at
    most ``limit`` events; and whether the events were cut there."""
    if actor:
        with reader(kb) as r:
            if r is not None:  # a page view: pattern lookups, no query in a worker
                rows, cut = factrows.engagement_rows(r, actor, str(CKB.ViolentEvent), ATTACK_CLASSES,
                                                     limit)
                return _from_rows(rows), cut
    violent = _subclasses(kb, [str(CKB.ViolentEvent)])
    if actor:
        # From the actor outwards, the classes as a filter: with a VALUES of the classes beside
        # the path, Oxigraph server read every violent event first (5-6 s a page at 1M triples)
        found = kb.query(f"""SELECT DISTINCT ?ev WHERE {{
          ?p <{CKB.participationActor}> {iri_ref(actor)} . ?ev <{CKB.hasParticipation}> ?p .
          ?ev a ?t FILTER(?t IN ({", ".join(iri_ref(c) for c in violent)})) }} LIMIT {limit + 1}""",
                         limit=limit, inferred=False)
    else:
        found = kb.query(f"""SELECT DISTINCT ?ev WHERE {{
          VALUES ?t {{ {values_block(violent)} }} ?ev a ?t }}""", limit=limit, inferred=False)
    events = sorted(str(r["ev"]) for r in found.rows)
    out: list[Engagement] = []
    for start in range(0, len(events), 200):
        out += _from_rows(_rows(kb, events[start:start + 200]))
    return out, bool(found.truncated)


def _rows(kb: Any, events: list[str]) -> list[dict[str, Any]]:
    """The events' participations (actor, role, side), statuses, times and attack class."""
    if not events:
        return []
    return kb.query(f"""SELECT ?ev ?p ?actor ?role ?side ?status ?time ?attack WHERE {{
      VALUES ?ev {{ {values_block(events)} }}
      ?ev <{CKB.hasParticipation}> ?p . ?p <{CKB.participationActor}> ?actor .
      OPTIONAL {{ ?p <{CKB.participantRole}> ?role }} OPTIONAL {{ ?p <{CKB.side}> ?side }}
      OPTIONAL {{ ?ev <{CKB.eventStatus}> ?status }} OPTIONAL {{ ?ev <{CKB.timeText}> ?time }}
      OPTIONAL {{ VALUES ?attack {{ {values_block(_attack_classes(kb))} }} ?ev a ?attack }} }}""",
                    inferred=False).rows


def _attack_classes(kb: Any) -> list[str]:
    """Strike, one-sided violence and their subclasses: looked up once, not per event."""
    return _subclasses(kb, list(ATTACK_CLASSES))


def _subclasses(kb: Any, classes: list[str]) -> list[str]:
    """The classes and all their subclasses, one query per class with the path's end a constant
    (Virtuoso refuses a transitive path whose ends are both variables: "transitive start not given")."""
    return sorted(set(classes).union(*(asserted_below(kb, cls) for cls in classes)))


def _from_rows(rows: list[dict[str, Any]]) -> list[Engagement]:
    """Group the rows by event and pair each event's sides."""
    parts: dict[str, dict[str, _Part]] = defaultdict(dict)
    status: dict[str, set[str]] = defaultdict(set)
    attack: set[str] = set()
    time: dict[str, str] = {}
    for r in rows:
        ev = str(r["ev"])
        part = parts[ev].setdefault(str(r["p"]), _Part(str(r["actor"])))
        if r.get("role") is not None:
            part.roles.add(str(r["role"]))
        if r.get("side") is not None:
            part.sides.add(str(r["side"]))
        if r.get("status") is not None:
            status[ev].add(str(r["status"]))
        if r.get("attack") is not None:
            attack.add(ev)
        if r.get("time") is not None:
            time[ev] = str(r["time"])
    out: list[Engagement] = []
    for ev in sorted(parts):
        if status[ev] and not status[ev] & HAPPENED:
            continue
        out += _event_pairs(ev, list(parts[ev].values()), ev in attack, time.get(ev, ""))
    return out


def _event_pairs(ev: str, parts: list[_Part], attack: bool, time: str) -> list[Engagement]:
    """Pair the direct participants of one event across its sides."""
    direct: dict[str, set[str]] = defaultdict(set)
    backers: dict[str, set[str]] = defaultdict(set)
    for part in parts:
        sides = part.sides or {ROLE_SIDE[r] for r in part.roles if r in ROLE_SIDE}
        if len(sides) != 1:
            continue  # no side known (or contradictory ones): the actor is paired with no one
        side = sides.pop()
        (backers if INDIRECT in part.roles else direct)[side].add(part.actor)
    if attack or "attacker" in direct:
        attacking = {s for s in direct if any(ATTACKER in p.roles and p.actor in direct[s]
                                               for p in parts)}
        first = sorted(attacking)[0] if attacking else "attacker" if "attacker" in direct else str(
            CKB.SideA)
        order = [first, *sorted(s for s in direct if s != first)]
        kind = "attacked"
    else:
        order, kind = sorted(direct), "fought"
    out: list[Engagement] = []
    for i, side_a in enumerate(order):
        for side_b in order[i + 1:] if kind == "fought" else order[1:] if i == 0 else []:
            for a in sorted(direct[side_a]):
                for b in sorted(direct[side_b] - {a}):
                    out.append(Engagement(kind, ev, a, b, sorted(backers[side_a] - {a, b}),
                                          sorted(backers[side_b] - {a, b}), time))
    return out


__all__ = ["Engagement", "engagements"]
