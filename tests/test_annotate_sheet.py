"""kb.sheets.edit: a claim added, changed and withdrawn lands in the document's annotation sheet and
in the store together; a bad one changes neither; the sheet alone rebuilds the same graph."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from kb import KnowledgeBase
from kb.errors import KBError
from kb.sheets import edit
from kb.sheets.importer import SheetProblems, import_sheet

SHEETS = Path(__file__).resolve().parent / "fixtures" / "sheets"
CKB = "https://w3id.org/conflict-kb/ontology#"
CKBR = "https://w3id.org/conflict-kb/id/"
DOC = CKBR + "doc-vantor-basin"
GRAPH = "https://w3id.org/conflict-kb/graph/import/sheet-vantor-basin-annotations"
QUOTE = "the Kessani Home Guard relies on volunteers from across the basin"


@pytest.fixture
def kb() -> Iterator[KnowledgeBase]:
    """The bundled KB with the fiction fixture's sheet imported (its document to annotate)."""
    with KnowledgeBase.open(memory=True) as k:
        k.load()
        import_sheet(k, SHEETS / "vantor-basin.yaml")
        yield k


def _annotation(doc: edit.Document, **change: object) -> edit.Annotation:
    start = doc.text.index(QUOTE)
    a = edit.Annotation(QUOTE, start, doc.text[start - 32:start], doc.text[start + len(QUOTE):][:32],
                        "report", "reportedly", "", [CKBR + "actor-irena-vosk"],
                        [{"relation": "backs", "term": "funding",
                          "actors": [CKBR + "actor-kingdom-of-sorve", CKBR + "actor-kessani-home-guard"]}])
    for k, v in change.items():
        setattr(a, k, v)
    return a


def _triples(kb: KnowledgeBase, claim: str) -> set[tuple[str, str]]:
    rows = kb.query(f"SELECT ?p ?o WHERE {{ GRAPH <{GRAPH}> {{ <{claim}> ?p ?o }} }}", inferred=False).rows
    return {(str(r["p"]), str(r["o"])) for r in rows}


def test_add_change_withdraw(kb: KnowledgeBase, tmp_path: Path) -> None:
    doc = edit.document(kb, DOC)
    cid = edit.add(kb, tmp_path, doc, _annotation(doc))
    claim = f"{CKBR}claim-vantor-basin-{cid}"
    sheet = yaml.safe_load(edit.sheet_path(tmp_path, "vantor-basin").read_text(encoding="utf-8"))
    assert [c["quote"] for c in sheet["claims"]] == [QUOTE]
    held = _triples(kb, claim)
    assert (RDF_TYPE, CKB + "Report") in held and (CKB + "hedge", CKB + "Reportedly") in held
    assert (CKB + "supports", CKBR + "backing-kingdom-of-sorve-kessani-home-guard-fundingsupport") in held
    # the quote is placed where it was selected, with its context (TextQuoteSelector)
    q = kb.query(f"""SELECT ?s ?pre WHERE {{ <{claim}> <{CKB}hasQuote> ?q . ?q <{CKB}startOffset> ?s ;
                     <{CKB}prefix> ?pre }}""").rows[0]
    assert int(str(q["s"])) == doc.text.index(QUOTE) and doc.text[:int(str(q["s"]))].endswith(str(q["pre"]))

    rivals = [CKBR + "actor-republic-of-dalmark", CKBR + "actor-kingdom-of-sorve"]
    edit.change(kb, tmp_path, doc, cid, _annotation(doc, kind="assessment", hedge="", states=[
        {"relation": "rivalry", "actors": rivals}]))
    held = _triples(kb, claim)
    assert (RDF_TYPE, CKB + "Assessment") in held and (RDF_TYPE, CKB + "Report") not in held
    assert not any(p == CKB + "hedge" for p, _ in held)
    assert (CKB + "supports", CKBR + "rivalry-kingdom-of-sorve-republic-of-dalmark") in held

    edit.withdraw(kb, tmp_path, doc, cid, "Ada Analyst", "misread")
    held = _triples(kb, claim)
    assert not any(p == RDF_TYPE and o.startswith(CKB) for p, o in held)  # no longer a claim
    assert not any(p in (CKB + "supports", CKB + "hasQuote") for p, _ in held)
    assert any(p == PROV + "invalidatedAtTime" for p, _ in held)
    who = kb.query(f"""SELECT ?name WHERE {{ <{claim}> <{PROV}wasInvalidatedBy> ?a .
                       ?a <{PROV}wasAssociatedWith> ?w . ?w <{RDFS_LABEL}> ?name }}""")
    assert [str(r["name"]) for r in who.rows] == ["Ada Analyst"]
    sheet = edit.sheet_path(tmp_path, "vantor-basin")
    record = yaml.safe_load(sheet.read_text(encoding="utf-8"))["claims"][0]
    assert record["withdrawn"]["by"] == "Ada Analyst" and record["quote"] == QUOTE  # kept, not deleted
    with pytest.raises(edit.EditError, match="withdrawn"):
        edit.change(kb, tmp_path, doc, cid, _annotation(doc))


def test_bad_claim_changes_nothing(kb: KnowledgeBase, tmp_path: Path) -> None:
    doc = edit.document(kb, DOC)
    edit.add(kb, tmp_path, doc, _annotation(doc))
    path = edit.sheet_path(tmp_path, "vantor-basin")
    before, graphs = path.read_bytes(), kb.graphs()
    with pytest.raises(SheetProblems, match="unknown hedge 'bogus'"):
        edit.add(kb, tmp_path, doc, _annotation(doc, hedge="bogus"))
    with pytest.raises(edit.EditError, match="not the quote"):
        edit.add(kb, tmp_path, doc, _annotation(doc, start=3))
    with pytest.raises(edit.EditError, match="not an actor"):
        edit.add(kb, tmp_path, doc, _annotation(doc, chain=[DOC]))
    assert path.read_bytes() == before and kb.graphs() == graphs
    assert sorted(p.name for p in path.parent.iterdir()) == ["annotations.yaml", "vantor-basin.txt"]


def test_store_failure_leaves_the_sheet(kb: KnowledgeBase, tmp_path: Path) -> None:
    """A store that refuses the write (read-only) leaves the sheet file as it was."""
    store = tmp_path / "store"
    with KnowledgeBase.open(store) as k:
        k.load()
        import_sheet(k, SHEETS / "vantor-basin.yaml")
        doc = edit.document(k, DOC)
        edit.add(k, tmp_path, doc, _annotation(doc))
    before = edit.sheet_path(tmp_path, "vantor-basin").read_bytes()
    with KnowledgeBase.open(store, read_only=True) as k, pytest.raises(KBError, match="read-only"):
        edit.add(k, tmp_path, doc, _annotation(doc, kind="assessment"))
    assert edit.sheet_path(tmp_path, "vantor-basin").read_bytes() == before


def test_sheet_rebuilds_the_graph(kb: KnowledgeBase, tmp_path: Path) -> None:
    """`ckb import` of the annotation sheet alone gives a rebuilt store the same graph."""
    doc = edit.document(kb, DOC)
    cid = edit.add(kb, tmp_path, doc, _annotation(doc))
    edit.add(kb, tmp_path, doc, _annotation(doc, quote="Oren Tal", start=doc.text.index("Oren Tal"),
                                            prefix="", suffix="", kind="characterisation",
                                            characterises=CKBR + "actor-oren-tal"))
    edit.withdraw(kb, tmp_path, doc, cid, "Ada Analyst")
    held = set(kb.backend.quads(GRAPH))
    with KnowledgeBase.open(memory=True) as fresh:
        fresh.load()
        import_sheet(fresh, SHEETS / "vantor-basin.yaml")
        result = import_sheet(fresh, edit.sheet_path(tmp_path, "vantor-basin"))
        assert result.graph == GRAPH
        assert set(fresh.backend.quads(GRAPH)) == held


RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
PROV = "http://www.w3.org/ns/prov#"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"


def test_no_node_gets_a_second_label(kb: KnowledgeBase, tmp_path: Path) -> None:
    """What the annotation graph says about a node the store already names (the document, its
    publisher, a relation, the import run) carries the same label, so no page shows two names."""
    doc = edit.document(kb, DOC)
    edit.add(kb, tmp_path, doc, _annotation(doc))
    rows = kb.query(f"""SELECT ?s ?mine ?other WHERE {{ GRAPH <{GRAPH}> {{ ?s <{RDFS_LABEL}> ?mine }}
        GRAPH ?g {{ ?s <{RDFS_LABEL}> ?other }} FILTER (?g != <{GRAPH}> && STR(?other) != STR(?mine)) }}""",
                    inferred=False).rows
    assert not rows, [(str(r["s"]), str(r["mine"]), str(r["other"])) for r in rows]
