"""What a claim states, written with labels and plain relation names, as the ontology's relation and
event nodes: ``backs`` (ckb:Backing), ``alliance`` (ckb:Alliance), ``rivalry`` (ckb:Rivalry),
``clash`` (ckb:Clash with a participation per actor and side), and the two-party relations ``member``
(ckb:CampMembership), ``leads`` (ckb:Leadership), ``loyal`` (ckb:Loyalty), ``unit`` and ``branch``
(ckb:UnitAffiliation); ``event`` and ``describes`` are in events.py. Each relation may give its node's
``id`` (its IRI) and ``label``."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import jsonschema
from rdflib import Literal, Namespace, URIRef
from rdflib.namespace import XSD

from kb.namespaces import CKB, CKBR

if TYPE_CHECKING:
    from .check import Checked

ORG = Namespace("http://www.w3.org/ns/org#")
# name: (its two fields, class, the node's two properties, shortcuts (property, reversed), label)
PAIRS = {
    "member": (("member", "of"), CKB.CampMembership, ORG.member, ORG.organization,
               ((ORG.memberOf, False), (ORG.hasMember, True)), "{} in {}"),
    "leads": (("leader", "led"), CKB.Leadership, CKB.leader, CKB.ledActor,
              ((CKB.leads, False), (CKB.ledBy, True)), "{} leads {}"),
    "loyal": (("actor", "to"), CKB.Loyalty, CKB.loyalActor, CKB.loyalToActor,
              ((CKB.loyalTo, False),), "{} loyal to {}"),
    "unit": (("part", "whole"), CKB.UnitAffiliation, CKB.part, CKB.whole,
             ((ORG.unitOf, False), (ORG.hasUnit, True)), "{} is part of {}"),
    # an organisation's branch (an army of its state or government): org's sub-organisation
    "branch": (("part", "whole"), CKB.UnitAffiliation, CKB.part, CKB.whole,
               ((ORG.subOrganizationOf, False), (ORG.hasSubOrganization, True)), "{} is part of {}"),
}
RELATIONS = ("backs", "alliance", "rivalry", "clash", *PAIRS, "control", "event", "describes")
MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september",
          "october", "november", "december"]


@dataclass
class Node:
    """One relation or event node: its properties (each one a fact a claim states) and shortcuts."""

    iri: URIRef
    cls: URIRef | None  # None: an actor's own facts (describes), neither typed nor labelled here
    label: str
    props: list[tuple[URIRef, Any]] = field(default_factory=list)  # stated, so reified as facts
    shortcuts: list[tuple[URIRef, URIRef, URIRef]] = field(default_factory=list)
    parts: list[Node] = field(default_factory=list)  # participations
    links: list[tuple[URIRef, URIRef]] = field(default_factory=list)  # structure, not stated
    supported: bool = True  # the claim supports it (ckb:supports) besides stating its facts
    label_given: bool = False  # the sheet wrote the label: it wins over one made from the names


def local(iri: str) -> str:
    """The last segment of an IRI, for minting readable IRIs."""
    return re.split(r"[/#]", iri)[-1]


def key(iri: str) -> str:
    """An actor's or place's part of a minted relation IRI: its last segment, without the sheets'
    "actor-" or "place-"."""
    return local(iri).removeprefix("actor-").removeprefix("place-").lower()


def check_states(c: Checked, where: tuple[Any, ...], fact: dict[str, Any]) -> None:
    """Record the problems of one stated fact (its relation name, fields, names, vocabularies)."""
    relation(c, where, fact, doc="check")


def relation(c: Checked, where: tuple[Any, ...], fact: dict[str, Any], doc: str) -> Node | None:
    """The node one stated fact describes, or None (with problems recorded) if it cannot be built."""
    from .check import schema

    (name, body), = fact.items()
    if name not in RELATIONS:
        c.problem((*where, ("key", name)), f"unknown relation {name!r} (known: {', '.join(RELATIONS)})")
        return None
    before = len(c.problems)
    part = {"$ref": f"#/$defs/{name}", "$defs": schema()["$defs"]}
    for e in jsonschema.Draft202012Validator(part).iter_errors(body):
        c.problem((*where, name, *e.absolute_path), f"{name}: {e.message}")
    if len(c.problems) > before:
        return None
    at = (*where, name)
    from .events import describes, event

    if name in PAIRS:
        n = _pair(c, at, name, body)
    elif name == "control":
        n = _control(c, at, body)
    else:
        n = {"backs": _backs, "alliance": _alliance, "rivalry": _rivalry, "clash": _clash, "event": event,
             "describes": describes}[name](c, at, body, doc)
    if n is not None and name not in ("clash", "event", "describes"):
        if "id" in body:  # the node's IRI as the sheet names it; its shortcuts keep their ends
            n.iri = c.mint("relation", body["id"])
        if "label" in body:
            n.label, n.label_given = body["label"], True
    return n


def _control(c: Checked, at: tuple[Any, ...], b: dict[str, Any]) -> Node | None:
    """An actor holds a place (ckb:TerritorialControl, shortcut ckb:controls)."""
    who, where = c.name((*at, "controller"), b["controller"]), c.name((*at, "place"), b["place"], "place")
    if who is None or where is None:
        return None
    return Node(CKBR[f"control-{key(who)}-{key(where)}"], CKB.TerritorialControl,
                f"{_label(c, who)} controls {_place_label(c, where)}",
                [(CKB.controller, URIRef(who)), (CKB.controlledPlace, URIRef(where))],
                [(URIRef(who), CKB.controls, URIRef(where))])


def _place_label(c: Checked, iri: str) -> str:
    for k, p in c.places.items():
        if p == iri and c.sheet is not None:
            return str(c.sheet.data["places"][k]["place"])
    return c.vocab.labels.get(iri, local(iri))


def _pair(c: Checked, at: tuple[Any, ...], name: str, b: dict[str, Any]) -> Node | None:
    """A relation between two actors, one in each role (member of, leads, loyal to, unit of)."""
    (first, second), cls, p1, p2, shortcuts, label = PAIRS[name]
    one, two = c.name((*at, first), b[first]), c.name((*at, second), b[second])
    if one is None or two is None:
        return None
    iri = CKBR[f"{local(cls).lower()}-{key(one)}-{key(two)}"]
    return Node(iri, cls, label.format(_label(c, one), _label(c, two)),
                [(p1, URIRef(one)), (p2, URIRef(two))],
                [(URIRef(two), p, URIRef(one)) if rev else (URIRef(one), p, URIRef(two))
                 for p, rev in shortcuts])


def _names(c: Checked, at: tuple[Any, ...], values: list[str]) -> list[str] | None:
    out = [c.name((*at, i), v) for i, v in enumerate(values)]
    return None if None in out else [o for o in out if o]


def _label(c: Checked, iri: str) -> str:
    """An actor's name: as the sheet writes it, or the KB's label when the sheet gives its IRI."""
    for key, a in c.agents.items():
        if a == iri and c.sheet is not None:
            name = str(c.sheet.data["agents"][key]["actor"])
            if not name.startswith(("http://", "https://")):
                return name
    return c.vocab.labels.get(iri, local(iri))


def _term(c: Checked, at: tuple[Any, ...], kind: str, value: str) -> URIRef | None:
    found = c.vocab.individuals(kind).get(value.lower())
    if found is None:
        c.problem(at, f"unknown {kind} {value!r} (the KB's: {', '.join(c.vocab.shown[kind])})")
        return None
    return URIRef(found)


def date(value: str) -> tuple[Literal, URIRef]:
    """A date as written (2015, 2015-09, 2015-09-04, September 2015): its start and precision;
    ValueError if it is no date."""
    m = re.fullmatch(r"([A-Za-z]+) (\d{4})", value)
    if m:
        if m.group(1).lower() not in MONTHS:
            raise ValueError(f"{value!r} is not a month and year")
        value = f"{m.group(2)}-{MONTHS.index(m.group(1).lower()) + 1:02d}"
    parts = value.split("-")
    full = "-".join(parts + ["01"] * (3 - len(parts))) + "T00:00:00"
    try:
        datetime.fromisoformat(full)
    except ValueError:
        raise ValueError(f"{value!r} is not a date") from None
    precision = ("YearPrecision", "MonthPrecision", "DayPrecision")[len(parts) - 1]
    return Literal(full, datatype=XSD.dateTime), CKB[precision]


def _backs(c: Checked, at: tuple[Any, ...], b: dict[str, Any], doc: str) -> Node | None:
    pair = _names(c, at, [b["backer"], b["backed"]])
    kind = _term(c, (*at, "support"), "support", b["support"]) if "support" in b else CKB.UnspecifiedSupport
    since = b.get("since")
    if since is not None:
        try:
            date(since)
        except ValueError as err:
            c.problem((*at, "since"), str(err))
            return None
    if not pair or kind is None:
        return None
    backer, backed = pair
    iri = CKBR[f"backing-{key(backer)}-{key(backed)}-{local(kind)}".lower()]
    n = Node(iri, CKB.Backing, f"{_label(c, backer)} backs {_label(c, backed)}",
             [(CKB.backer, URIRef(backer)), (CKB.backedActor, URIRef(backed)), (CKB.supportKind, kind)],
             [(URIRef(backer), CKB.backs, URIRef(backed))])
    if since is not None:
        start, precision = date(since)
        n.props += [(CKB.earliestDate, start), (CKB.datePrecision, precision)]
    if "when" in b:
        n.props.append((CKB.timeText, Literal(b["when"])))  # the text's time: stated too
    return n


def _parties(c: Checked, at: tuple[Any, ...], b: dict[str, Any], cls: URIRef, prop: URIRef,
             short: URIRef, word: str) -> Node | None:
    parties = _names(c, (*at, "parties"), b["parties"])
    if not parties:
        return None
    parties = list(dict.fromkeys(parties))  # as written: the first party is the shortcuts' subject
    iri = CKBR[f"{word}-" + "-".join(key(p) for p in sorted(parties))]
    n = Node(iri, cls, f"{word} of " + ", ".join(_label(c, p) for p in parties),
             [(prop, URIRef(p)) for p in parties],
             [(URIRef(a), short, URIRef(b_)) for i, a in enumerate(parties) for b_ in parties[i + 1:]])
    return n


def _alliance(c: Checked, at: tuple[Any, ...], b: dict[str, Any], doc: str) -> Node | None:
    n = _parties(c, at, b, CKB.Alliance, CKB.allyParty, CKB.alliedWith, "alliance")
    if n is not None and "kind" in b:
        n.props.append((CKB.allianceKind, Literal(b["kind"])))
    return n


def _rivalry(c: Checked, at: tuple[Any, ...], b: dict[str, Any], doc: str) -> Node | None:
    return _parties(c, at, b, CKB.Rivalry, CKB.rivalParty, CKB.rivalOf, "rivalry")


def _clash(c: Checked, at: tuple[Any, ...], b: dict[str, Any], doc: str) -> Node | None:
    sides = [_names(c, (*at, "sides", i), side) for i, side in enumerate(b["sides"])]
    status = _term(c, (*at, "status"), "status", b["status"]) if "status" in b else None
    where = c.name((*at, "where"), b["where"], "place") if "where" in b else None
    if None in sides or ("status" in b and status is None) or ("where" in b and where is None):
        return None
    everyone = "|".join(sorted(a for s in sides for a in s or ()))
    event = b.get("id") or hashlib.sha1(everyone.encode()).hexdigest()[:10]
    iri = CKBR[f"event-{doc}-{event}"]
    label = b.get("label") or "clash: " + " vs ".join(
        ", ".join(_label(c, a) for a in side or ()) for side in sides)
    n = Node(iri, CKB.Clash, label)
    if status is not None:
        n.props.append((CKB.eventStatus, status))
    if where is not None:
        n.props.append((CKB.place, URIRef(where)))
    if "when" in b:
        n.props.append((CKB.timeText, Literal(b["when"])))  # the text's time: stated too
    for side_no, side in enumerate(sides):
        for actor in side or ():
            p = Node(URIRef(f"{iri}-{key(actor)}"), CKB.Participation,
                     f"{_label(c, actor)} as combatant ({label})",
                     [(CKB.participationActor, URIRef(actor)), (CKB.participantRole, CKB.Combatant),
                      (CKB.side, CKB[("SideA", "SideB")[side_no]])])
            n.parts.append(p)
            n.shortcuts.append((iri, CKB.participant, URIRef(actor)))
            n.links.append((CKB.hasParticipation, p.iri))
    return n
