"""Facts that reach an actor's page through the model's own links, each with its sources.

Besides its relation nodes and fights (kb.views.facts), an actor took part in other events:
deployments, support campaigns, coercion, summits, and fights only planned. And what a
loosely described collective received reaches the actors it ``ckb:includes`` (or a contingent
is ``ckb:drawnFrom``): Russia's air support to "Shiite militants ..., including Hezbollah" is
a fact on Hezbollah's page, "through" the militants. Every fact keeps the relation node or event
it rests on, so kb.views.facts adds the claims, hedges and outlets behind it.
"""

from __future__ import annotations

from typing import Any

from kb.namespaces import CKB
from kb.views.browse import labels
from kb.views.look import Look, looking
from kb.views.lookups import RDF_TYPE
from kb.views.sides import HAPPENED

MAX_EVENTS = 120  # events of one actor read here (the first found: ~5 lookups each)
MAX_CONTAINERS = 20  # collectives including the actor followed
# my role -> (group, heading); the counterpart is every participant in a role of the pair
ROLE_GROUPS = {
    str(CKB.Deployer): ("deployed", "Deployed"),
    str(CKB.DeployedForce): ("deployed-by", "Deployed by"),
    str(CKB.SupportProvider): ("supported", "Gave support to"),
    str(CKB.SupportRecipient): ("supported-by", "Received support from"),
    str(CKB.Enforcer): ("forced", "Forced or curbed (coercion, not a battle)"),
    str(CKB.Expelled): ("forced-by", "Forced or curbed by (coercion, not a battle)"),
    str(CKB.Host): ("hosted", "Hosted"),
    str(CKB.Attendee): ("attended", "Met at"),
}
COUNTER = {str(CKB.Deployer): {str(CKB.DeployedForce)}, str(CKB.DeployedForce): {str(CKB.Deployer)},
           str(CKB.SupportProvider): {str(CKB.SupportRecipient), str(CKB.Combatant)},
           str(CKB.SupportRecipient): {str(CKB.SupportProvider)},
           str(CKB.Enforcer): {str(CKB.Expelled), str(CKB.TargetedParty)},
           str(CKB.Expelled): {str(CKB.Enforcer)}, str(CKB.Host): {str(CKB.Attendee)},
           str(CKB.Attendee): {str(CKB.Host), str(CKB.Attendee)}}
PLANNED = ("planned", "Prepares to fight (planned, not fought)")
BACKED = ("backed-by", "Backed by")
UNITS = ("units-fought", "Fought or attacked through its units")
HEADINGS = dict([*ROLE_GROUPS.values(), PLANNED, UNITS])
GROUPS = tuple(dict.fromkeys(g for g, _h in [*ROLE_GROUPS.values(), PLANNED, UNITS]))
MAX_UNITS = 10  # units (ckb:UnitAffiliation parts) whose fights reach the whole
MAX_UNIT_EVENTS = 50  # violent events read per unit


def reached(kb: Any, iri: str) -> list[Any]:
    """The actor's non-fight events by role, its planned fights, and what the collectives
    including it received (backing and events), as kb.views.facts.Fact rows."""
    from kb.views.facts import Fact  # facts imports this module: late, to keep one Fact

    raw: list[tuple[str, str, str, list[str], str]] = []  # (group, event/rel, other, details, via)
    with looking(kb) as look:
        raw += _events(look, iri, "")
        containers = (look.subjects(str(CKB.includes), iri, MAX_CONTAINERS)[0]
                      + look.subjects(str(CKB.drawnFrom), iri, MAX_CONTAINERS)[0])
        for group in dict.fromkeys(containers):
            backing = look.subjects(str(CKB.backedActor), group, 50)[0]
            look.ahead(backing, [str(CKB.backer), str(CKB.supportKind)])
            for rel in backing:
                for backer in look.iris(rel, str(CKB.backer), 5):
                    raw.append((BACKED[0], rel, backer, look.iris(rel, str(CKB.supportKind), 5), group))
            raw += _events(look, group, group)
        look.ahead([rel for _g, rel, *_r in raw], [str(CKB.timeText)])
        times = {rel: look.values(rel, str(CKB.timeText), 1) for _g, rel, *_r in raw}
        includes = {g: str(CKB.includes) if g in look.subjects(str(CKB.includes), iri, 50)[0]
                    else str(CKB.drawnFrom) for g in containers}
        wholes = look.subjects(str(CKB.whole), iri, MAX_UNITS)[0]
        look.ahead(wholes, [str(CKB.part)])
        units = list(dict.fromkeys(u for rel in wholes for u in look.iris(rel, str(CKB.part), 5)))
    fights = _unit_fights(kb, units)  # after the lookups: engagements reads the store itself
    names = labels(kb, {x for g, rel, other, details, via in raw for x in (rel, other, via, *details)
                        if x} | {iri} | {x for f in fights for x in f[:3]})
    out: dict[tuple[str, str, str], Any] = {}
    for group, rel, other, details, via in raw:
        fact = out.setdefault((group, rel, other), Fact(group, rel, "", other, ""))
        fact.time_text = fact.time_text or next(iter(times.get(rel, [])), "")
        words = [names.get(d, d) if d.startswith("http") else d for d in details]
        if via:
            how = "which include" if includes.get(via) == str(CKB.includes) else "drawn from"
            words.append(f"through {names[via]}, {how} {names[iri]}")
        fact.detail = "; ".join(dict.fromkeys(w for w in [*fact.detail.split("; "), *words] if w))
    for event, other, unit, verb, time in fights:
        if other in units and unit > other:
            continue  # infighting between two of its units: one fact, not one per side
        fact = out.setdefault((UNITS[0], event, other), Fact(UNITS[0], event, "", other, ""))
        fact.time_text = time
        words = (f"infighting: its units {names[unit]} and {names[other]}" if other in units
                 else f"its unit {names[unit]} {verb} {names[other]}")
        fact.detail = "; ".join(dict.fromkeys(w for w in [*fact.detail.split("; "), words] if w))
    return list(out.values())


def _unit_fights(kb: Any, units: list[str]) -> list[tuple[str, str, str, str, str]]:
    """(event, counterpart, unit, verb, time) for the fights the units took part in directly,
    paired by side as kb.views.sides pairs them."""
    from kb.views.sides import engagements  # sides is imported by facts, which imports this

    out: list[tuple[str, str, str, str, str]] = []
    for unit in units:
        found, _cut = engagements(kb, unit, MAX_UNIT_EVENTS)
        for e in found:
            if unit == e.a:
                out.append((e.event, e.b, unit, e.kind, e.time))
            elif unit == e.b:
                out.append((e.event, e.a, unit, "was attacked by" if e.kind == "attacked" else "fought",
                            e.time))
    return out


def _events(look: Look, actor: str, via: str) -> list[tuple[str, str, str, list[str], str]]:
    """The actor's events other than fights that happened: one row per counterpart."""
    rows: list[tuple[str, str, str, list[str], str]] = []
    violent = look.subclasses(str(CKB.ViolentEvent))
    seen = 0
    parts = look.subjects(str(CKB.participationActor), actor, MAX_EVENTS)[0]
    # remotely: the events and every participation in them in three queries, not ~10 per event
    look.behind([str(CKB.hasParticipation)], parts)
    events = {ev for part in parts for ev in look.subjects(str(CKB.hasParticipation), part, 5)[0]}
    look.ahead(events, [str(CKB.eventStatus), RDF_TYPE, str(CKB.quantityText), str(CKB.supportKind),
                        str(CKB.hasParticipation)])
    look.ahead({p for ev in events for p in look.iris(ev, str(CKB.hasParticipation), 60)} | set(parts),
               [str(CKB.participantRole), str(CKB.side), str(CKB.participationActor)])
    for part in parts:
        for ev in look.subjects(str(CKB.hasParticipation), part, 5)[0]:
            seen += 1
            if seen > MAX_EVENTS:
                return rows
            status = look.iris(ev, str(CKB.eventStatus), 5)
            happened = not status or bool(set(status) & HAPPENED)
            is_violent = bool(violent & set(look.types(ev)))
            if is_violent and happened:
                continue  # a fight: kb.views.sides pairs it by side (kb.views.facts._fights)
            mine = set(look.iris(part, str(CKB.participantRole), 10))
            details = [*look.values(ev, str(CKB.quantityText), 3), *look.iris(ev, str(CKB.supportKind), 5)]
            details += [] if happened else [f"{' and '.join(_local(s) for s in status)}, not happened"]
            others = _others(look, ev, part)
            if is_violent:  # a planned or announced fight: against the other side
                my_side = set(look.iris(part, str(CKB.side), 3))
                for other, _roles, side in others:
                    if side and my_side and not side & my_side:
                        rows.append((PLANNED[0], ev, other, details, via))
                continue
            for role in sorted(mine & set(ROLE_GROUPS)):
                group = ROLE_GROUPS[role][0]
                wanted = COUNTER.get(role, set())
                matched = [o for o, roles, _s in others if roles & wanted]
                for other in matched or [ev]:
                    rows.append((group, ev, other, details, via))
    return rows


def _others(look: Look, ev: str, mine: str) -> list[tuple[str, set[str], set[str]]]:
    """The event's other participants: (actor, roles, sides)."""
    out = []
    for part in look.iris(ev, str(CKB.hasParticipation), 60):
        if part == mine:
            continue
        roles = set(look.iris(part, str(CKB.participantRole), 10))
        sides = set(look.iris(part, str(CKB.side), 3))
        out += [(a, roles, sides) for a in look.iris(part, str(CKB.participationActor), 5)]
    return out


def _local(iri: str) -> str:
    """A status IRI's local name, lower case ("Planned" -> "planned")."""
    return iri.rsplit("#", 1)[-1].rsplit("/", 1)[-1].lower()


__all__ = ["GROUPS", "HEADINGS", "reached"]
