"""kb.views.browse: describe, neighbourhood, search and resolve on real stores (no mocks)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kb import KBError, KnowledgeBase
from kb.errors import NotFound
from kb.views.browse import check_iri, local_name

ID = "https://w3id.org/conflict-kb/id/"
CKB = "https://w3id.org/conflict-kb/ontology#"

ONTOLOGY = """\
@prefix ckb: <https://w3id.org/conflict-kb/ontology#> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
ckb:Actor a owl:Class ; rdfs:label "Actor" .
ckb:ArmedGroup a owl:Class ; rdfs:subClassOf ckb:Actor ; rdfs:label "Armed group" .
ckb:backedBy a owl:ObjectProperty ; rdfs:label "backed by" .
ckb:foughtWith a owl:ObjectProperty .
"""
DATA = """\
@prefix ckb: <https://w3id.org/conflict-kb/ontology#> .
@prefix ckbr: <https://w3id.org/conflict-kb/id/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
ckbr:a a ckb:ArmedGroup ; rdfs:label "Hezbollah" ; skos:prefLabel "Hizb" ;
    skos:altLabel "Party of God" ; skos:definition "Lebanese armed group."@en ;
    ckb:backedBy ckbr:iran ; ckb:note [ rdfs:label "blank detail" ] .
ckbr:b rdfs:label "Hezbollah fighters" ; ckb:backedBy ckbr:a .
ckbr:c rdfs:label "Lebanese Hezbollah unit" ; ckb:foughtWith ckbr:b .
ckbr:d rdfs:label "Prohezbollah militia" .
ckbr:e skos:altLabel "HEZBOLLAH" ; rdfs:label "Hizbullah (alias only)" .
ckbr:iran skos:prefLabel "Iran" ; ckb:backedBy ckbr:far .
ckbr:far rdfs:label "Far away" .
ckbr:twin1 rdfs:label "Twin" . ckbr:twin2 rdfs:label "Twin" .
"""
INFERRED = """\
@prefix ckb: <https://w3id.org/conflict-kb/ontology#> .
@prefix ckbr: <https://w3id.org/conflict-kb/id/> .
ckbr:a a ckb:Actor, ckb:ArmedGroup .
ckbr:b ckb:foughtWith ckbr:c .
"""


@pytest.fixture(scope="module")
def mini(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KnowledgeBase]:
    """A memory KB with a small ontology, data and inferred graph."""
    root = tmp_path_factory.mktemp("browse")
    files = {root / "ontology" / "conflict.ttl": ONTOLOGY, root / "data" / "mini.ttl": DATA,
             root / "data" / "inferred" / "inferred.ttl": INFERRED}
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    with KnowledgeBase.open(memory=True, workers=1) as kb:
        kb.load(list(files))
        yield kb


def test_describe_labels_types_and_groups(mini):
    d = mini.describe(ID + "a")
    assert d.label == "Hezbollah"  # rdfs:label beats skos:prefLabel
    assert d.alt_labels == ["Party of God"]
    assert d.definition == "Lebanese armed group."
    assert {t.iri: t.label for t in d.types} == {CKB + "ArmedGroup": "Armed group",
                                                 CKB + "Actor": "Actor"}
    out = {g.iri: g for g in d.outgoing}
    backed = out[CKB + "backedBy"]
    assert backed.label == "backed by"
    assert [(str(v.term), v.label, v.inferred) for v in backed.values] == [
        (ID + "iran", "Iran", False)]  # skos:prefLabel when there is no rdfs:label
    types = {str(v.term): v.inferred for v in out["http://www.w3.org/1999/02/22-rdf-syntax-ns#type"]
             .values}
    assert types == {CKB + "ArmedGroup": False, CKB + "Actor": True}  # in both graphs = asserted
    note = out[CKB + "note"].values[0]
    assert note.details == (("label", "blank detail"),)
    assert out[CKB + "note"].label == "note"  # no label: the local name
    incoming = {g.iri: [str(v.term) for v in g.values] for g in d.incoming}
    assert incoming == {CKB + "backedBy": [ID + "b"]}


def test_describe_inferred_switch(mini):
    d = mini.describe(ID + "c")
    fought = {g.iri: g for g in d.incoming}[CKB + "foughtWith"].values
    assert [(str(v.term), v.inferred) for v in fought] == [(ID + "b", True)]
    assert not mini.describe(ID + "c", inferred=False).incoming


def test_describe_unknown_and_malicious_iris(mini):
    with pytest.raises(NotFound):
        mini.describe(ID + "nobody")
    for bad in (ID + "a> ?p ?o } #", ID + 'a" ', "not an iri", ID + "a\n", "", ID + "{x}"):
        with pytest.raises(KBError, match="not a valid IRI"):
            mini.describe(bad)
        with pytest.raises(KBError, match="not a valid IRI"):
            mini.neighbourhood(bad)


def test_search_ranking(mini):
    hits = mini.search("hezbollah")
    assert [h.iri for h in hits] == [ID + "a", ID + "e", ID + "b", ID + "c", ID + "d"]
    assert [h.match for h in hits] == ["exact", "exact", "prefix", "word", "substring"]
    assert hits[1].field == "altLabel" and hits[1].matched == "HEZBOLLAH"
    assert hits[1].label == "Hizbullah (alias only)"
    assert {t.iri for t in hits[0].types} == {CKB + "Actor", CKB + "ArmedGroup"}
    assert mini.search("HEZBOLLAH", limit=2) == hits[:2]
    assert mini.search("party of") [0].iri == ID + "a"
    assert mini.search("   ") == []


def test_search_text_is_never_injected(mini):
    for text in ('") } SELECT * { ?s ?p ?o } #', "\\", '"""', "'", "a\nb", "}"):
        assert mini.search(text) == []


def test_neighbourhood(mini):
    n = mini.neighbourhood(ID + "a", depth=1)
    ids = {node["id"] for node in n["nodes"]}
    assert ids == {ID + "a", ID + "iran", ID + "b"}
    root = next(node for node in n["nodes"] if node["root"])
    assert root["label"] == "Hezbollah" and CKB + "Actor" in root["types"]
    edge = next(e for e in n["edges"] if e["target"] == ID + "iran")
    assert edge == {"id": edge["id"], "source": ID + "a", "target": ID + "iran",
                    "predicate": CKB + "backedBy", "label": "backed by", "inferred": False}
    deeper = mini.neighbourhood(ID + "a", depth=2)
    assert {ID + "far", ID + "c"} <= {node["id"] for node in deeper["nodes"]}
    fought = {(e["source"], e["target"]): e["inferred"] for e in deeper["edges"]
              if e["predicate"] == CKB + "foughtWith"}
    assert fought == {(ID + "c", ID + "b"): False, (ID + "b", ID + "c"): True}
    capped = mini.neighbourhood(ID + "a", depth=2, limit=2)
    assert len(capped["nodes"]) == 2 and capped["truncated"]
    assert all(e["source"] in {x["id"] for x in capped["nodes"]} for e in capped["edges"])
    with pytest.raises(KBError):
        mini.neighbourhood(ID + "a", depth=9)


def test_resolve(mini):
    assert mini.resolve(ID + "a") == ID + "a"
    assert mini.resolve(f"<{ID}a>") == ID + "a"
    assert mini.resolve("ckbr:iran") == ID + "iran"
    assert mini.resolve("Party of God") == ID + "a"
    assert mini.resolve("hezbollah") == ID + "a"  # the label beats another entity's alias
    with pytest.raises(KBError, match="ambiguous"):
        mini.resolve("Twin")
    with pytest.raises(NotFound, match="did you mean"):
        mini.resolve("Hezbollah fight")
    with pytest.raises(NotFound):
        mini.resolve(ID + "nobody")
    with pytest.raises(KBError):
        mini.resolve("   ")


def test_iri_helpers():
    assert check_iri("urn:x:y") == "urn:x:y"
    assert local_name(CKB + "Actor") == "Actor" and local_name(ID + "a/") == "a"
    with pytest.raises(KBError):
        check_iri("https://x.org/a b")


def test_bundled_hezbollah(kb):
    hits = kb.search("Hezbollah")
    assert hits and hits[0].match == "exact"
    top = hits[0]
    assert "hezbollah" in top.label.lower()
    d = kb.describe(top.iri)
    assert d.label == top.label and d.types
    assert d.outgoing or d.incoming
    n = kb.neighbourhood(top.iri)
    assert any(node["root"] and node["id"] == top.iri for node in n["nodes"])
    assert len(n["nodes"]) > 1 and n["edges"]
    assert kb.resolve("Hezbollah") == top.iri
    with pytest.raises(KBError, match="not a valid IRI"):
        kb.describe(top.iri + '> ?p ?o . } DELETE WHERE { ?s ?p ?o } #"')


def test_labels_are_read_again_after_a_write(fresh_kb: KnowledgeBase, tmp_path) -> None:
    from kb.views.browse import labels

    first, second = tmp_path / "a.ttl", tmp_path / "b.ttl"
    first.write_text('<http://e/x> <http://www.w3.org/2000/01/rdf-schema#label> "Old" .\n', encoding="utf-8")
    second.write_text('<http://e/x> <http://www.w3.org/2000/01/rdf-schema#label> "New" .\n', encoding="utf-8")
    fresh_kb.import_file(first, name="labels")
    assert labels(fresh_kb, ["http://e/x"]) == {"http://e/x": "Old"}
    assert labels(fresh_kb, ["http://e/x", "http://e/y"]) == {"http://e/x": "Old", "http://e/y": "y"}
    fresh_kb.import_file(second, name="labels")  # replaces that import: the label changes
    assert labels(fresh_kb, ["http://e/x"]) == {"http://e/x": "New"}
