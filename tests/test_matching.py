"""Matching that a person confirms: ACLED's and UCDP's outlets and places are the article's, place
spellings stay as altLabels, each unmatched name is listed once, a decision (ckb actors --accept)
is sourced and kept in the store and the decisions file, and a re-import changes nothing."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from kb import KnowledgeBase
from kb.cli.main import main
from kb.imports import run_import
from kb.matching import decisions
from kb.matching.review import unmatched
from kb.namespaces import CKB, CKBR, GRAPH_MATCHES, import_graph
from tests.conftest import GED_BANGLADESH

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
ACLED = FIXTURES / "acled-syria-actors.csv"
GED = GED_BANGLADESH
needs_ged = pytest.mark.skipif(not GED.is_file(), reason="UCDP GED Bangladesh sample not available")
P = f"PREFIX ckb: <{CKB}>\nPREFIX ckbr: <{CKBR}>\nPREFIX prov: <http://www.w3.org/ns/prov#>\n" \
    "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\nPREFIX skos: <http://www.w3.org/2004/02/skos/core#>\n"


def select(kb: KnowledgeBase, text: str) -> list[dict[str, str]]:
    return [{k: str(v) for k, v in r.items()} for r in kb.query(P + text, limit=100_000).rows]


@pytest.fixture(scope="module")
def acled_kb() -> Iterator[KnowledgeBase]:
    with KnowledgeBase.open(memory=True) as kb:
        kb.ensure_loaded()
        run_import(kb, ACLED, "acled", name="acled-actors")
        yield kb


def test_acled_outlets_and_country_are_the_articles(acled_kb: KnowledgeBase) -> None:
    cited = {r["o"] for r in select(acled_kb, """SELECT DISTINCT ?o WHERE {
        ?e ckb:acledId ?id . ?c ckb:codesRecord ?e ; prov:wasDerivedFrom/prov:wasAttributedTo ?o }""")}
    for outlet in ("AhramOnline", "BasNews", "JerusalemPost", "AFP"):
        assert str(CKBR) + outlet in cited, outlet
    # "AFP" and "Agence France Presse" are one outlet, which keeps its one label
    assert not [o for o in cited if o.startswith(str(CKBR) + "outlet-") and "france" in o]
    labels = select(acled_kb, "SELECT DISTINCT ?l WHERE { ckbr:AFP rdfs:label ?l }")
    assert labels == [{"l": "AFP"}]
    names = {r["n"] for r in select(acled_kb, "SELECT ?n WHERE { ckbr:AFP ckb:sourceName ?n }")}
    assert "Agence France Presse" in names
    # ACLED's Syria is the article's: every ACLED place lies in it, and no other Syria was made
    assert select(acled_kb, """SELECT ?e WHERE { ?e ckb:acledId ?id ; ckb:place ?p
        FILTER NOT EXISTS { ?p ckb:partOfPlace* ckbr:Syria } }""") == []
    assert select(acled_kb, "ASK { ckbr:place-syria ?p ?o }".replace("ASK", "SELECT ?p WHERE")) == []
    how = select(acled_kb, """SELECT ?m ?by ?t WHERE { ?x ckb:matchedName "Syria" ; ckb:matchKind "place" ;
        ckb:matchedEntity ckbr:Syria ; ckb:matchMethod ?m ; ckb:matchedBy ?by ; prov:generatedAtTime ?t }""")
    assert len(how) == 1 and how[0]["m"] in ("automatic", "exact label")


def test_automatic_matches_carry_their_score_and_reasons(acled_kb: KnowledgeBase) -> None:
    rows = select(acled_kb, """SELECT ?a ?s ?why WHERE { ?x ckb:matchedName "Jaish al Nasr" ;
        ckb:matchedActor ?a ; ckb:matchMethod "automatic" ; ckb:matchScore ?s ; rdfs:comment ?why }""")
    assert len(rows) == 1 and rows[0]["a"] == str(CKBR) + "AlNasrArmy"
    assert float(rows[0]["s"]) >= 75 and "Al-Nasr Army" in rows[0]["why"]


@needs_ged
def test_ged_place_spellings_stay_as_alt_labels() -> None:
    with KnowledgeBase.open(memory=True) as kb:
        kb.ensure_loaded()
        run_import(kb, GED, "ucdp-ged", name="bgd")
        rows = select(kb, """SELECT ?p ?l ?alt WHERE { ?p a ckb:Province ; rdfs:label ?l ;
            skos:altLabel ?alt FILTER(CONTAINS(?l, "Barisal") || CONTAINS(?l, "Baris\u0101l")) }""")
        # one node: the file's first spelling labels it, the other is kept beside it
        assert len(rows) == 1 and rows[0]["p"] == str(CKBR) + "place-bangladesh-barisal-division"
        assert {rows[0]["l"], rows[0]["alt"]} == {"Barisal Division", "Barisāl Division"}
        # and both spellings find it, each with its events
        events = select(kb, """SELECT (COUNT(DISTINCT ?e) AS ?n) WHERE {
            ?e ckb:place/ckb:partOfPlace* ckbr:place-bangladesh-barisal-division }""")
        assert int(events[0]["n"]) >= 14


@needs_ged
def test_unmatched_lists_each_name_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = tmp_path / "store"
    for name in ("bgd-a", "bgd-b"):  # the same names met by two imports, as with two GED files
        assert main(["--store", str(store), "import", "--format", "ucdp-ged", "--name", name, str(GED)]) == 0
    with KnowledgeBase.open(store) as kb:
        listed = unmatched(kb)
    names = [u["name"] for u in listed]
    assert len(names) == len(set(names)) and "Supporters of Awami League" in names
    capsys.readouterr()
    assert main(["--store", str(store), "actors", "--unmatched"]) == 0
    out = capsys.readouterr().out
    assert [line for line in out.splitlines() if line.startswith("Supporters of Awami League ")] != []
    assert len([line for line in out.splitlines() if line.startswith("Supporters of Awami League ")]) == 1
    # no string-similarity noise: an outlet is never a candidate for an armed group or civilians
    for u in listed:
        kinds = [label for label, iri, _s, _w in u["candidates"] if "/outlet-" in iri or "News" in label]
        assert u["kind"] == "outlet" or not kinds, u
    gov = next(u for u in listed if u["name"] == "Government of Bangladesh")
    assert all(label != "Assad regime" for label, *_ in gov["candidates"]), gov


def _copy(tmp_path: Path) -> Path:
    path = tmp_path / "acled.csv"
    shutil.copy(ACLED, path)
    return path


Rows = set[tuple[str, ...]]


def _state(kb: KnowledgeBase, graph: str) -> tuple[Rows, Rows, Rows]:
    """What a re-import must not change: its match records, every label, and the decisions."""
    matches = {tuple(r.values()) for r in select(kb, f"""SELECT ?n ?k ?a ?m ?by ?t WHERE {{ GRAPH <{graph}> {{
        ?x ckb:matchedName ?n ; ckb:matchKind ?k ; ckb:matchedActor|ckb:matchedEntity ?a ;
           ckb:matchMethod ?m ; ckb:matchedBy ?by ; prov:generatedAtTime ?t }} }}""")}
    labels = {tuple(r.values()) for r in select(kb, """SELECT ?s ?p ?l WHERE {
        VALUES ?p { rdfs:label skos:altLabel } ?s ?p ?l
        # the events are the file's own, and so is the record of which file was read
        FILTER(!STRSTARTS(STR(?s), STR(ckbr:acled-)) && !STRSTARTS(STR(?s), STR(ckbr:file-))) }""")}
    decided = {tuple(r.values())
               for r in select(kb, f"SELECT ?s ?p ?o WHERE {{ GRAPH <{GRAPH_MATCHES}> {{ ?s ?p ?o }} }}")}
    return matches, labels, decided


def test_reimport_changes_no_match_no_decision_no_label(tmp_path: Path) -> None:
    src = _copy(tmp_path)
    graph = import_graph("acled")
    with KnowledgeBase.open(tmp_path / "store") as kb:
        kb.ensure_loaded()
        run_import(kb, src, "acled", name="acled")
        before = _state(kb, graph)
        assert before[0] and before[2]
        with src.open(encoding="utf-8", newline="") as f:
            rows = list(csv.DictReader(f))
        rows[0]["notes"] += " (corrected)"  # a new release of the file: the import runs again
        with src.open("w", encoding="utf-8", newline="") as f:
            w = csv.DictWriter(f, list(rows[0]))
            w.writeheader()
            w.writerows(rows)
        again = run_import(kb, src, "acled", name="acled")
        assert not again.unchanged
        assert _state(kb, graph) == before


def test_accept_is_sourced_and_survives_restart_and_reimport(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    store, matches, src = tmp_path / "store", tmp_path / "decisions.ttl", _copy(tmp_path)
    shutil.copy(ROOT / "data" / "matches" / "decisions.ttl", matches)
    base = ["--store", str(store)]
    assert main([*base, "import", "--format", "acled", "--matches", str(matches), str(src)]) == 0
    capsys.readouterr()
    assert main([*base, "actors", "--unmatched"]) == 0
    assert "Hayat Tahrir al-Sham" in capsys.readouterr().out
    # an analyst decides that the group holding Idlib is HTS
    assert main([*base, "actors", "--accept", "Hayat Tahrir al-Sham", "ckbr:IdlibArmedGroup",
                 "--by", "analyst A", "--matches", str(matches)]) == 0
    assert "decided" in capsys.readouterr().out
    # in the reviewable file, with who, how and when
    filed = {d.name: d for d in decisions.read_file(matches)}
    hts = filed["Hayat Tahrir al-Sham"]
    assert (hts.entity, hts.method, hts.made_by) == (str(CKBR) + "IdlibArmedGroup", "by hand", "analyst A")
    assert hts.made_at and "Government of Syria" in filed  # the earlier decisions are kept
    # a new process (a restart) sees the decision in the store and lists the name no more
    env = {**os.environ, "CKB_MATCHES": str(matches)}
    out = subprocess.run([sys.executable, "-m", "kb.cli", *base, "actors", "--unmatched"], env=env,
                         capture_output=True, text=True, timeout=300, check=True).stdout
    assert "Hayat Tahrir al-Sham" not in out and "Liwa al-Quds" in out
    # importing the same file again applies it (the decisions changed), and again changes nothing
    assert main([*base, "import", "--format", "acled", "--matches", str(matches), str(src)]) == 0
    assert "imported 6 rows" in capsys.readouterr().out
    assert main([*base, "import", "--format", "acled", "--matches", str(matches), str(src)]) == 0
    assert "nothing changed" in capsys.readouterr().out
    with KnowledgeBase.open(store) as kb:
        rows = select(kb, """SELECT ?m ?by WHERE {
            ?e ckb:acledId "SYR91001" ; ckb:participant ckbr:IdlibArmedGroup .
            ?x ckb:matchedName "Hayat Tahrir al-Sham" ; ckb:matchDataset "acled" ; ckb:matchMethod ?m ;
               ckb:matchedBy ?by }""")
        assert rows == [{"m": "by hand", "by": "analyst A"}]
        stored = decisions.in_store(kb)
        assert any(d.name == "Hayat Tahrir al-Sham" and d.made_by == "analyst A" for d in stored)
        # the entity keeps its own label: the dataset's spelling is a source name
        assert select(kb, "SELECT DISTINCT ?l WHERE { ckbr:IdlibArmedGroup rdfs:label ?l }") == [
            {"l": "unnamed armed group holding the Idlib stronghold"}]
