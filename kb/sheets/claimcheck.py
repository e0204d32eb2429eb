"""Checking a sheet's claims: ids, hedges, their statements, what they name, their quotes against
the text (re-anchored against the last import) and what they state."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .anchor import Unplaced, place
from .facts import check_states

if TYPE_CHECKING:
    from .check import Checked


def check_claims(c: Checked, claims: list[dict[str, Any]], stmts: dict[str, Any],
            recorded: dict[str, tuple[int, str, str]]) -> None:
    """Record the problems of the claims: ids, hedges, chains, references, quotes and what they state."""
    ids: dict[str, int] = {}
    for i, cl in enumerate(claims):
        if cl["id"] in ids:
            c.problem(("claims", i, "id"), f"claim id {cl['id']!r} is also claim {ids[cl['id']] + 1}'s")
        ids.setdefault(cl["id"], i)
        for h in hedges(cl):
            if h.lower() not in c.vocab.hedges:
                c.problem(("claims", i, "hedge"),
                          f"unknown hedge {h!r} (the KB's: {', '.join(c.vocab.shown['hedge'])})")
        if "hedge_text" in cl and len(_listed(cl["hedge_text"])) != len(hedges(cl)):
            c.problem(("claims", i, "hedge_text"), "one hedge_text per hedge")
        if "via" in cl and "quoting" in cl:
            c.problem(("claims", i), "a claim is either via: (drawn from) or quoting: a statement, not both")
        for up in ("via", "quoting"):
            if up in cl and cl[up] not in stmts:
                c.problem(("claims", i, up), f"{cl[up]!r} is not a statement of this sheet")
        for field_ in ("supports", "about", "mentions"):
            for j, value in enumerate(cl.get(field_) or []):
                c.ref(("claims", i, field_, j), value)
        for j, value in enumerate(cl.get("names") or []):
            if value not in c.agents and value not in c.places and value not in c.bad_agents:
                c.problem(("claims", i, "names", j), f"{value!r} is no agent or place of this sheet")
        if "part_of" in cl and cl["part_of"] not in {x["id"] for x in claims}:
            c.problem(("claims", i, "part_of"), f"{cl['part_of']!r} is not a claim of this sheet")
        if cl["kind"] == "characterisation":
            if "characterises" not in cl or "words" not in cl:
                c.problem(("claims", i), "a characterisation needs characterises: and words:")
            else:
                c.name(("claims", i, "characterises"), cl["characterises"])
        elif not any(cl.get(f) for f in ("states", "supports", "about", "mentions", "names")):
            c.problem(("claims", i), "a claim must state something (states:, or supports:, about:, "
                      "mentions:, names:)")
        if c.text_path is not None:
            _anchor(c, ("claims", i), i, cl, recorded.get(cl.get("quote_id", cl["id"])))
            for j, more in enumerate(cl.get("more_quotes") or []):
                _anchor(c, ("claims", i, "more_quotes", j), (i, j), more, recorded.get(more["id"]))
        for j, fact in enumerate(cl.get("states") or []):
            check_states(c, ("claims", i, "states", j), fact)


def hedges(cl: dict[str, Any]) -> list[str]:
    """A claim's hedges: one, or a list."""
    return _listed(cl.get("hedge", []))


def _listed(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _anchor(c: Checked, at: tuple[Any, ...], slot: Any, q: dict[str, Any],
            last: tuple[int, str, str] | None) -> None:
    """Place one quote of a claim in the text, noting a move since the last import."""
    try:
        a = place(c.text, q["quote"], q.get("prefix"), q.get("suffix"), q.get("occurrence"),
                  q.get("start", last[0] if last else None), last[1:] if last else None)
    except Unplaced as err:
        c.problem((*at, "quote"), str(err))
        return
    c.anchors[slot] = a
    if a.moved_from is not None:
        assert c.sheet is not None
        c.notes.append(c.sheet.at((*at, "quote"), f"note: re-anchored: the text changed; the quote was at "
                                  f"{a.moved_from}, is now at {a.start}"))
