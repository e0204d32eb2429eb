"""Key facts of an event page: who against whom by side, where, when, weapons, deaths, status,
what it triggered or answered, and the claims behind it.

Sides come from the participations as kb.views.sides reads them (ckb:side, else the importers'
roles); indirect parties are shown as the backers of their side. An event that did not (yet)
happen is shown as planned or announced, never as fought; one-sided violence and strikes read
"attacked"; coercion (an enforcer and the actor it forces) reads "forced", not a battle.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kb.namespaces import CKB
from kb.views.browse import labels
from kb.views.chains import source_chains
from kb.views.facts import Fact, add_sources
from kb.views.look import Look, looking
from kb.views.sides import ATTACK_CLASSES, ATTACKER, HAPPENED, INDIRECT, ROLE_SIDE, TARGET

POS = "http://www.w3.org/2003/01/geo/wgs84_pos#"
MAX_CHAINS = 12  # claims shown with their one-line chains (the rest: "N more" on /claims)
MAX_PARTS = 60  # participations shown on one event page
PLACE_DEPTH = 6  # containing places followed upwards
COERCE = {str(CKB.Enforcer)}
COERCED = {str(CKB.Expelled), TARGET}
# (property, heading) of the links between events, outgoing then incoming
LINKS = ((str(CKB.triggered), "Triggered", "Triggered by"),
         (str(CKB.inResponseTo), "In response to", "Answered by"),
         (str(CKB.hasPurpose), "With the purpose of", "Purpose of"),
         (str(CKB.inPreparationFor), "In preparation for", "Prepared for by"))
NUMBERS = (("fatalitiesLow", "low"), ("fatalitiesBest", "best"), ("fatalitiesHigh", "high"))
SIDE_DEATHS = (("deathsSideA", "side A"), ("deathsSideB", "side B"),
               ("deathsCivilians", "civilians"), ("deathsUnknown", "unknown"))
STRENGTH = (("strengthLow", "low"), ("strengthBest", "best"), ("strengthHigh", "high"))


@dataclass
class Party:
    """One participant: the actor, its roles and the source's words for it."""

    iri: str
    label: str = ""
    roles: list[str] = field(default_factory=list)  # role labels
    described: list[str] = field(default_factory=list)


@dataclass
class Side:
    """The direct participants of one side and the indirect parties backing it."""

    key: str
    direct: list[Party] = field(default_factory=list)
    backers: list[Party] = field(default_factory=list)


@dataclass
class EventFacts:
    """What an event page leads with."""

    kind: str  # "fought", "attacked", "forced", "planned" or "event"
    verb: str  # the sentence's verb: "fought", "attacked", "forced", "prepare to fight", ...
    sides: list[Side]
    others: list[Party]  # participants on no side (roles only)
    status: list[str] = field(default_factory=list)
    types: list[tuple[str, str]] = field(default_factory=list)
    places: list[list[tuple[str, str]]] = field(default_factory=list)  # place, then its parents
    location_precision: list[str] = field(default_factory=list)
    coordinates: str = ""
    when: list[str] = field(default_factory=list)
    weapons: list[str] = field(default_factory=list)
    deaths: list[tuple[str, str]] = field(default_factory=list)  # (what, number)
    deaths_by_side: list[tuple[str, str]] = field(default_factory=list)
    fatality_status: list[str] = field(default_factory=list)
    strength: list[tuple[str, str]] = field(default_factory=list)
    quantity: list[str] = field(default_factory=list)
    support: list[str] = field(default_factory=list)
    links: list[tuple[str, list[tuple[str, str]]]] = field(default_factory=list)
    sources: Fact | None = None  # the claims behind the event, as on a key fact
    chains: list[tuple[str, str, Any]] = field(default_factory=list)  # (claim, label, Chain)
    cut: bool = False


def is_event(look: Look, types: list[str]) -> bool:
    """Whether the types make the thing an event."""
    return look.first_of(types, str(CKB.Event))


def event_facts(kb: Any, iri: str) -> EventFacts | None:
    """The key facts of the event ``iri``, or None when it is not an event."""
    names: set[str] = set()
    with looking(kb) as look:
        types = look.types(iri)
        if not is_event(look, types):
            return None
        violent = look.first_of(types, str(CKB.ViolentEvent))
        attack = any(look.first_of(types, c) for c in ATTACK_CLASSES)
        # remotely: the event's own values in one query, and its links in one more
        look.ahead([iri], [str(CKB.hasParticipation), str(CKB.participant), str(CKB.place),
                           *(str(CKB[p]) for p in RAW_PROPERTIES), *(prop for prop, _o, _i in LINKS)])
        look.behind([prop for prop, _o, _i in LINKS], [iri])
        parts, cut = _parts(look, iri)
        raw = _raw(look, iri)
        located = look.iris(iri, str(CKB.place), 20)
        look.ahead(located, [str(CKB.partOfPlace), POS + "lat", POS + "long"])
        places = [_place_chain(look, p) for p in located]
        links = [(heading, look.iris(iri, prop, 20)) for prop, heading, _in in LINKS]
        links += [(heading, look.subjects(prop, iri, 20)[0]) for prop, _out, heading in LINKS]
        coordinates = _coordinates(look, [chain[0] for chain in places if chain])
    status = raw["status"]
    happened = not status or bool(set(status) & HAPPENED)
    roles_of = {p.iri: set(p.roles) for p in parts}
    names |= {p.iri for p in parts} | {r for p in parts for r in p.roles} | set(types)
    names |= {x for chain in places for x in chain} | {x for _h, xs in links for x in xs}
    names |= {x for k in ("status", "precision", "weapons", "fatality", "support", "datep")
              for x in raw[k]}
    label = labels(kb, names)
    sides, others = _sides(parts, roles_of)
    all_roles = {r for p in parts for r in p.roles}
    if violent and sides and not happened:
        kind, verb = "planned", f"{_status_words(status, label)}: prepare to fight"
    elif violent and len(sides) > 1:
        kind, verb = ("attacked", "attacked") if attack or ATTACKER in all_roles else ("fought", "fought")
    elif all_roles & COERCE and all_roles & COERCED:
        kind, verb = "forced", "forced" if happened else f"{_status_words(status, label)}: to force"
    else:
        kind, verb = "event", "" if happened else _status_words(status, label)
    for p in parts:
        p.label = label.get(p.iri, p.iri)
        p.roles = sorted(label.get(r, r) for r in p.roles)
    out = EventFacts(kind, verb, sides, others, cut=cut)
    out.status = [label.get(s, s) for s in status]
    out.types = [(t, label.get(t, t)) for t in types]
    out.places = [[(x, label.get(x, x)) for x in chain] for chain in places if chain]
    out.location_precision = [label.get(x, x) for x in raw["precision"]]
    out.coordinates = coordinates
    out.when = _when(raw, label)
    out.weapons = [label.get(x, x) for x in raw["weapons"]]
    # the source's own words, unless they are the category's name
    out.weapons += [f"“{w}”" for w in raw["weapon_text"] if w.lower() not in {x.lower() for x in out.weapons}]
    out.deaths = [(what, raw[prop][0]) for prop, what in NUMBERS if raw[prop]]
    out.deaths_by_side = [(what, raw[prop][0]) for prop, what in SIDE_DEATHS if raw[prop]]
    out.fatality_status = [label.get(x, x) for x in raw["fatality"]]
    out.strength = [(what, raw[prop][0]) for prop, what in STRENGTH if raw[prop]]
    out.quantity = raw["quantity"]
    out.support = [label.get(x, x) for x in raw["support"]]
    out.links = [(h, [(x, label.get(x, x)) for x in xs]) for h, xs in links if xs]
    fact = Fact("event", iri, "", iri, "")
    add_sources(kb, [fact])
    out.sources = fact
    shown = fact.claims[:MAX_CHAINS]
    chains, claim_names = source_chains(kb, shown), labels(kb, shown)
    out.chains = [(c, claim_names[c], chains.get(c)) for c in shown]
    return out


def _parts(look: Look, iri: str) -> tuple[list[Party], bool]:
    """The participations (actor, roles, side, words); the ckb:participant shortcut when none."""
    found: dict[str, Party] = {}
    sides: dict[str, set[str]] = {}
    nodes = look.iris(iri, str(CKB.hasParticipation), MAX_PARTS + 1)
    look.ahead(nodes[:MAX_PARTS], [str(CKB.participationActor), str(CKB.participantRole),
                                   str(CKB.asDescribed), str(CKB.side)])
    for node in nodes[:MAX_PARTS]:
        for actor in look.iris(node, str(CKB.participationActor), 5):
            party = found.setdefault(actor, Party(actor))
            party.roles = sorted(set(party.roles) | set(look.iris(node, str(CKB.participantRole), 10)))
            party.described = sorted(set(party.described) | set(look.values(node, str(CKB.asDescribed), 10)))
            sides.setdefault(actor, set()).update(look.iris(node, str(CKB.side), 5))
    if not nodes:
        for actor in look.iris(iri, str(CKB.participant), MAX_PARTS):
            found.setdefault(actor, Party(actor))
    for actor, party in found.items():
        # the side travels with the roles (kb.views.sides reads it the same way)
        party.roles += sorted(f"side:{s}" for s in sides.get(actor, ()))
    return list(found.values()), len(nodes) > MAX_PARTS


def _sides(parts: list[Party], roles_of: dict[str, set[str]]) -> tuple[list[Side], list[Party]]:
    """Group the participants by side: ckb:side first, else the importers' roles."""
    by_side: dict[str, Side] = {}
    others: list[Party] = []
    for p in parts:
        roles = roles_of[p.iri]
        stated = {r[5:] for r in roles if r.startswith("side:")}
        p.roles = [r for r in p.roles if not r.startswith("side:")]
        sides = stated or {ROLE_SIDE[r] for r in roles if r in ROLE_SIDE}
        if len(sides) != 1:
            others.append(p)
            continue
        side = by_side.setdefault(next(iter(sides)), Side(next(iter(sides))))
        (side.backers if INDIRECT in roles else side.direct).append(p)
    # the attacking side first, then side A before side B
    order = sorted(by_side.values(), key=lambda s: (
        not any(ATTACKER in roles_of[p.iri] for p in s.direct), s.key != "attacker", s.key))
    return [s for s in order if s.direct or s.backers], others


RAW_IRIS = {"status": "eventStatus", "precision": "locationPrecision", "weapons": "weaponCategory",
            "fatality": "fatalityStatus", "support": "supportKind", "datep": "datePrecision"}
RAW_VALUES = {"weapon_text": "weaponText", "time": "timeText", "from": "earliestDate",
              "to": "latestDate", "quantity": "quantityText"}
RAW_PROPERTIES = (*RAW_IRIS.values(), *RAW_VALUES.values(),
                  *(prop for prop, _w in (*NUMBERS, *SIDE_DEATHS, *STRENGTH)))


def _raw(look: Look, iri: str) -> dict[str, list[str]]:
    """The event's own values, by what the page calls them."""
    iris, values = RAW_IRIS, RAW_VALUES
    out = {k: look.iris(iri, str(CKB[p]), 10) for k, p in iris.items()}
    out |= {k: look.values(iri, str(CKB[p]), 10) for k, p in values.items()}
    for prop, _w in (*NUMBERS, *SIDE_DEATHS, *STRENGTH):
        out[prop] = look.values(iri, str(CKB[prop]), 3)
    return out


def _place_chain(look: Look, place: str) -> list[str]:
    """The place and the places it lies within, innermost first."""
    chain = [place]
    while len(chain) < PLACE_DEPTH:
        up = [p for p in look.iris(chain[-1], str(CKB.partOfPlace), 5) if p not in chain]
        if not up:
            break
        chain.append(sorted(up)[0])
    return chain


def _coordinates(look: Look, places: list[str]) -> str:
    """The point of the innermost located place, as "lat, long"."""
    for place in places:
        lat, lon = look.first(place, POS + "lat"), look.first(place, POS + "long")
        if lat is not None and lon is not None:
            return f"{lat}, {lon}"
    return ""


def _day(value: str) -> str:
    return value[:10]


def _when(raw: dict[str, list[str]], label: dict[str, str]) -> list[str]:
    """The event's time in words: the source's words, then the dated bounds with their precision."""
    out = [f"“{t}”" for t in raw["time"]]
    precision = ", ".join(label.get(x, x) for x in raw["datep"])
    start, end = (min(raw["from"]) if raw["from"] else ""), (max(raw["to"]) if raw["to"] else "")
    if start and end and _day(start) != _day(end):
        out.append(f"between {_day(start)} and {_day(end)}")
    elif start or end:
        out.append(f"{'from ' if start and not end and raw['time'] else ''}{_day(start or end)}")
    if precision and (start or end):
        out[-1] += f" ({precision})"
    return out


def _status_words(status: list[str], label: dict[str, str]) -> str:
    """'planned', 'announced' or the status's label."""
    return " and ".join(label.get(s, s) for s in status) or "not happened"


__all__ = ["EventFacts", "Party", "Side", "event_facts", "is_event"]
