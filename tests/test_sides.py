"""Who fought whom: actors are paired across the sides of a violent event, never with their own side.

Answers asserted on the bundled article (Ahram, 2019: Russia-Iran infighting in Syria) and on imported
UCDP GED and ACLED rows, whose importers code the sides.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from kb import KnowledgeBase
from kb.imports import run_import
from kb.namespaces import CKB, CKBR
from kb.views.browse import labels
from kb.views.facts import actor_edges, key_facts
from tests.conftest import GED_BANGLADESH

ROOT = Path(__file__).resolve().parent.parent
GED = GED_BANGLADESH
if not GED.is_file():
    GED = ROOT / "tests" / "fixtures" / "ucdp-ged-19.1-bangladesh.csv"
ACLED = ROOT / "tests" / "fixtures" / "acled-syria-sample.csv"

DIVISIONS, GUARD = str(CKBR.RussianBackedRegimeDivisions), str(CKBR.SyrianRepublicanGuard)
RUSSIA, IRAN = str(CKBR.Russia), str(CKBR.Iran)
INFIGHTING, STRIKE = str(CKBR["event-infighting"]), str(CKBR["event-russian-strike"])
NOT_FIGHTS = {str(CKBR[e]) for e in ("event-future-battles", "event-reinforcements",
                                      "event-hezbollah-vacate", "event-loosening-grip",
                                      "event-undercut-iran")}


def _groups(kb: KnowledgeBase, actor: str) -> dict[str, list]:
    return {key: items for key, _h, items in key_facts(kb, actor).groups}


def test_the_bundle_fought_list_is_the_infighting_between_the_two_sides(kb: KnowledgeBase) -> None:
    edges, cut = actor_edges(kb, ["fought"])
    assert not cut
    assert {(frozenset((e.subject, e.other)), e.relation) for e in edges} == {
        (frozenset((DIVISIONS, GUARD)), INFIGHTING)}
    pairs = {frozenset((e.subject, e.other)) for e in edges}
    assert frozenset((RUSSIA, DIVISIONS)) not in pairs and frozenset((IRAN, GUARD)) not in pairs
    assert frozenset((RUSSIA, IRAN)) not in pairs  # they clashed only through the sides they back


def test_indirect_parties_are_shown_as_backers_of_their_side(kb: KnowledgeBase) -> None:
    names = labels(kb, [RUSSIA, IRAN, DIVISIONS, GUARD])
    (edge,) = actor_edges(kb, ["fought"])[0]
    assert {edge.subject, edge.other} == {DIVISIONS, GUARD}
    backer = {DIVISIONS: RUSSIA, GUARD: IRAN}
    assert edge.detail == (f"{names[backer[edge.subject]]}, through {names[edge.subject]}, against "
                           f"{names[backer[edge.other]]}, through {names[edge.other]}")
    # and it keeps the infighting's sources: Ahram and the several outlets, "reportedly"
    assert edge.claims and edge.outlets and not edge.anonymous_only


def test_the_russian_strike_reads_attacked_with_anonymous_only_sourcing(kb: KnowledgeBase) -> None:
    edges, _cut = actor_edges(kb, ["attacked"])
    assert [(e.subject, e.other, e.relation) for e in edges] == [
        (str(CKBR.RussianMilitary), str(CKBR.IranianMilitias), STRIKE)]
    assert edges[0].group == "attacked" and edges[0].anonymous_only
    every, _cut = actor_edges(kb, None)
    assert STRIKE not in {e.relation for e in every if e.group == "fought"}


def test_planned_and_coerced_events_are_never_fights(kb: KnowledgeBase) -> None:
    every, _cut = actor_edges(kb, None)
    assert not NOT_FIGHTS & {e.relation for e in every}
    for actor in (RUSSIA, IRAN, DIVISIONS, GUARD, str(CKBR.Hezbollah), str(CKBR.ProIranForces)):
        groups = _groups(kb, actor)
        shown = {f.relation for g in ("fought", "through", "attacked", "attacked-by")
                 for f in groups.get(g, [])}
        assert not NOT_FIGHTS & shown, actor


def test_key_facts_pair_by_side(kb: KnowledgeBase) -> None:
    names = labels(kb, [DIVISIONS, GUARD])
    russia = _groups(kb, RUSSIA)
    assert "fought" not in russia  # Russia fought no one with its own fighters in the article
    through = {f.other: f for f in russia["through"]}
    assert set(through) == {IRAN, GUARD}
    assert all(f.detail == f"through {names[DIVISIONS]}" for f in through.values())
    iran = _groups(kb, IRAN)
    assert "fought" not in iran and {f.other for f in iran["through"]} == {RUSSIA, DIVISIONS}
    assert [(f.other, f.relation) for f in _groups(kb, GUARD)["fought"]] == [(DIVISIONS, INFIGHTING)]
    assert [(f.other, f.relation) for f in _groups(kb, DIVISIONS)["fought"]] == [(GUARD, INFIGHTING)]
    militias = _groups(kb, str(CKBR.IranianMilitias))
    assert [(f.other, f.relation) for f in militias["attacked-by"]] == [
        (str(CKBR.RussianMilitary), STRIKE)]


@pytest.fixture(scope="module")
def imported() -> Iterator[KnowledgeBase]:
    with KnowledgeBase.open(memory=True) as k:
        k.ensure_loaded()
        run_import(k, ACLED, "acled")
        if GED.is_file():
            run_import(k, GED, "ucdp-ged")
        yield k


def _sides(kb: KnowledgeBase, events: list[str]) -> dict[str, dict[str, str]]:
    """Each imported event's actors by the side the file codes them on: ACLED's side, UCDP's
    side_a/side_b, or (UCDP one-sided violence) attacker as side A and target as side B."""
    a, b = str(CKB.SideA), str(CKB.SideB)
    rows = kb.query(f"""SELECT ?ev ?actor ?side WHERE {{
      VALUES ?ev {{ {' '.join(f'<{e}>' for e in events)} }}
      ?ev <{CKB.hasParticipation}> ?p . ?p <{CKB.participationActor}> ?actor .
      {{ ?p <{CKB.side}> ?side }} UNION {{ ?p <{CKB.participantRole}> ?role .
        VALUES (?role ?side) {{ (<{a}> <{a}>) (<{b}> <{b}>) (<{CKB.Attacker}> <{a}>)
                               (<{CKB.TargetedParty}> <{b}>) }} }} }}""", inferred=False).rows
    out: dict[str, dict[str, str]] = {}
    for r in rows:
        out.setdefault(str(r["ev"]), {})[str(r["actor"])] = str(r["side"])
    return out


def test_imported_rows_pair_their_coded_sides(imported: KnowledgeBase) -> None:
    edges, _cut = actor_edges(imported, ["fought", "attacked"])
    mine = [e for e in edges if "/ucdp-ged-" in e.relation or "/acled-" in e.relation]
    assert mine
    coded = _sides(imported, sorted({e.relation for e in mine}))
    for e in mine:
        side = coded[e.relation]
        assert side[e.subject] != side[e.other], e.relation
        if e.group == "attacked":
            assert side[e.subject] == str(CKB.SideA), e.relation  # the attacker strikes the target
    kinds = imported.query(f"""SELECT ?ev ?t WHERE {{ VALUES ?ev {{ {' '.join(
        f'<{e}>' for e in {x.relation for x in mine})} }} ?ev a ?t }}""", inferred=False).rows
    one_sided = {str(r["ev"]) for r in kinds if str(r["t"]) == str(CKB.OneSidedViolence)}
    assert one_sided and all(e.group == "attacked" for e in mine if e.relation in one_sided)
    # a UCDP row has one actor a side: one pair per row, never the actor with itself
    ucdp = Counter(e.relation for e in mine if "/ucdp-ged-" in e.relation)
    assert not GED.is_file() or (ucdp and set(ucdp.values()) == {1})


def test_acled_associated_actors_join_their_actors_side(imported: KnowledgeBase) -> None:
    # SYR90001: the Syrian military (with Hezbollah alongside) against the IRGC
    event = str(CKBR["acled-SYR90001"])
    edges = [e for e in actor_edges(imported, ["fought"])[0] if e.relation == event]
    names = labels(imported, {x for e in edges for x in (e.subject, e.other)})
    pairs = {frozenset((names[e.subject], names[e.other])) for e in edges}
    assert len(pairs) == 2 and all(any("Revolutionary Guard" in n for n in p) for p in pairs), pairs
    assert not any(any("Hezbollah" in n for n in p) and any("Syria" in n for n in p) for p in pairs)
