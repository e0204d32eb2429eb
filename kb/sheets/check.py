"""Checking a sheet: the schema, the agents against the KB's actors, the chain of statements, the
quotes against the text. Every problem is one line with its position; nothing is written."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from kb.imports.common import slug
from kb.namespaces import CKBR

from .anchor import Anchor, Unplaced, place
from .facts import check_states, date
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
    places: dict[str, str] = field(default_factory=dict)  # place key -> place IRI (all new)
    anchors: dict[int, Anchor] = field(default_factory=dict)  # claim index -> its place
    roots: dict[str, str] = field(default_factory=dict)  # statement key -> its chain's first statement
    vocab: Vocab = field(default_factory=Vocab)

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
    _statements(c, data.get("statements") or {}, data["agents"])
    _claims(c, data["claims"], data.get("statements") or {}, recorded or {})
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
            c.places[key] = str(CKBR) + "place-" + slug(p["place"])
    for key, p in places.items():
        if "in" in p:
            c.name(("places", key, "in"), p["in"], "place")


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


def _claims(c: Checked, claims: list[dict[str, Any]], stmts: dict[str, Any],
            recorded: dict[str, tuple[int, str, str]]) -> None:
    ids: dict[str, int] = {}
    for i, cl in enumerate(claims):
        if cl["id"] in ids:
            c.problem(("claims", i, "id"), f"claim id {cl['id']!r} is also claim {ids[cl['id']] + 1}'s")
        ids.setdefault(cl["id"], i)
        if "hedge" in cl and cl["hedge"].lower() not in c.vocab.hedges:
            c.problem(("claims", i, "hedge"),
                      f"unknown hedge {cl['hedge']!r} (the KB's: {', '.join(c.vocab.shown['hedge'])})")
        if "via" in cl and cl["via"] not in stmts:
            c.problem(("claims", i, "via"), f"{cl['via']!r} is not a statement of this sheet")
        if cl["kind"] == "characterisation":
            if "characterises" not in cl or "words" not in cl:
                c.problem(("claims", i), "a characterisation needs characterises: and words:")
            else:
                c.name(("claims", i, "characterises"), cl["characterises"])
        elif not cl.get("states"):
            c.problem(("claims", i), "a claim must state something (states:)")
        if c.text_path is not None:
            last = recorded.get(cl["id"])
            try:
                a = place(c.text, cl["quote"], cl.get("prefix"), cl.get("suffix"), cl.get("occurrence"),
                          cl.get("start", last[0] if last else None), last[1:] if last else None)
            except Unplaced as err:
                c.problem(("claims", i, "quote"), str(err))
            else:
                c.anchors[i] = a
                if a.moved_from is not None:
                    assert c.sheet is not None
                    c.notes.append(c.sheet.at(("claims", i, "quote"),
                                   f"note: re-anchored: the text changed; the quote was at {a.moved_from}, "
                                   f"is now at {a.start}"))
        for j, fact in enumerate(cl.get("states") or []):
            check_states(c, ("claims", i, "states", j), fact)
