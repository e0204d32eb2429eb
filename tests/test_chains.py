"""Source chains, key facts and the claims explorer over the bundled data and synthetic stores.

Answers are checked against the ontology's vocabulary and the source's words, not against
counts that change when the data is revised.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from kb import KnowledgeBase
from kb.errors import KBError
from kb.namespaces import CKB, CKBR
from kb.store.loader import project_root
from kb.views import claimlist
from kb.views.chains import MAX_DEPTH, MAX_WIDTH, downstream_claims, source_chains, walk
from kb.views.claimfacets import facet_counts
from kb.views.claimlist import run
from kb.views.claims import check_filters
from kb.views.facts import actor_edges, key_facts

PROV = "http://www.w3.org/ns/prov#"
TEXT = (project_root() / "data" / "sources" / "russia-iran-infighting-syria.txt").read_text(encoding="utf-8")


def claim_with_quote(kb: KnowledgeBase, words: str) -> str:
    """The claim whose exact quote contains ``words`` (words of the source text)."""
    assert words in TEXT
    rows = kb.query(f"""SELECT ?c WHERE {{ ?c <{CKB.hasQuote}>/<{CKB.exact}> ?e .
        FILTER(CONTAINS(STR(?e), "{words}")) FILTER NOT EXISTS {{ ?c a <{CKB.Characterisation}> }} }}
        ORDER BY ?c""").rows
    assert rows, words
    return str(rows[0]["c"])


def test_strike_chain_reads_from_the_official_to_the_article(kb: KnowledgeBase) -> None:
    claim = claim_with_quote(kb, "blew up")
    chain = source_chains(kb, [claim])[claim]
    primary = {str(r["a"]) for r in kb.query(
        f"SELECT ?a WHERE {{ <{claim}> <{PROV}hadPrimarySource>/<{PROV}wasAttributedTo> ?a }}").rows}
    assert primary and {a for a, _ in chain.first_speakers} == primary
    line = chain.lines[0]
    assert line[-1].verb in ("reported in", "quoted in") and not line[-1].agents
    # The text: "an anonymous Syrian official told ... Bas News ..., the Jerusalem Post reported,
    # echoing other outlets": the hops carry those verbs, and the outlets are named in the text.
    verbs = [hop.verb for hop in line[1:-1]]
    assert "told" in verbs and "echoed by" in verbs
    for hop in line[1:-1]:
        assert all(label in TEXT for _, label in hop.agents), hop.agents
    assert chain.anonymous_only and not chain.own_voice
    assert [label for _, label in chain.outlets] == [label for _, label in line[-2].agents]


def test_claims_without_an_upstream_statement_are_the_articles_own_voice(kb: KnowledgeBase) -> None:
    rows = kb.query(f"""SELECT ?c WHERE {{ ?c a <{CKB.Report}> FILTER NOT EXISTS {{
        ?c <{PROV}wasDerivedFrom>|<{PROV}wasQuotedFrom>|<{PROV}hadPrimarySource> ?x }} }}""").rows
    assert rows
    claims = [str(r["c"]) for r in rows]
    chains = source_chains(kb, claims)
    assert all(chains[c].own_voice and not chains[c].lines for c in claims)


def test_source_page_finds_claims_resting_on_the_anonymous_official_upstream(kb: KnowledgeBase) -> None:
    official = str(CKBR.AnonymousSyrianOfficial)
    found, truncated = downstream_claims(kb, official)
    assert not truncated
    assert claim_with_quote(kb, "blew up") in found
    assert claim_with_quote(kb, "the first time the Russians attacked") in found
    # every claim found really has the official in its chain
    chains = source_chains(kb, list(found))
    for claim in found:
        agents = {a for line in chains[claim].lines for hop in line for a, _ in hop.agents}
        assert official in agents, claim


def test_key_facts_of_hezbollah_say_who_backs_it_and_according_to_whom(kb: KnowledgeBase) -> None:
    facts = key_facts(kb, str(CKBR.Hezbollah))
    groups = {key: items for key, _heading, items in facts.groups}
    # its own backers, and those of the collectives that include it (kb.views.through)
    backers = {str(r["b"]) for r in kb.query(f"""SELECT ?b WHERE {{ ?r <{CKB.backedActor}> ?x ;
        <{CKB.backer}> ?b . VALUES ?link {{ <{CKB.includes}> <{CKB.drawnFrom}> }}
        {{ BIND(<{CKBR.Hezbollah}> AS ?x) }} UNION {{ ?x ?link <{CKBR.Hezbollah}> }} }}""").rows}
    assert {f.other for f in groups["backed-by"]} == backers
    for fact in groups["backed-by"]:
        assert fact.claims and (fact.outlets or fact.own_voice_only)


def test_ally_and_rival_are_shown_together(kb: KnowledgeBase) -> None:
    facts = {key: items for key, _h, items in key_facts(kb, str(CKBR.Russia)).groups}
    both = {f.other for f in facts.get("allied", [])} & {f.other for f in facts.get("rival", [])}
    assert both, "the article calls Russia and Iran both allies and rivals"
    for fact in facts["allied"] + facts["rival"]:
        assert bool(fact.tension) == (fact.other in both)


def test_actor_edges_draw_attackers_towards_targets(kb: KnowledgeBase) -> None:
    edges, _cut = actor_edges(kb, ["attacked"])
    strike = [e for e in edges if e.relation == str(CKBR["event-russian-strike"])]
    assert strike and strike[0].subject == str(CKBR.RussianMilitary)
    assert strike[0].other == str(CKBR.IranianMilitias)
    assert all(e.group == "attacked" for e in edges)


def test_explorer_anonymous_filter_matches_the_vocabulary(kb: KnowledgeBase) -> None:
    listing = run(kb, check_filters({"anonymity": "anonymous"}))
    rows = listing.rows
    assert rows and not listing.truncated and listing.total == len(rows)
    for row in rows:
        agents = kb.query(f"""SELECT ?a (EXISTS {{ ?a a <{CKB.UnnamedAgent}> }} AS ?unnamed) WHERE {{
            <{row.iri}> <{PROV}hadPrimarySource>/<{PROV}wasAttributedTo> ?a }}""").rows
        assert agents and all(r["unnamed"].toPython() for r in agents), row.iri
    assert claim_with_quote(kb, "blew up") in {r.iri for r in rows}


def test_explorer_facets_add_up_and_full_text_finds_quotes(kb: KnowledgeBase) -> None:
    facets, skipped = facet_counts(kb, check_filters({}))
    assert not skipped
    total = sum(n for _v, n in facets["anonymity"])
    listing = run(kb, check_filters({}))
    assert total == len(listing.rows) == listing.total and listing.sorted
    hits = run(kb, check_filters({"q": "BLEW UP"})).rows
    assert hits and all("blew up" in r.quote.lower() for r in hits)


def test_explorer_pages_past_the_sort_limit_cover_every_claim_once(
        kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch) -> None:
    everything = run(kb, check_filters({}))
    monkeypatch.setattr(claimlist, "SORT_LIMIT", 3)  # as if the store held thousands of claims
    seen: list[str] = []
    for offset in range(0, everything.total, 4):
        page = run(kb, check_filters({}), 4, offset)
        assert not page.sorted and "ORDER BY ?l ?claim" not in page.sparql
        assert page.total == everything.total
        seen += [r.iri for r in page.rows]
    assert len(seen) == len(set(seen)) == everything.total
    assert set(seen) == {r.iri for r in everything.rows}


@pytest.mark.parametrize("args", [{"kind": "rumour"}, {"anonymity": "maybe"},
                                  {"source": "not an iri"}, {"actor": "<x>"}])
def test_explorer_rejects_bad_filters(args: dict[str, str]) -> None:
    with pytest.raises(KBError):
        check_filters(args)


class Recorder:
    """A KnowledgeBase wrapper that records every query text (real store underneath)."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb, self.queries = kb, []

    def query(self, sparql: str, **kw: object) -> object:
        self.queries.append(sparql)
        return self.kb.query(sparql, **kw)


UNBOUNDED_PROV = re.compile(r"prov#\w+>\)?[*+]|\)\s*[*+]")


def test_walks_use_no_unbounded_path_over_provenance(kb: KnowledgeBase) -> None:
    rec = Recorder(kb)
    claim = claim_with_quote(kb, "blew up")
    source_chains(rec, [claim])
    downstream_claims(rec, str(CKBR.AnonymousSyrianOfficial))
    key_facts(rec, str(CKBR.Russia))
    assert rec.queries
    for q in rec.queries:
        assert not UNBOUNDED_PROV.search(q), q


@pytest.fixture
def long_chain(tmp_path: Path) -> Iterator[KnowledgeBase]:
    """A synthetic store: one claim whose chain is longer than MAX_DEPTH, one with too many sources."""
    n = MAX_DEPTH + 5
    lines = ["@prefix prov: <http://www.w3.org/ns/prov#> .", f"@prefix ckb: <{CKB}> .",
             "@prefix x: <https://w3id.org/conflict-kb/id/> ."]
    lines.append("x:deep a ckb:Report ; prov:wasDerivedFrom x:s0 .")
    for i in range(n):
        lines.append(f"x:s{i} a ckb:SourceStatement ; prov:wasAttributedTo x:agent{i} ; "
                     f"prov:wasDerivedFrom x:s{i + 1} .")
    lines.append("x:wide a ckb:Report ; prov:wasDerivedFrom " + ", ".join(
        f"x:w{i}" for i in range(MAX_WIDTH + 10)) + " .")
    path = tmp_path / "chain.ttl"
    path.write_text("\n".join(lines), encoding="utf-8")
    with KnowledgeBase.open(memory=True) as k:
        k.import_file(path, name="chain")
        yield k


def test_walk_stops_at_depth_and_width_caps(long_chain: KnowledgeBase) -> None:
    rec = Recorder(long_chain)
    deep = str(CKBR.deep)
    nodes, truncated = walk(rec, [deep])
    assert truncated and len(rec.queries) == MAX_DEPTH + 1
    assert str(CKBR[f"s{MAX_DEPTH + 2}"]) not in nodes
    nodes, truncated = walk(long_chain, [str(CKBR.wide)])
    assert truncated and len(nodes) <= 1 + MAX_WIDTH


@pytest.fixture
def many_claims(tmp_path: Path) -> Iterator[KnowledgeBase]:
    """More claims than one level of the walk holds, each resting on a primary source."""
    lines = ["@prefix prov: <http://www.w3.org/ns/prov#> .", f"@prefix ckb: <{CKB}> .",
             "@prefix x: <https://w3id.org/conflict-kb/id/> ."]
    for i in range(MAX_WIDTH + 20):
        lines.append(f"x:c{i:04d} a ckb:Report ; prov:hadPrimarySource x:p{i:04d} .")
        lines.append(f"x:p{i:04d} a ckb:SourceStatement ; prov:wasAttributedTo x:agent .")
    path = tmp_path / "claims.ttl"
    path.write_text("\n".join(lines), encoding="utf-8")
    with KnowledgeBase.open(memory=True) as k:
        k.import_file(path, name="claims")
        yield k


def test_every_claim_asked_for_gets_its_chain_past_one_level_of_the_walk(many_claims: KnowledgeBase) -> None:
    claims = [str(CKBR[f"c{i:04d}"]) for i in range(MAX_WIDTH + 20)]
    chains = source_chains(many_claims, claims)
    assert set(chains) == set(claims)
    for claim in claims:
        chain = chains[claim]
        assert not chain.own_voice and chain.lines, claim
        assert [a for a, _ in chain.first_speakers] == [str(CKBR.agent)], claim


@pytest.fixture
def crowded_level(tmp_path: Path) -> Iterator[KnowledgeBase]:
    """Ten claims with 50 derivations each, and one claim whose only upstream link is a primary
    source that sorts after them all: the walk's level cap leaves it unread."""
    lines = ["@prefix prov: <http://www.w3.org/ns/prov#> .", f"@prefix ckb: <{CKB}> .",
             "@prefix x: <https://w3id.org/conflict-kb/id/> .",
             "x:far a ckb:Report ; prov:hadPrimarySource x:zzz ."]
    for r in range(10):
        lines.append(f"x:r{r} a ckb:Report ; prov:wasDerivedFrom " + ", ".join(
            f"x:s{r}-{i:02d}" for i in range(50)) + " .")
    path = tmp_path / "crowded.ttl"
    path.write_text("\n".join(lines), encoding="utf-8")
    with KnowledgeBase.open(memory=True) as k:
        k.import_file(path, name="crowded")
        yield k


def test_a_primary_source_past_the_walks_cap_is_truncation(crowded_level: KnowledgeBase) -> None:
    far = str(CKBR.far)
    claims = [far, *(str(CKBR[f"r{r}"]) for r in range(10))]
    chain = source_chains(crowded_level, claims)[far]  # the old walk raised KeyError here
    assert chain.truncated and not chain.own_voice and not chain.lines
