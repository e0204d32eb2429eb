"""Every claim is tied to the source's exact words; nothing is asserted that the text does not say."""

from __future__ import annotations

import re
from datetime import datetime, time
from pathlib import Path

import pytest
from rdflib import RDF, RDFS, Graph, Literal, Namespace
from rdflib.namespace import XSD

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "data" / "sources"
DATA = ROOT / "data" / "russia-iran-infighting-syria.ttl"
CKB = Namespace("https://w3id.org/conflict-kb/ontology#")
CKBR = Namespace("https://w3id.org/conflict-kb/id/")
TEXT = (SOURCES / "russia-iran-infighting-syria.txt").read_text(encoding="utf-8")

QUOTES = """
PREFIX ckb: <https://w3id.org/conflict-kb/ontology#>
SELECT ?quote ?exact ?start ?end ?file WHERE {
  ?quote ckb:exact ?exact ; ckb:startOffset ?start ; ckb:endOffset ?end ;
         ckb:inDocument/ckb:textFile ?file .
}"""


@pytest.fixture(scope="module")
def data() -> Graph:
    g = Graph()
    g.parse(DATA, format="turtle")
    return g


def test_every_quote_matches_its_offsets_in_the_store(kb) -> None:
    rows = kb.query(QUOTES).rows
    assert len(rows) >= 40
    for row in rows:
        text = (SOURCES / str(row["file"])).read_text(encoding="utf-8")
        exact, start, end = str(row["exact"]), int(row["start"]), int(row["end"])
        assert exact in text, f"{row['quote']}: not in {row['file']}: {exact!r}"
        assert text[start:end] == exact, f"{row['quote']}: offsets {start}:{end} do not match"


def test_offsets_in_the_file_are_typed_non_negative_integers(data: Graph) -> None:
    # xsd:integer, as the store would keep them anyway (Oxigraph canonicalises derived types).
    for prop in (CKB.startOffset, CKB.endOffset):
        values = list(data.objects(None, prop))
        assert values and all(v.datatype == XSD.integer and int(v) >= 0 for v in values), prop


def test_every_claim_has_a_quote_in_the_source(kb) -> None:
    rows = kb.query("""
        PREFIX ckb: <https://w3id.org/conflict-kb/ontology#>
        PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
        SELECT ?claim (COUNT(?q) AS ?n) WHERE {
          ?claim a/rdfs:subClassOf* ckb:Claim .
          OPTIONAL { ?claim ckb:hasQuote ?q . ?q ckb:exact ?e . }
        } GROUP BY ?claim""").rows
    assert len(rows) >= 40
    assert [str(r["claim"]) for r in rows if int(r["n"]) == 0] == []


def test_document_names_its_text_and_the_loader_adds_it(kb) -> None:
    rows = kb.query("""
        PREFIX ckb: <https://w3id.org/conflict-kb/ontology#>
        SELECT ?doc ?file ?text WHERE {
          ?doc a ckb:Document ; ckb:textFile ?file . OPTIONAL { ?doc ckb:fullText ?text . } }""").rows
    assert [str(r["file"]) for r in rows] == ["russia-iran-infighting-syria.txt"]
    assert str(rows[0]["text"]) == TEXT


def test_full_text_is_not_in_the_data_file(data: Graph) -> None:
    assert list(data.objects(None, CKB.fullText)) == []
    assert all(len(str(o)) < 400 for o in data.objects())


def test_hedge_words_come_from_the_quoted_sentence(data: Graph) -> None:
    hedged = list(data.subject_objects(CKB.hedgeText))
    assert len(hedged) >= 8
    for claim, word in hedged:
        spans = [str(data.value(q, CKB.exact)) for q in data.objects(claim, CKB.hasQuote)]
        # the hedge word is in the quote, or in the same sentence of the text
        sentences = [s for s in re.split(r"(?<=[.:])\s", TEXT) if any(sp in s for sp in spans)]
        assert any(str(word) in s for s in spans + sentences), (claim, word)


def test_characterisations_are_claims_not_types(data: Graph) -> None:
    words = {str(w) for w in data.objects(None, CKB.characterisationText)}
    assert words == {"dictator", "narco-terrorist proxy", "terrorist group", "al Qaeda-linked", "elite"}
    for claim in data.subjects(CKB.characterisationText, None):
        assert (claim, RDF.type, CKB.Characterisation) in data
        assert (claim, CKB.hasQuote, None) in data
    # no type or label anywhere carries the editorial words
    for cls in set(data.objects(None, RDF.type)):
        assert not re.search(r"terror|dictator|qaeda|elite|narco", str(cls), re.I), cls
    assert set(data.objects(CKBR.Hezbollah, RDF.type)) == {CKB.ArmedGroup}
    assert set(data.objects(CKBR.BasharAlAssad, RDF.type)) == {CKB.Leader}


def test_dates_only_where_the_source_gives_them(data: Graph) -> None:
    # dates are xsd:dateTime at the start of the day: xsd:date is outside the OWL 2 datatype map
    assert not {o for o in data.objects() if getattr(o, "datatype", None) == XSD.date}
    dates = {o for o in data.objects() if getattr(o, "datatype", None) == XSD.dateTime}
    assert dates, "the source dates one thing: September 2015"
    for d in dates:
        value = d.toPython()
        assert isinstance(value, datetime) and value.time() == time(0, 0) and value.tzinfo is None
        assert f"{value:%B} {value.year}" in TEXT, f"{d} is not a date the source gives"
    # the relative times stay text
    times = {str(t) for t in data.objects(None, CKB.timeText)}
    assert {"Friday", "Wednesday", "in recent days", "this week"} <= times
    for t in times:
        assert t in TEXT, t


def test_numbers_come_from_the_text(data: Graph) -> None:
    count_props = [CKB[f"{kind}{bound}"] for kind in ("strength", "fatalities")
                   for bound in ("Low", "Best", "High")]
    counts = [int(o) for p in count_props for o in data.objects(None, p)]
    assert counts == [25000]
    assert "at least 25,000" in TEXT
    assert (CKBR["event-iran-deploys-25000"], CKB.quantityText, Literal("at least 25,000")) in data


def test_one_preferred_label_per_named_entity(data: Graph) -> None:
    named = {s for s in data.subjects(RDF.type, None)
             if str(s).startswith(str(CKBR)) and str(s)[len(str(CKBR)):][:1].isupper()}
    assert len(named) > 40
    for entity in named:
        assert len(list(data.objects(entity, RDFS.label))) == 1, entity
