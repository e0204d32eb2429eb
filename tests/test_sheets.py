"""Claim sheets (kb.sheets): the fiction fixture imports into its own graph with the claims, quotes,
chains and facts it names; validation and every quality check pass; its claims show on the actors'
pages, in the claims explorer and in the reader; importing it again changes nothing."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from kb import KnowledgeBase
from kb.namespaces import import_graph
from kb.sheets.importer import import_sheet
from webui import create_app

ROOT = Path(__file__).resolve().parent.parent
SHEETS = Path(__file__).resolve().parent / "fixtures" / "sheets"
SHEET = SHEETS / "vantor-basin.yaml"
TEXT = SHEETS / "vantor-basin.txt"
GRAPH = import_graph("sheet-vantor-basin")
CKB = "https://w3id.org/conflict-kb/ontology#"
CKBR = "https://w3id.org/conflict-kb/id/"
DOC = CKBR + "doc-vantor-basin"


@pytest.fixture(scope="module")
def sheet_kb() -> Iterator[KnowledgeBase]:
    """The bundled KB with the fixture sheet imported."""
    with KnowledgeBase.open(memory=True) as k:
        k.load()
        result = import_sheet(k, SHEET)
        assert not result.unchanged and result.claims == 13
        yield k


def _held(k: KnowledgeBase) -> set[str]:
    return {str(q) for q in k.backend.quads(None)}


def test_fixture_is_marked_as_fiction() -> None:
    assert TEXT.read_text(encoding="utf-8").startswith("FICTION:")
    assert SHEET.read_text(encoding="utf-8").startswith("# FICTION:")


def test_claims_quotes_and_offsets(sheet_kb: KnowledgeBase) -> None:
    rows = sheet_kb.query(f"""
        SELECT ?claim ?kind ?exact ?start ?end WHERE {{ GRAPH <{GRAPH}> {{
          ?claim a ?kind ; <{CKB}hasQuote> ?q .
          ?q <{CKB}inDocument> <{DOC}> ; <{CKB}exact> ?exact ;
             <{CKB}startOffset> ?start ; <{CKB}endOffset> ?end }} }}""", inferred=False).rows
    got = {str(r["claim"]).removeprefix(CKBR + "claim-vantor-basin-"):
           (str(r["kind"]).removeprefix(CKB), str(r["exact"]), int(str(r["start"])), int(str(r["end"])))
           for r in rows}
    assert set(got) == {"fighting-broke-out", "dalmark-artillery", "sorve-funding", "ongoing",
                        "rivalry-driver", "alliance-could-collapse", "shepherds-and-smugglers",
                        "tal-leads", "loyal-to-council", "third-company", "basin-front", "ford",
                        "shelling-pellamy"}
    # offsets counted by hand in the fixture text (code points, end exclusive)
    assert got["dalmark-artillery"] == (
        "Report", "the Republic of Dalmark has given the Ostrel Brigades artillery support since March 2029",
        422, 510)
    assert got["ongoing"] == ("Report", 'the fighting is "ongoing"', 814, 839)
    assert got["shepherds-and-smugglers"][0] == "Characterisation"
    assert got["shepherds-and-smugglers"][2:] == (1390, 1426)
    assert got["alliance-could-collapse"][0] == "Forecast"
    text = TEXT.read_text(encoding="utf-8")
    for _kind, exact, start, end in got.values():
        assert text[start:end] == exact


def test_chain_of_statements(sheet_kb: KnowledgeBase) -> None:
    rows = sheet_kb.query(f"""
        SELECT ?via ?primary ?speaker ?outlet WHERE {{ GRAPH <{GRAPH}> {{
          <{CKBR}claim-vantor-basin-ongoing> <http://www.w3.org/ns/prov#wasDerivedFrom> ?via ;
              <http://www.w3.org/ns/prov#hadPrimarySource> ?primary .
          ?via <http://www.w3.org/ns/prov#wasQuotedFrom> ?primary ;
               <http://www.w3.org/ns/prov#wasAttributedTo> ?outlet .
          ?primary <http://www.w3.org/ns/prov#wasAttributedTo> ?speaker }} }}""", inferred=False).rows
    assert [(str(r["via"]), str(r["primary"]), str(r["speaker"]), str(r["outlet"])) for r in rows] == [
        (CKBR + "stmt-vantor-basin-courier-officer", CKBR + "stmt-vantor-basin-officer",
         CKBR + "actor-unnamed-officer-of-the-ostrel-brigades", CKBR + "actor-meridian-courier")]


def test_facts_are_stated_by_their_claims_and_forecasts_state_none(sheet_kb: KnowledgeBase) -> None:
    rows = sheet_kb.query(f"""
        SELECT ?s ?p ?o ?claim WHERE {{ GRAPH <{GRAPH}> {{
          ?f a <{CKB}FactStatement> ; <{CKB}factSubject> ?s ; <{CKB}factPredicate> ?p ;
             <{CKB}factObject> ?o ; <{CKB}statedBy> ?claim }} }}""", inferred=False).rows
    stated = {(str(r["s"]).removeprefix(CKBR), str(r["p"]).removeprefix(CKB), str(r["o"]).removeprefix(CKBR),
               str(r["claim"]).removeprefix(CKBR + "claim-vantor-basin-")) for r in rows}
    backing = "backing-republic-of-dalmark-ostrel-brigades-weaponssupport"
    assert (backing, "backer", "actor-republic-of-dalmark", "dalmark-artillery") in stated
    assert (backing, "supportKind", CKB + "WeaponsSupport", "dalmark-artillery") in stated
    assert (backing, "datePrecision", CKB + "MonthPrecision", "dalmark-artillery") in stated
    # the clash's status is stated by both claims that report it
    status = {c for s, p, _o, c in stated if s == "event-vantor-basin-vantor-fighting" and p == "eventStatus"}
    assert status == {"fighting-broke-out", "ongoing"}
    # the alliance: stated by the report only; the forecast is about it
    alliance = {c for s, _p, _o, c in stated if s == "alliance-kingdom-of-sorve-republic-of-dalmark"}
    assert alliance == {"sorve-funding"}
    about = sheet_kb.query(f"ASK {{ <{CKBR}claim-vantor-basin-alliance-could-collapse> <{CKB}about> "
                           f"<{CKBR}alliance-kingdom-of-sorve-republic-of-dalmark> }}", inferred=False)
    assert about.boolean is True
    org = "http://www.w3.org/ns/org#"
    for s, p, o in (("republic-of-dalmark", CKB + "backs", "ostrel-brigades"),
                    ("oren-tal", CKB + "leads", "kessani-home-guard"),
                    ("kessani-home-guard", CKB + "ledBy", "oren-tal"),
                    ("kessani-home-guard", CKB + "loyalTo", "pellamy-council"),
                    ("third-company", org + "unitOf", "ostrel-brigades"),
                    ("ostrel-brigades", org + "memberOf", "basin-front"),
                    ("basin-front", org + "hasMember", "kessani-home-guard"),
                    ("kessani-home-guard", CKB + "controls", "place-the-ford-at-pellamy")):
        obj = CKBR + (o if o.startswith("place-") else "actor-" + o)
        shortcut = sheet_kb.query(
            f"ASK {{ GRAPH <{GRAPH}> {{ <{CKBR}actor-{s}> <{p}> <{obj}> }} }}", inferred=False)
        assert shortcut.boolean is True, (s, p, o)
    assert ("campmembership-kessani-home-guard-basin-front", org + "member", "actor-kessani-home-guard",
            "basin-front") in stated
    place = {(p, o, c) for s_, p, o, c in stated if s_ == "event-vantor-basin-vantor-fighting"}
    assert {("place", "place-vantor-river", "fighting-broke-out"),
            ("place", "place-pellamy", "shelling-pellamy"),
            ("timeText", "by Tuesday", "shelling-pellamy")} <= place
    # what a new actor is, stated by the claims that name it (in a fact, or as a link of their chain)
    rdf_type = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
    assert {c for s_, p, o, c in stated if (s_, p, o) == ("actor-tollbridge-wire", rdf_type,
                                                          CKB + "MediaOutlet")} == {"shelling-pellamy"}
    assert {c for s_, p, o, c in stated if (s_, p, o) == ("actor-irena-vosk", rdf_type, CKB + "Analyst")} \
        == {"rivalry-driver"}  # not the forecast
    within = sheet_kb.query(f"ASK {{ GRAPH <{GRAPH}> {{ <{CKBR}place-the-ford-at-pellamy> "
                            f"a <{CKB}Stronghold> ; <{CKB}partOfPlace> <{CKBR}place-pellamy> }} }}",
                            inferred=False)
    assert within.boolean is True


def test_validate_and_quality_checks_pass(sheet_kb: KnowledgeBase) -> None:
    report = sheet_kb.validate()
    assert report.conforms, [(v.focus, v.path, v.message) for v in report.results[:5]]
    for path in sorted((ROOT / "ontology" / "checks").glob("*.rq")):
        rows = sheet_kb.query(path.read_text(encoding="utf-8"), inferred=False).rows
        assert rows == [], f"{path.stem}: {rows[:5]}"


def test_reimport_changes_nothing(sheet_kb: KnowledgeBase) -> None:
    before = _held(sheet_kb)
    again = import_sheet(sheet_kb, SHEET)
    assert again.unchanged
    assert _held(sheet_kb) == before


def _page(client, url: str) -> str:
    r = client.get(url, headers={"Accept": "text/html"})
    assert r.status_code == 200, url
    return " ".join(re.sub(r"<[^>]+>", " ", r.get_data(as_text=True)).split())


def test_claims_on_pages_explorer_and_reader(sheet_kb: KnowledgeBase) -> None:
    client = create_app({"KB": sheet_kb, "TESTING": True}).test_client()
    dalmark = _page(client, "/id/actor-republic-of-dalmark")
    assert "the Republic of Dalmark has given the Ostrel Brigades artillery support since March 2029" \
        in dalmark
    assert "the rivalry between Dalmark and Sorve is now the main driver of the war" in dalmark
    assert "characters 422\u2013510" in dalmark
    kessani = _page(client, "/id/actor-kessani-home-guard")
    assert "a militia of shepherds and smugglers" in kessani
    listing = _page(client, "/claims?document=" + quote(DOC))
    assert "13 claims" in listing
    for words in ("Fighting broke out this week between the Ostrel Brigades",
                  "The alliance between Dalmark and Sorve could collapse before the summer",
                  "the fighting is &#34;ongoing&#34;"):
        assert words in listing, words
    reader = client.get("/reader?doc=" + quote(DOC), headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "13 quotes highlighted" in " ".join(re.sub(r"<[^>]+>", " ", reader).split())
    assert reader.count('class="hl') >= 13 and "mismatch" not in reader  # each placed where it says


def _ckb(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kb.cli", *args], capture_output=True, text=True,
                          timeout=300, cwd=ROOT)


def test_cli_import_twice_then_validate(tmp_path: Path) -> None:
    store = str(tmp_path / "store")
    first = _ckb("--store", store, "import", str(SHEET))
    assert first.returncode == 0, first.stderr
    assert f"imported 13 claims of {SHEET} into <{GRAPH}>" in first.stdout
    assert "new actors and places: " in first.stdout and "Kingdom of Sorve" in first.stdout
    second = _ckb("--store", store, "import", str(SHEET))
    assert second.returncode == 0 and "nothing changed" in second.stdout
    valid = _ckb("--store", store, "validate")
    assert valid.returncode == 0 and "conforms" in valid.stdout


def test_cli_new_writes_a_skeleton_that_reads(tmp_path: Path) -> None:
    text = tmp_path / "note.txt"
    text.write_text("A Title\n\nThe first sentence. The second.\n", encoding="utf-8")
    made = _ckb("--memory", "sheet", "new", str(text))
    assert made.returncode == 0, made.stderr
    sheet = (tmp_path / "note.yaml").read_text(encoding="utf-8")
    assert 'title: "A Title"' in sheet and 'quote: "The first sentence"' in sheet
    again = _ckb("--memory", "sheet", "new", str(text))
    assert again.returncode == 2 and "not overwritten" in again.stderr


def test_a_since_date_reads_as_a_day_in_key_facts(sheet_kb: KnowledgeBase) -> None:
    from kb.views.facts import key_facts
    groups = key_facts(sheet_kb, CKBR + "actor-republic-of-dalmark").groups
    times = {f.time_text for _k, _h, fs in groups for f in fs}
    assert "since 2029-03-01" in times and not any("T00:00:00" in t for t in times), times
