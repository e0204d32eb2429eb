"""Events of any kind and what a claim says about an actor, as a sheet writes them: an ``events:``
section defines each event once (its type, label and participants, each with a role, a side and the
text's words for it), a claim's ``event:`` entry states some of its facts (status, place, time,
weapon, links to other events, which participants); ``describes:`` states facts about an actor
itself (where it is based, what it includes or is drawn from, its country, its size)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rdflib import Literal, URIRef
from rdflib.namespace import RDF, RDFS, SKOS, XSD

from kb.namespaces import CKB

from .facts import Node, date

if TYPE_CHECKING:
    from rdflib import Graph

    from .check import Checked

# field: (property, what its value is: a vocabulary, "place", "actor", "event", "text", "integer", "date")
EVENT_FIELDS = {
    "status": (CKB.eventStatus, "status"),
    "where": (CKB.place, "place"),
    "when": (CKB.timeText, "text"),
    "since": (CKB.earliestDate, "date"),
    "weapon": (CKB.weaponCategory, "weapon"),
    "weapon_text": (CKB.weaponText, "text"),
    "fatalities": (CKB.fatalityStatus, "fatalities"),
    "support": (CKB.supportKind, "support"),
    "quantity": (CKB.quantityText, "text"),
    "strength_low": (CKB.strengthLow, "integer"),
    "host": (CKB.host, "actor"),
    "topic": (CKB.topic, "place"),
    "triggered": (CKB.triggered, "event"),
    "purpose": (CKB.hasPurpose, "event"),
    "in_response_to": (CKB.inResponseTo, "event"),
    "in_preparation_for": (CKB.inPreparationFor, "event"),
}
DESCRIBE_FIELDS = {
    "based_in": (CKB.basedIn, "place"),
    "includes": (CKB.includes, "actor"),
    "drawn_from": (CKB.drawnFrom, "actor"),
    "origin_country": (CKB.originCountry, "place"),
    "affiliated_with": (CKB.affiliatedWith, "actor"),
    "country": (CKB.associatedCountry, "place"),
    "quantity": (CKB.quantityText, "text"),
}


def event_iri(c: Checked, key: str) -> URIRef:
    """The IRI of the sheet's event ``key``."""
    return c.mint("event", key)


def participation_iri(c: Checked, key: str, n: int) -> URIRef:
    """The IRI of the n-th (1-based) participant of the sheet's event ``key``."""
    return URIRef(f"{event_iri(c, key)}-p{n}")


def _value(c: Checked, at: tuple[Any, ...], kind: str, value: Any) -> list[tuple[Any, ...]] | None:
    """The object(s) a field's value gives, or None with a problem recorded."""
    if kind == "text":
        return [(Literal(str(value)),)]
    if kind == "integer":
        return [(Literal(int(value), datatype=XSD.integer),)]
    if kind == "date":
        try:
            start, precision = date(str(value))
        except ValueError as err:
            c.problem(at, str(err))
            return None
        return [(start, precision)]
    if kind == "event":
        if value not in (c.sheet.data.get("events") or {}):  # type: ignore[union-attr]
            c.problem(at, f"{value!r} is not an event of this sheet (events:)")
            return None
        return [(event_iri(c, value),)]
    if kind in ("actor", "place"):
        out = []
        for i, v in enumerate(value if isinstance(value, list) else [value]):
            iri = c.name((*at, i) if isinstance(value, list) else at, v, kind)
            if iri is None:
                return None
            out.append((URIRef(iri),))
        return out
    found = c.vocab.individuals(kind).get(str(value).lower())
    if found is None:
        c.problem(at, f"unknown {kind} {value!r} (the KB's: {', '.join(c.vocab.shown[kind])})")
        return None
    return [(URIRef(found),)]


def _props(c: Checked, at: tuple[Any, ...], b: dict[str, Any],
           fields: dict[str, tuple[URIRef, str]]) -> list[tuple[URIRef, Any]] | None:
    props: list[tuple[URIRef, Any]] = []
    ok = True
    for name, (prop, kind) in fields.items():
        if name not in b:
            continue
        got = _value(c, (*at, name), kind, b[name])
        if got is None:
            ok = False
            continue
        for v in got:
            props.append((prop, v[0]))
            if kind == "date":
                props.append((CKB.datePrecision, v[1]))
    return props if ok else None


def event(c: Checked, at: tuple[Any, ...], b: dict[str, Any], doc: str) -> Node | None:
    """What one claim states about an event of the sheet: some of its facts and participants."""
    events = c.sheet.data.get("events") or {}  # type: ignore[union-attr]
    key = b["id"]
    if key not in events:
        c.problem((*at, "id"), f"{key!r} is not an event of this sheet (events:)")
        return None
    definition = events[key]
    if key in c.bad_events:  # already reported where the event is defined
        return None
    props = _props(c, at, b, EVENT_FIELDS)
    cls = c.vocab.individuals("event type").get(str(definition["type"]).lower())
    if props is None or cls is None:
        return None
    n = Node(event_iri(c, key), URIRef(cls), definition["label"], props, label_given=True)
    actors = [p["actor"] for p in definition["participants"]]
    for i, actor in enumerate(b.get("participants") or []):
        if actor not in actors:
            c.problem((*at, "participants", i), f"{actor!r} is not a participant of the event {key!r}")
            return None
        number = actors.index(actor) + 1
        n.parts.append(_participation(c, key, number, definition["participants"][number - 1]))
    return n


def _participation(c: Checked, key: str, number: int, p: dict[str, Any]) -> Node:
    """One participant of an event: its actor, role and side are facts a claim states."""
    props: list[tuple[URIRef, Any]] = [(CKB.participationActor, URIRef(c.agents[p["actor"]])),
                                       (CKB.participantRole,
                                        URIRef(c.vocab.individuals("participant role")[p["role"].lower()]))]
    if "side" in p:
        props.append((CKB.side, CKB["Side" + str(p["side"]).upper()]))
    return Node(participation_iri(c, key, number), CKB.Participation, p["label"], props, label_given=True)


def describes(c: Checked, at: tuple[Any, ...], b: dict[str, Any], doc: str) -> Node | None:
    """Facts a claim states about an actor itself; the claim does not thereby support the actor."""
    who = c.name((*at, "actor"), b["actor"])
    props = _props(c, at, b, DESCRIBE_FIELDS)
    if who is None or props is None:
        return None
    if not props:
        c.problem(at, "describes: say what about the actor (" + ", ".join(DESCRIBE_FIELDS) + ")")
        return None
    return Node(URIRef(who), None, "", props, supported=False)


def check_events(c: Checked) -> None:
    """Record the problems of the ``events:`` section: types, actors, roles, sides."""
    for key, e in (c.sheet.data.get("events") or {}).items():  # type: ignore[union-attr]
        before = len(c.problems)
        _check_event(c, key, e)
        if len(c.problems) > before:
            c.bad_events.add(key)


def _check_event(c: Checked, key: str, e: dict[str, Any]) -> None:
    """One event's definition: its type, and each participant an agent of the sheet, once, in a known role."""
    if str(e["type"]).lower() not in c.vocab.individuals("event type"):
        c.problem(("events", key, "type"), f"unknown event type {e['type']!r} (the KB's: "
                  + ", ".join(c.vocab.shown["event type"][:12]) + ", ...)")
    seen: set[str] = set()
    for i, p in enumerate(e["participants"]):
        if p["actor"] not in c.agents:
            c.problem(("events", key, "participants", i, "actor"),
                      f"{p['actor']!r} is not an agent of this sheet")
        elif p["actor"] in seen:
            c.problem(("events", key, "participants", i, "actor"), f"{p['actor']!r} takes part twice")
        seen.add(p["actor"])
        if p["role"].lower() not in c.vocab.individuals("participant role"):
            c.problem(("events", key, "participants", i, "role"),
                      f"unknown participant role {p['role']!r} "
                      f"(the KB's: {', '.join(c.vocab.shown['participant role'])})")




def compile_events(g: Graph, c: Checked) -> None:
    """Each event's structure: its type, label and note, and each participation with its actor, role,
    side and the text's words for it (the facts are stated by the claims that name them)."""
    for key, e in (c.sheet.data.get("events") or {}).items():  # type: ignore[union-attr]
        iri = event_iri(c, key)
        g.add((iri, RDF.type, URIRef(c.vocab.individuals("event type")[str(e["type"]).lower()])))
        g.add((iri, RDFS.label, Literal(e["label"], lang="en")))
        if "note" in e:
            g.add((iri, SKOS.note, Literal(e["note"], lang="en")))
        for number, p in enumerate(e["participants"], start=1):
            part = _participation(c, key, number, p)
            g.add((iri, CKB.hasParticipation, part.iri))
            g.add((iri, CKB.participant, URIRef(c.agents[p["actor"]])))
            g.add((part.iri, RDF.type, CKB.Participation))
            g.add((part.iri, RDFS.label, Literal(p["label"], lang="en")))
            for prop, o in part.props:
                g.add((part.iri, prop, o))
            for words in p.get("as") or []:
                g.add((part.iri, CKB.asDescribed, Literal(words)))
