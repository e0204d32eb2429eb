"""The article's model says only what the text says, and who says it (issue 21 #6)."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Graph, URIRef

from kb import KnowledgeBase

ROOT = Path(__file__).resolve().parent.parent
TEXT = (ROOT / "data" / "sources" / "russia-iran-infighting-syria.txt").read_text(encoding="utf-8")
DATA = (ROOT / "data" / "russia-iran-infighting-syria.ttl").read_text(encoding="utf-8")
CHECK = (ROOT / "ontology" / "checks" / "facts-without-claim.rq").read_text(encoding="utf-8")
PREFIXES = """PREFIX ckb: <https://w3id.org/conflict-kb/ontology#>
PREFIX ckbr: <https://w3id.org/conflict-kb/id/>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
"""
CKBR = "https://w3id.org/conflict-kb/id/"
ASDESCRIBED = URIRef("https://w3id.org/conflict-kb/ontology#asDescribed")


def who_states(kb: KnowledgeBase, subject: str, predicate: str, obj: str) -> dict[str, str]:
    """Each claim stating the fact, with the agent of its primary source (the claim's own if none)."""
    rows = kb.query(PREFIXES + f"""SELECT ?claim ?primary WHERE {{
        ?fact ckb:factSubject {subject} ; ckb:factPredicate {predicate} ; ckb:factObject {obj} ;
              ckb:statedBy ?claim .
        OPTIONAL {{ ?claim prov:hadPrimarySource/prov:wasAttributedTo ?upstream }}
        ?claim prov:wasAttributedTo ?own . BIND(COALESCE(?upstream, ?own) AS ?primary) }}""").rows
    return {str(r["claim"]).removeprefix(CKBR): str(r["primary"]).removeprefix(CKBR) for r in rows}


def test_bas_news_is_iraqi_kurdish_by_the_jerusalem_post_wording(kb: KnowledgeBase) -> None:
    by = who_states(kb, "ckbr:BasNews", "ckb:basedIn", "ckbr:IraqiKurdistan")
    assert by == {"claim-basnews-iraqi-kurdish": "JerusalemPost"}
    anonymous = kb.query((ROOT / "ontology" / "queries" / "l-anonymous-only-facts.rq").read_text()).rows
    assert not any("BasNews" in str(r["fact"]) for r in anonymous)


def test_who_says_al_nasr_army_is_a_rebel_group(kb: KnowledgeBase) -> None:
    by = who_states(kb, "ckbr:AlNasrArmy", "rdf:type", "ckb:RebelGroup")
    assert by == {"claim-al-nasr-rebel-group": "ArticlePublisher"}  # the article's own apposition
    quote = kb.query(PREFIXES + "SELECT ?q WHERE { ckbr:claim-al-nasr-rebel-group ckb:hasQuote/ckb:exact ?q }"
                     )
    assert "the rebel group Al-Nasr Army" in str(quote.rows[0]["q"])
    # the text never puts Al-Nasr Army in the Syrian opposition, so the model does not either
    assert not kb.query(PREFIXES + "ASK { ckbr:AlNasrArmy ?p ckbr:SyrianOpposition }").boolean


def test_the_guard_identity_is_a_claim_of_its_own(kb: KnowledgeBase) -> None:
    assert kb.query(PREFIXES + """ASK { ckbr:claim-identity-republican-guard a ckb:Report ;
        ckb:supports ckbr:SyrianRepublicanGuard ;
        prov:hadPrimarySource/prov:wasAttributedTo ckbr:AhramOnline }""").boolean
    # the Guard's loyalty to Assad no longer rests only on outlets that never named the Guard
    by = who_states(kb, "ckbr:loyalty-republican-guard-assad", "ckb:loyalActor", "ckbr:SyrianRepublicanGuard")
    assert by["claim-identity-republican-guard"] == "AhramOnline" and "claim-infighting-erupted" in by
    anonymous = kb.query((ROOT / "ontology" / "queries" / "l-anonymous-only-facts.rq").read_text()).rows
    assert not any("loyalty-republican-guard" in str(r["fact"]) for r in anonymous)


def test_who_said_in_recent_days(kb: KnowledgeBase) -> None:
    by = who_states(kb, "ckbr:event-infighting", "ckb:timeText", '"in recent days"')
    assert set(by) == {"claim-infighting-erupted", "claim-deadly-battles"}


def test_as_described_values_are_verbatim() -> None:
    # read as RDF: the Turtle is compiled from the article's sheet, laid out as the serialiser likes
    values = [str(o) for o in Graph().parse(data=DATA, format="turtle").objects(None, ASDESCRIBED)]
    assert len(values) > 30
    assert [v for v in values if v not in TEXT] == []


CKB = "https://w3id.org/conflict-kb/ontology#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"


@pytest.mark.parametrize("triple", [
    f"<https://example.org/x> <{RDF_TYPE}> <{CKB}RebelGroup> .",
    f"<https://example.org/x> <{CKB}timeText> \"last week\" .",
    f"<https://example.org/x> <{CKB}affiliatedWith> <https://example.org/y> .",
])
def test_facts_without_claim_covers_types_and_texts(tmp_path: Path, triple: str) -> None:
    extra = tmp_path / "unstated.nt"
    extra.write_text(triple + "\n", encoding="utf-8")
    with KnowledgeBase.open(memory=True) as k:
        k.load([*sorted((ROOT / "ontology").glob("*.ttl")), *sorted((ROOT / "data").glob("*.ttl")), extra])
        for inferred in (False, True):
            rows = k.query(CHECK, inferred=inferred).rows
            assert [str(r["subject"]) for r in rows] == ["https://example.org/x"], rows


def test_type_facts_survive_export(kb: KnowledgeBase) -> None:
    """The type facts name rdf:type as an object: Turtle and TriG must not write it as 'a' there."""
    import pyoxigraph as ox

    for fmt, parser in (("turtle", ox.RdfFormat.TURTLE), ("trig", ox.RdfFormat.TRIG)):
        body = kb.export(format=fmt, graph="all")
        objects = {q.object for q in ox.parse(body, format=parser)}
        assert ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type") in objects, fmt
