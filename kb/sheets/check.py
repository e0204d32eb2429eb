"""Checking a sheet: the schema, the agents against the KB's actors, the chain of statements, the
quotes against the text. Every problem is one line with its position; nothing is written."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
from rdflib import URIRef

from kb.imports.common import slug
from kb.namespaces import CKBR

from .anchor import Anchor
from .claimcheck import check_claims
from .events import check_events
from .facts import date
from .source import Problem, Sheet, SheetSyntaxError, read_sheet
from .vocab import Vocab, load_vocab

SCHEMA = Path(__file__).with_name("sheet.schema.json")


@cache
def schema() -> dict[str, Any]:
    """The sheet's JSON Schema."""
    return json.loads(SCHEMA.read_text(encoding="utf-8"))


@dataclass
class Checked:
    """A sheet as checked: its problems, and what the compiler needs when there are none."""

    sheet: Sheet | None
    problems: list[Problem] = field(default_factory=list)
    notes: list[Problem] = field(default_factory=list)
    text: str = ""
    text_path: Path | None = None
    agents: dict[str, str] = field(default_factory=dict)  # agent key -> actor IRI
    new_agents: set[str] = field(default_factory=set)  # keys of agents minted by this sheet
    bad_agents: set[str] = field(default_factory=set)  # already reported: their uses are not again
    bad_events: set[str] = field(default_factory=set)  # events whose definition has a problem
    places: dict[str, str] = field(default_factory=dict)  # place key -> place IRI (all new)
    # claim index (or (index, n) for its more_quotes) -> where the quote is
    anchors: dict[Any, Anchor] = field(default_factory=dict)
    roots: dict[str, str] = field(default_factory=dict)  # statement key -> its chain's first statement
    vocab: Vocab = field(default_factory=Vocab)

    def mint(self, kind: str, key: str) -> URIRef:
        """The IRI of a claim, quote, stmt (statement), event or relation the sheet names by ``key``:
        with the document id in it, unless the sheet keeps short ids (document: short_ids: true)."""
        assert self.sheet is not None
        if kind == "relation":
            return CKBR[key]
        doc = self.sheet.data["document"]
        return CKBR[f"{kind}-{key}" if doc.get("short_ids") else f"{kind}-{doc['id']}-{key}"]

    def ref(self, where: tuple[Any, ...], value: str) -> URIRef | None:
        """What a claim supports, is about or mentions: an agent, place or event key, an event's
        participant (EVENT/AGENT), or the id of a relation a claim of the sheet states."""
        from .events import event_iri, participation_iri

        assert self.sheet is not None
        data = self.sheet.data
        events = data.get("events") or {}
        if value in self.agents:
            return URIRef(self.agents[value])
        if value in self.places:
            return URIRef(self.places[value])
        if value in events:
            return event_iri(self, value)
        if "/" in value and value.split("/", 1)[0] in events:
            key, actor = value.split("/", 1)
            actors = [p["actor"] for p in events[key]["participants"]]
            if actor in actors:
                return participation_iri(self, key, actors.index(actor) + 1)
        ids = {body.get("id") for cl in data["claims"] for fact in cl.get("states") or []
               for name, body in fact.items() if isinstance(body, dict) and name not in ("event", "clash")}
        if value in ids:
            return self.mint("relation", value)
        self.problem(where, f"{value!r} is no agent, place, event (or EVENT/AGENT) of this sheet, nor the id "
                     "of a relation one of its claims states")
        return None

    def problem(self, where: tuple[Any, ...], message: str) -> None:
        """Record a problem at the node ``where``."""
        assert self.sheet is not None
        self.problems.append(self.sheet.at(where, message))

    def name(self, where: tuple[Any, ...], value: str, kind: str = "actor") -> str | None:
        """Resolve an agent (or place) key or a KB actor's (or place's) label to an IRI; a problem if
        it is none, or more than one."""
        mine, table = ((self.agents, self.vocab.names) if kind == "actor"
                       else (self.places, self.vocab.place_names))
        if value in mine:
            return mine[value]
        if value in self.bad_agents:
            return None
        found = sorted(table.get(value.lower(), ()))
        if len(found) == 1:
            return found[0]
        if found:
            self.problem(where, f"{value!r} matches {len(found)} KB {kind}s: "
                         + " and ".join(f"<{a}> ({self.vocab.labels.get(a, '?')})" for a in found[:3]))
        else:
            whose = "an agent" if kind == "actor" else "a place"
            self.problem(where, f"unknown {kind} {value!r}: not {whose} of this sheet "
                         f"nor a KB {kind}'s label")
        return None


def check_sheet(path: Path, kb: Any, graph: str = "", sheet: Sheet | None = None,
                recorded: dict[str, tuple[int, str, str]] | None = None) -> Checked:
    """Check the sheet at ``path`` against the KB (ignoring ``graph``, the one it would replace);
    ``recorded`` holds each claim's quote as last imported (start, prefix, suffix), to re-anchor."""
    if sheet is None:
        try:
            sheet = read_sheet(path)
        except SheetSyntaxError as err:
            return Checked(None, [err.problem])
    c = Checked(sheet, list(sheet.duplicates))
    errors = sorted(jsonschema.Draft202012Validator(schema()).iter_errors(sheet.data),
                    key=lambda e: sheet.at(tuple(e.absolute_path), "").line)
    for e in errors:
        where = tuple(e.absolute_path)
        if e.validator == "additionalProperties" and isinstance(e.instance, dict):
            extra = [k for k in e.instance if k not in e.schema.get("properties", {})]
            if extra:
                where = (*where, ("key", extra[0]))
                c.problem(where, f"unknown field {extra[0]!r}")
                continue
        if e.validator == "pattern" and "description" in e.schema:  # the form in words, not a regex
            if isinstance(_at(sheet.data, where), dict):  # a key (propertyNames): point at the key
                where = (*where, ("key", e.instance))
            c.problem(where, f"{e.instance!r} is not {e.schema['description'].split(':')[0]}")
            continue
        c.problem(where, e.message)
    if c.problems:
        return c  # the rest assumes the shape is right
    if "date" in sheet.data["document"]:
        try:
            date(sheet.data["document"]["date"])
        except ValueError as err:
            c.problem(("document", "date"), str(err))
    c.vocab = load_vocab(kb, graph)
    data = sheet.data
    _text(c, path, data["document"])
    _agents(c, data["agents"])
    _places(c, data.get("places") or {})
    if data["document"]["publisher"] not in data["agents"]:
        c.problem(("document", "publisher"), f"publisher {data['document']['publisher']!r} is not an agent")
    if data["document"].get("subheadline_by", data["document"]["publisher"]) not in data["agents"]:
        c.problem(("document", "subheadline_by"), f"{data['document']['subheadline_by']!r} is not an agent")
    _statements(c, data.get("statements") or {}, data["agents"])
    check_events(c)
    check_claims(c, data["claims"], data.get("statements") or {}, recorded or {})
    return c


def _at(data: Any, where: tuple[Any, ...]) -> Any:
    """The value at a path of keys and indexes."""
    for step in where:
        data = data[step]
    return data


def _text(c: Checked, path: Path, doc: dict[str, Any]) -> None:
    p = (path.parent / doc["text"]).resolve()
    if not p.is_relative_to(path.parent.resolve()):
        # the sheet says which text it quotes, not which file on the machine to read
        c.problem(("document", "text"), f"the text file {doc['text']!r} must be in the sheet's folder")
        return
    if not p.is_file():
        c.problem(("document", "text"), f"no text file {doc['text']!r} beside the sheet ({p})")
        return
    c.text_path, c.text = p, p.read_text(encoding="utf-8")


def _agents(c: Checked, agents: dict[str, Any]) -> None:
    for key, a in agents.items():
        before = len(c.problems)
        _agent(c, key, a)
        if len(c.problems) > before:
            c.bad_agents.add(key)


def _agent(c: Checked, key: str, a: dict[str, Any]) -> None:
    """Resolve one agent: a KB actor by IRI or by its one label, or a new actor of a known type."""
    label = a["actor"]
    if "id" in a:  # the sheet's own actor, under the IRI it gives (never matched to a KB actor)
        if "type" not in a or a["type"].lower() not in c.vocab.actor_classes:
            c.problem(("agents", key, "type"), f"unknown actor type {a.get('type')!r}")
            return
        c.agents[key] = str(CKBR[a["id"]])
        c.new_agents.add(key)
        return
    if label.startswith(("http://", "https://")):
        c.agents[key] = label
        return
    found = sorted(c.vocab.names.get(label.lower(), ()))
    if len(found) > 1:
        c.problem(("agents", key, "actor"), f"{label!r} matches {len(found)} KB actors: "
                  + " and ".join(f"<{x}> ({c.vocab.labels.get(x, '?')})" for x in found[:3])
                  + "; write the one meant as its IRI")
    elif found:
        c.agents[key] = found[0]
    elif "type" not in a:
        c.problem(("agents", key, "actor"), f"{label!r} is no KB actor's label; give type: to add it")
    elif a["type"].lower() not in c.vocab.actor_classes:
        c.problem(("agents", key, "type"), f"unknown actor type {a['type']!r}")
    else:
        c.agents[key] = str(CKBR) + "actor-" + slug(label)
        c.new_agents.add(key)


def _places(c: Checked, places: dict[str, Any]) -> None:
    """New places, each of a known place class; ``in:`` names the place it is part of."""
    for key, p in places.items():
        if p["type"].lower() not in c.vocab.place_classes:
            c.problem(("places", key, "type"), f"unknown place type {p['type']!r}")
            c.bad_agents.add(key)
        else:
            c.places[key] = str(CKBR[p["id"]]) if "id" in p else str(CKBR) + "place-" + slug(p["place"])
    for key, p in places.items():
        if "in" in p:
            c.name(("places", key, "in"), p["in"], "place")
    for key, a in c.sheet.data["agents"].items():  # type: ignore[union-attr]
        if "member_of" in a:
            c.name(("agents", key, "member_of"), a["member_of"])


def _statements(c: Checked, stmts: dict[str, Any], agents: dict[str, Any]) -> None:
    for key, s in stmts.items():
        if s["by"] not in agents:
            c.problem(("statements", key, "by"), f"{s['by']!r} is not an agent of this sheet")
        if "quoting" in s and "from" in s:
            c.problem(("statements", key), "a statement is either quoting: or from: another, not both")
        up = s.get("quoting") or s.get("from")
        if up is not None and up not in stmts:
            c.problem(("statements", key, "quoting" if "quoting" in s else "from"),
                      f"{up!r} is not a statement of this sheet")
        for agent, role in (s.get("roles") or {}).items():
            if agent not in agents:
                c.problem(("statements", key, "roles", ("key", agent)),
                          f"{agent!r} is not an agent of this sheet")
            if role.lower() not in c.vocab.individuals("role"):
                c.problem(("statements", key, "roles", agent),
                          f"unknown role {role!r} (the KB's: {', '.join(c.vocab.shown['role'])})")
        if "at" in s:
            c.name(("statements", key, "at"), s["at"], "place")
    looped: set[str] = set()
    for key in stmts:
        seen = [key]
        while True:
            up = stmts[seen[-1]].get("quoting") or stmts[seen[-1]].get("from")
            if up is None or up not in stmts:
                c.roots[key] = seen[-1]
                break
            if up in seen:
                loop = seen[seen.index(up):]
                if up == key and not looped & set(loop):  # one line per loop, at its first statement
                    c.problem(("statements", ("key", key)), "the chain loops: " + " -> ".join([*loop, up]))
                    looped.update(loop)
                break
            seen.append(up)
