"""ACLED kept whole: every column has a home, and a re-export gives back every value of the file."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from kb import KnowledgeBase
from kb.cli.main import main
from kb.imports import run_import
from kb.namespaces import CKB as NS_CKB
from kb.namespaces import CKBR as NS_CKBR
from tests.conftest import FIXTURES, GED_BANGLADESH

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = FIXTURES / "acled-syria-sample.csv"  # numeric codes, both date formats
SYRIA20 = FIXTURES / "acled-syria-20.csv"  # 31 columns, text inter and interaction codes
GED = GED_BANGLADESH
CKB, CKBR = str(NS_CKB), str(NS_CKBR)
P = f"PREFIX ckb: <{CKB}>\nPREFIX ckbr: <{CKBR}>\n"


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


@pytest.fixture(scope="module")
def kb():
    with KnowledgeBase.open(memory=True) as k:
        k.ensure_loaded()
        run_import(k, SAMPLE, "acled")
        run_import(k, SYRIA20, "acled")
        yield k


@pytest.mark.parametrize("path", [SAMPLE, SYRIA20], ids=["numeric", "text"])
def test_reexport_gives_back_every_value(kb, path: Path) -> None:
    from kb.export.acledcsv import export_acled

    original = path.read_text(encoding="utf-8")
    exported = export_acled(kb, f"https://w3id.org/conflict-kb/graph/import/acled-{path.stem}")
    assert exported.splitlines()[0] == original.splitlines()[0]  # the same columns in the same order
    before, after = rows_of(original), rows_of(exported)
    assert len(after) == len(before)
    for a, b in zip(before, after, strict=True):
        assert {k: v for k, v in a.items() if v != b[k]} == {}, a["event_id_cnty"]


def test_syria20_has_all_31_columns_and_every_one_is_filled_somewhere() -> None:
    rows = rows_of(SYRIA20.read_text(encoding="utf-8"))
    assert len(rows) == 20 and len(rows[0]) == 31
    assert all(any(r[c] for r in rows) for c in rows[0])  # no column is empty throughout


def test_text_inter_codes_type_new_actors(kb) -> None:
    got = {str(r["l"]): str(r["t"]) for r in kb.query(P + """
        SELECT ?l ?t WHERE { GRAPH <https://w3id.org/conflict-kb/graph/import/acled-acled-syria-20> {
          ?a ckb:codedAs ?code ; a ?t ; rdfs:label ?l } }""").rows}
    # inter1 "Rebel group", not a bare ckb:Actor ("Jaish al Nasr" now joins the article's Al-Nasr Army)
    assert got["Islamic State (Syria)"] == CKB + "RebelGroup"
    assert got["Protesters (Syria)"] == CKB + "PersonGroup"


def test_inter_code_of_a_matched_actor_is_kept_on_its_participation(kb) -> None:
    # Hezbollah matched the article's actor (alias table); the row's coding of it stays with the row
    rows = kb.query(P + """SELECT ?code WHERE {
        ckbr:acled-SYR91006 ckb:hasParticipation ?p . ?p ckb:participationActor ckbr:Hezbollah ;
        ckb:actorTypeCode ?code }""").rows
    assert [str(r["code"]) for r in rows] == [CKBR + "acled-inter-8"]


def test_every_code_column_has_a_concept_with_a_label(kb) -> None:
    rows = kb.query(P + """SELECT ?p ?code ?label WHERE {
        ckbr:acled-SYR91011 ?p ?code . ?code a skos:Concept .
        OPTIONAL { ?code skos:prefLabel ?label } }""").rows
    got = {str(r["p"]).removeprefix(CKB): (str(r["code"]), r["label"]) for r in rows}
    for prop in ("interactionCode", "disorderType", "timePrecisionCode", "geoPrecisionCode"):
        assert prop in got and got[prop][1] is not None, prop
    assert str(got["interactionCode"][1]) == "Rebel group-Protesters"
    # "Political violence; Demonstrations": two concepts
    assert len([r for r in rows if str(r["p"]) == CKB + "disorderType"]) == 2


def test_associated_actors_keep_their_side(kb) -> None:
    rows = kb.query(P + """SELECT ?name ?side ?role WHERE {
        ckbr:acled-SYR91017 ckb:hasParticipation ?p . ?p ckb:asDescribed ?name ; ckb:side ?side ;
        ckb:participantRole ?role }""").rows
    got = {str(r["name"]): (str(r["side"]).removeprefix(CKB), str(r["role"]).removeprefix(CKB)) for r in rows}
    assert got == {"Military Forces of Israel (2019-)": ("SideA", "Actor1"),
                   "Islamic Revolutionary Guard Corps": ("SideB", "Actor2"),
                   "Hezbollah": ("SideB", "AssociatedActor")}


def test_imported_acled_passes_the_quality_checks(kb) -> None:
    for check in sorted((ROOT / "ontology" / "checks").glob("*.rq")):
        assert kb.query(check.read_text(encoding="utf-8"), timeout=120).rows == [], check.stem


def test_cli_export_acled_csv(tmp_path: Path, capsys) -> None:
    store = tmp_path / "store"
    assert main(["--store", str(store), "import", "--format", "acled", str(SYRIA20)]) == 0
    out = tmp_path / "back.csv"
    assert main(["--store", str(store), "export", "--format", "acled-csv", "--graph", "acled-acled-syria-20",
                 "-o", str(out)]) == 0
    assert rows_of(out.read_text(encoding="utf-8")) == rows_of(SYRIA20.read_text(encoding="utf-8"))


@pytest.mark.skipif(not GED.is_file(), reason="UCDP GED Bangladesh sample not available")
def test_ged_rows_keep_their_own_place_spellings() -> None:
    with GED.open(encoding="utf-8", newline="") as f:
        spelled = {(r["id"], r["adm_1"]) for r in csv.DictReader(f) if r["adm_1"]}
    assert {"Barisal Division", "Barisāl Division"} <= {s for _, s in spelled}
    with KnowledgeBase.open(memory=True) as k:
        k.ensure_loaded()
        run_import(k, GED, "ucdp-ged")
        rows = k.query(P + "SELECT ?id ?a WHERE { ?e ckb:ucdpId ?id ; ckb:codedAdmin1 ?a }",
                       limit=10_000).rows
    assert {(str(r["id"]), str(r["a"])) for r in rows} == spelled
