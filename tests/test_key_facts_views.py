"""The key-facts views of event, place, source and document pages, and the facts that reach actors
through the model's links: their answers against SPARQL over the same store, and their caps."""

from __future__ import annotations

import pytest

from kb import KnowledgeBase
from kb.namespaces import CKB, CKBR
from kb.views import placefacts
from kb.views.chains import downstream_claims
from kb.views.docfacts import contribution
from kb.views.eventfacts import event_facts
from kb.views.facts import key_facts
from kb.views.saidfacts import said
from kb.views.through import reached
from tests.conftest import IDLIB, SYRIA


@pytest.fixture(scope="module")
def loaded(syria_loaded: KnowledgeBase) -> KnowledgeBase:
    return syria_loaded


def events_within(kb: KnowledgeBase, place: str) -> set[str]:
    return {str(r["e"]) for r in kb.query(f"""SELECT ?e WHERE {{
      ?e <{CKB.place}>/<{CKB.partOfPlace}>* <{place}> }}""").rows}


def test_air_support_reaches_hezbollah_through_the_militants_with_its_claims(loaded: KnowledgeBase) -> None:
    facts = [f for f in reached(loaded, str(CKBR.Hezbollah))
             if f.group == "backed-by" and f.other == str(CKBR.Russia)]
    assert [f.relation for f in facts] == [str(CKBR["backing-russia-air-support"])]
    groups = dict((k, fs) for k, _h, fs in key_facts(loaded, str(CKBR.Hezbollah)).groups)
    shown = [f for f in groups["backed-by"] if f.relation == str(CKBR["backing-russia-air-support"])]
    supporting = {str(r["c"]) for r in loaded.query(
        f"SELECT ?c WHERE {{ ?c <{CKB.supports}> <{CKBR['backing-russia-air-support']}> }}").rows}
    assert shown and set(shown[0].claims) == supporting != set()
    assert "air support" in shown[0].detail and shown[0].time_text == "Since September 2015"


def test_the_deployment_reaches_iran_with_its_hedges(loaded: KnowledgeBase) -> None:
    groups = dict((k, fs) for k, _h, fs in key_facts(loaded, str(CKBR.Iran)).groups)
    deployed = [f for f in groups["deployed"] if f.relation == str(CKBR["event-iran-deploys-25000"])]
    assert len(deployed) == 1
    assert {"at least", "reportedly"} <= set(deployed[0].hedges)
    assert deployed[0].claims == [str(CKBR["claim-25000-fighters"])]


def test_units_fights_reach_the_whole(loaded: KnowledgeBase) -> None:
    russia = dict((k, fs) for k, _h, fs in key_facts(loaded, str(CKBR.Russia)).groups)
    strike = [f for f in russia["units-fought"] if f.relation == str(CKBR["event-russian-strike"])]
    assert [f.other for f in strike] == [str(CKBR.IranianMilitias)]
    assert "its unit Russian military attacked" in strike[0].detail and strike[0].anonymous_only
    army = dict((k, fs) for k, _h, fs in key_facts(loaded, str(CKBR.SyrianMilitary)).groups)
    infighting = [f for f in army["units-fought"] if f.relation == str(CKBR["event-infighting"])]
    assert len(infighting) == 1 and infighting[0].detail.startswith("infighting: its units")


def test_planned_and_coerced_events_are_never_fights(loaded: KnowledgeBase) -> None:
    groups = dict((k, fs) for k, _h, fs in key_facts(loaded, str(CKBR.Russia)).groups)
    forced = {f.other for f in groups["forced"]}
    assert str(CKBR.Hezbollah) in forced and str(CKBR.ProIranForces) in forced
    fights = {f.relation for k in ("fought", "attacked") for f in groups.get(k, [])}
    assert not fights & {str(CKBR["event-hezbollah-vacate"]), str(CKBR["event-loosening-grip"])}
    planned = dict((k, fs) for k, _h, fs in key_facts(loaded, str(CKBR.SyrianRepublicanGuard)).groups)
    assert [f.other for f in planned["planned"]] == [str(CKBR.RussianBackedRegimeDivisions)]
    assert event_facts(loaded, str(CKBR["event-future-battles"])).kind == "planned"


def test_event_sides_keep_backers_out_of_the_fight(loaded: KnowledgeBase) -> None:
    e = event_facts(loaded, str(CKBR["event-infighting"]))
    assert e is not None and e.kind == "fought"
    assert [[p.iri for p in s.direct] for s in e.sides] == [
        [str(CKBR.RussianBackedRegimeDivisions)], [str(CKBR.SyrianRepublicanGuard)]]
    assert [[p.iri for p in s.backers] for s in e.sides] == [[str(CKBR.Russia)], [str(CKBR.Iran)]]
    assert event_facts(loaded, str(CKBR.Iran)) is None  # not an event


def test_ucdp_event_facts_come_from_the_row(loaded: KnowledgeBase) -> None:
    e = event_facts(loaded, str(CKBR["ucdp-ged-990003"]))
    assert e is not None and e.deaths == [("low", "3"), ("best", "4"), ("high", "10")]
    assert e.when == ["between 2019-05-01 and 2019-05-31 (day precision)"]
    # the dataset's governorate and country are the article's (a reviewed decision; the country by name)
    assert e.places[0][-2:] == [(IDLIB, "Idlib province"), (SYRIA, "Syria")]
    assert e.sources is not None and e.sources.claims == [str(CKBR["ucdp-ged-990003-claim"])]


def test_place_facts_count_the_events_within_sub_places(loaded: KnowledgeBase) -> None:
    p = placefacts.place_facts(loaded, IDLIB)
    assert p is not None and not p.at_least and p.complete
    assert {e.iri for e in p.events} == events_within(loaded, IDLIB) and p.total == 3
    assert p.by_year == [("2017", 1), ("2018", 1), ("2019", 1)]
    assert sum(n for _i, _l, n in p.subplaces) == 3
    syria = placefacts.place_facts(loaded, SYRIA)
    # the article's events in Syria and the dataset's four, one Syria
    assert syria.total == len(events_within(loaded, SYRIA)) >= 4 + 3
    # "which events happened in Idlib" on the article's Idlib page: the dataset's events, and who holds it
    assert [c[0] for c in p.controllers] == [str(CKBR.IdlibArmedGroup)]


def test_place_facts_say_at_least_when_a_cap_cuts(loaded: KnowledgeBase,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(placefacts, "MAX_EVENTS", 2)
    p = placefacts.place_facts(loaded, IDLIB)
    assert p.at_least and p.total == 2
    monkeypatch.setattr(placefacts, "MAX_EVENTS", 10_000)
    monkeypatch.setattr(placefacts, "MAX_DETAILED", 2)
    p = placefacts.place_facts(loaded, IDLIB)
    assert p.total == 3 and not p.complete and p.by_year == [] and p.by_type == []


@pytest.mark.parametrize("who", ["BasNews", "AhmedRahal", "AnonymousSyrianOfficial"])
def test_said_finds_the_claims_the_source_page_lists(loaded: KnowledgeBase, who: str) -> None:
    found = said(loaded, str(CKBR[who]))
    expected, _cut = downstream_claims(loaded, str(CKBR[who]))
    assert found is not None and found.total == len(expected) > 0
    assert {c.iri for c in found.claims} <= set(expected)
    assert all(c.quotes for c in found.claims)


def test_contribution_of_the_article_and_of_the_import(loaded: KnowledgeBase) -> None:
    doc = contribution(loaded, str(CKBR["doc-russia-iran-infighting-syria"]))
    quoted = loaded.query(f"""SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE {{
      ?c <{CKB.hasQuote}>/<{CKB.inDocument}> <{CKBR['doc-russia-iran-infighting-syria']}> }}""").rows
    stated = loaded.query(f"""SELECT (COUNT(DISTINCT ?f) AS ?n) WHERE {{
      ?c <{CKB.hasQuote}>/<{CKB.inDocument}> <{CKBR['doc-russia-iran-infighting-syria']}> .
      ?f <{CKB.statedBy}> ?c }}""").rows
    assert doc is not None and doc.claims == int(quoted[0]["n"]) and doc.facts == int(stated[0]["n"])
    dataset = contribution(loaded, str(CKBR["import-ucdp-ged-ucdp-ged-syria-synthetic"]))
    assert dataset is not None and (dataset.rows, dataset.claims, dataset.events) == (4, 4, 4)
    assert contribution(loaded, str(CKBR.Iran)) is None


def test_the_views_answer_the_same_by_queries(loaded: KnowledgeBase, monkeypatch: pytest.MonkeyPatch) -> None:
    """A remote engine has no store in this process: each lookup is then a short query."""
    def answers() -> list[object]:
        return [event_facts(loaded, str(CKBR["event-infighting"])),
                event_facts(loaded, str(CKBR["ucdp-ged-990002"])),
                placefacts.place_facts(loaded, IDLIB), said(loaded, str(CKBR.BasNews)),
                contribution(loaded, str(CKBR["doc-russia-iran-infighting-syria"])),
                contribution(loaded, str(CKBR["import-ucdp-ged-ucdp-ged-syria-synthetic"])),
                sorted((f.group, f.relation, f.other, f.detail)
                       for f in reached(loaded, str(CKBR.Hezbollah)))]
    by_lookups = answers()
    monkeypatch.setattr(loaded, "use_lookups", False, raising=False)
    assert answers() == by_lookups


def test_what_a_spokesman_said_reaches_his_group(loaded: KnowledgeBase) -> None:
    found = said(loaded, str(CKBR.AlNasrArmy))
    expected, _cut = downstream_claims(loaded, str(CKBR.AlNasrArmySpokesman))
    assert found is not None and {c.iri for c in found.claims} == set(expected) != set()
    assert set(found.via.values()) == {"unnamed spokesman of Al-Nasr Army"}
