"""A bad claim sheet gives one line per problem, FILE:LINE:COLUMN: message, and writes nothing; a
corrected text re-anchors every quote by its selector, and one that cannot be placed is reported."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from kb import KnowledgeBase
from kb.sheets.importer import SheetProblems, check, import_sheet

ROOT = Path(__file__).resolve().parent.parent
SHEETS = Path(__file__).resolve().parent / "fixtures" / "sheets"
CKB = "https://w3id.org/conflict-kb/ontology#"
CKBR = "https://w3id.org/conflict-kb/id/"
# two KB actors under one label: a sheet naming it must say which
TWINS = f"""\
@prefix ckb: <{CKB}> . @prefix ckbr: <{CKBR}> . @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
ckbr:KesslerFrontNorth a ckb:ArmedGroup ; rdfs:label "Kessler Front"@en .
ckbr:KesslerFrontSouth a ckb:ArmedGroup ; rdfs:label "Kessler Front"@en .
"""


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KnowledgeBase]:
    """The bundled KB, the twin actors, and the good fixture sheet imported."""
    twins = tmp_path_factory.mktemp("twins") / "twins.ttl"
    twins.write_text(TWINS, encoding="utf-8")
    with KnowledgeBase.open(memory=True) as k:
        k.load()
        k.import_file(twins)
        import_sheet(k, SHEETS / "vantor-basin.yaml")
        yield k


def _copy(tmp: Path, edit: Callable[[str], str], text_edit: Callable[[str], str] = lambda t: t) -> Path:
    sheet = tmp / "vantor-basin.yaml"
    sheet.write_text(edit((SHEETS / "vantor-basin.yaml").read_text(encoding="utf-8")), encoding="utf-8")
    text = (SHEETS / "vantor-basin.txt").read_text(encoding="utf-8")
    (tmp / "vantor-basin.txt").write_text(text_edit(text), encoding="utf-8")
    return sheet


def _where(sheet: Path, needle: str, nth: int = 1) -> tuple[int, int]:
    """Line and column (1-based) of the nth occurrence of needle in the sheet."""
    body = sheet.read_text(encoding="utf-8")
    at = -1
    for _ in range(nth):
        at = body.index(needle, at + 1)
    line = body.count("\n", 0, at) + 1
    return line, at - (body.rfind("\n", 0, at) + 1) + 1


def _sub(old: str, new: str, count: int = 1) -> Callable[[str], str]:
    def edit(s: str) -> str:
        assert old in s, old
        return s.replace(old, new, count)
    return edit


# (case, the edit, where the problem is expected (needle in the edited sheet), words of the message)
BAD = [
    ("quote not in the text",
     _sub("the Republic of Dalmark has given the Ostrel Brigades artillery support",
          "the Republic of Dalmark has given the Ostrel Brigades mortar support"),
     "the Republic of Dalmark has given", ["quote not in the text; nearest:", "artillery support", "at 422"]),
    ("quote found twice",
     _sub("quote: a militia of shepherds and smugglers", "quote: the Kessani Home Guard"),
     "the Kessani Home Guard\n",
     ["found 6 times, at 251, 518, 651, 1363, 1505, 1741", "prefix: or occurrence:"]),
    ("unknown hedge", _sub("hedge: reportedly", "hedge: allegedly"), "allegedly",
     ["unknown hedge 'allegedly'", "reportedly", "could"]),
    ("unknown relation", _sub("      - rivalry: {parties: [dalmark, sorve]}",
                              "      - feud: {parties: [dalmark, sorve]}"), "feud",
     ["unknown relation 'feud'",
      "backs, alliance, rivalry, clash, member, leads, loyal, unit, branch, control, event, describes"]),
    ("actor matching two KB actors",
     _sub("ostrel: {actor: Ostrel Brigades, type: ArmedGroup}", "ostrel: {actor: Kessler Front}"),
     "Kessler Front", ["'Kessler Front' matches 2 KB actors", CKBR + "KesslerFrontNorth",
                       CKBR + "KesslerFrontSouth"]),
    ("unknown field", _sub("    hedge_text: reportedly", "    hedgeword: reportedly"), "hedgeword",
     ["unknown field 'hedgeword'"]),
    ("unknown support kind", _sub("support: funding", "support: grain"), "grain",
     ["unknown support 'grain'", "air support", "funding"]),
    ("chain that loops",
     _sub("  officer: {by: officer}", "  officer: {by: officer, from: courier-officer}"),
     "officer: {by: officer", ["the chain loops: officer -> courier-officer -> officer"]),
]


@pytest.mark.parametrize(("case", "edit", "needle", "words"), BAD, ids=[b[0] for b in BAD])
def test_bad_sheet_one_line_with_position_and_nothing_written(
        kb: KnowledgeBase, tmp_path: Path, case: str, edit: Callable[[str], str], needle: str,
        words: list[str]) -> None:
    sheet = _copy(tmp_path, edit)
    problems = check(sheet, kb).problems
    assert len(problems) == 1, [str(p) for p in problems]
    line, column = _where(sheet, needle)
    p = problems[0]
    assert (p.file, p.line, p.column) == (str(sheet), line, column), str(p)
    for w in words:
        assert w in p.message, (w, str(p))
    before = {str(q) for q in kb.backend.quads(None)}
    with pytest.raises(SheetProblems) as raised:
        import_sheet(kb, sheet)
    assert [str(x) for x in raised.value.problems] == [str(p)]
    assert {str(q) for q in kb.backend.quads(None)} == before


def test_not_yaml_is_one_line_at_the_fault(kb: KnowledgeBase, tmp_path: Path) -> None:
    sheet = _copy(tmp_path, _sub("  - id: ongoing", "  - id: [ongoing"))
    problems = check(sheet, kb).problems
    assert len(problems) == 1 and problems[0].message.startswith("not YAML:"), [str(p) for p in problems]
    assert problems[0].line >= _where(sheet, "[ongoing")[0]


def test_cli_check_prints_the_line_and_fails(tmp_path: Path) -> None:
    sheet = _copy(tmp_path, _sub("hedge: reportedly", "hedge: allegedly"))
    line, column = _where(sheet, "allegedly")
    run = subprocess.run([sys.executable, "-m", "kb.cli", "--memory", "sheet", "check", str(sheet)],
                         capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert run.returncode == 1
    assert run.stdout.splitlines() == [
        f"{sheet}:{line}:{column}: unknown hedge 'allegedly' (the KB's: approximately, at least, coded as "
        "clear, coded as unclear, conditional, could, likely, may, reportedly, uncertain, unlikely)"]


def test_a_repeated_quote_is_placed_by_prefix_or_occurrence(kb: KnowledgeBase, tmp_path: Path) -> None:
    by_prefix = _copy(tmp_path, _sub("quote: a militia of shepherds and smugglers",
                                     "quote: the Kessani Home Guard\n    prefix: 'reportedly backs '"))
    checked = check(by_prefix, kb)
    assert checked.problems == []
    placed = [a for a in checked.anchors.values() if a.end - a.start == len("the Kessani Home Guard")]
    assert [(a.start, a.end) for a in placed] == [(651, 673)]  # "reportedly backs the Kessani ..."
    assert placed[0].prefix.endswith("reportedly backs ") and placed[0].suffix.startswith(" with funding")
    (tmp_path / "o").mkdir()
    by_occurrence = _copy(tmp_path / "o", _sub("quote: a militia of shepherds and smugglers",
                                               "quote: the Kessani Home Guard\n    occurrence: 4"))
    placed = [a for a in check(by_occurrence, kb).anchors.values() if a.end - a.start == 22]
    assert [(a.start, a.end) for a in placed] == [(1363, 1385)]


PARAGRAPH = "Editor's note: this report was updated on Wednesday with new details from Pellamy.\n\n"


def _corrected(text: str) -> str:
    """The text as corrected: a paragraph added near the top, a typo fixed outside any quote."""
    head, rest = text.split("\n", 1)
    return head + "\n" + PARAGRAPH + rest.replace("Residents of Pellamy", "Residents of Pellamy,")


def test_corrected_text_reanchors_every_quote(tmp_path: Path) -> None:
    shutil.copy(SHEETS / "vantor-basin.yaml", tmp_path)
    shutil.copy(SHEETS / "vantor-basin.txt", tmp_path)
    sheet = tmp_path / "vantor-basin.yaml"
    with KnowledgeBase.open(memory=True) as k:
        k.load()
        import_sheet(k, sheet)
        text = tmp_path / "vantor-basin.txt"
        text.write_text(_corrected(text.read_text(encoding="utf-8")), encoding="utf-8")
        checked = check(sheet, k)
        assert checked.problems == []
        # every quote moved by the paragraph's length, and says so: never shifted silently
        assert len(checked.notes) == 13
        shift = len(PARAGRAPH)
        assert f"the quote was at 422, is now at {422 + shift}" in " ".join(n.message for n in checked.notes)
        result = import_sheet(k, sheet)
        assert not result.unchanged and len(result.notes) == 13
        rows = k.query(f"SELECT ?e ?s ?t WHERE {{ ?q <{CKB}exact> ?e ; <{CKB}startOffset> ?s ; "
                       f"<{CKB}inDocument> ?d . ?d <{CKB}fullText> ?t . "
                       f"FILTER (?d = <{CKBR}doc-vantor-basin>) }}", inferred=False).rows
        assert len(rows) == 13
        for r in rows:
            start, exact, body = int(str(r["s"])), str(r["e"]), str(r["t"])
            assert body[start:start + len(exact)] == exact
        assert any(int(str(r["s"])) == 422 + shift for r in rows)


def test_a_quote_the_correction_changed_is_reported_not_shifted(tmp_path: Path) -> None:
    typo = _sub("artillery support since March", "artilery support since March", 2)
    sheet = _copy(tmp_path, typo, text_edit=typo)
    with KnowledgeBase.open(memory=True) as k:
        k.load()
        import_sheet(k, sheet)
        graph_before = {str(q) for q in k.backend.quads(None)}
        text = tmp_path / "vantor-basin.txt"
        text.write_text(text.read_text(encoding="utf-8").replace("artilery", "artillery"), encoding="utf-8")
        problems = check(sheet, k).problems
        assert len(problems) == 1
        line, column = _where(sheet, "the Republic of Dalmark has given")
        assert (problems[0].line, problems[0].column) == (line, column)
        assert "quote not in the text; nearest: 'the Republic of Dalmark has given the Ostrel Brigades " \
               "artillery support since March 202' at 422" in problems[0].message
        with pytest.raises(SheetProblems):
            import_sheet(k, sheet)
        assert {str(q) for q in k.backend.quads(None)} == graph_before


def test_a_repeated_quote_is_reanchored_by_its_recorded_context(tmp_path: Path) -> None:
    """A quote found six times, placed by its start: after a paragraph is added, the start is wrong,
    and the prefix and suffix recorded at the import pick the right one; without them it is an error."""
    sheet = _copy(tmp_path, _sub("quote: a militia of shepherds and smugglers",
                                 "quote: the Kessani Home Guard\n    start: 651"))
    text = tmp_path / "vantor-basin.txt"
    with KnowledgeBase.open(memory=True) as k:
        k.load()
        import_sheet(k, sheet)
        prefix = k.query(f"SELECT ?p WHERE {{ <{CKBR}quote-vantor-basin-shepherds-and-smugglers> "
                         f"<{CKB}prefix> ?p }}", inferred=False).rows
        assert [str(r["p"]) for r in prefix] == ["Sorve, long a partner of Dalmark, reportedly backs "[-32:]]
        text.write_text(_corrected(text.read_text(encoding="utf-8")), encoding="utf-8")
        checked = check(sheet, k)
        assert checked.problems == []
        moved = [n.message for n in checked.notes if "was at 651" in n.message]
        assert moved == [f"note: re-anchored: the text changed; the quote was at 651, is now at "
                         f"{651 + len(PARAGRAPH)}"]
    with KnowledgeBase.open(memory=True) as fresh:  # nothing recorded: the start alone is not enough
        fresh.load()
        problems = check(sheet, fresh).problems
        assert len(problems) == 1 and "found 6 times" in problems[0].message


ODD = [
    ("empty file", lambda s: "", "None is not of type 'object'"),
    ("a list", lambda s: "- 1\n", "is not of type 'object'"),
    ("a fact that is no mapping", _sub("      - rivalry: {parties: [dalmark, sorve]}", "      - 5"),
     "5 is not of type 'object'"),
    ("two relations in one fact", _sub("      - rivalry: {parties: [dalmark, sorve]}",
                                       "      - rivalry: {parties: [dalmark, sorve]}\n"
                                       "        alliance: {parties: [dalmark, sorve]}"),
     "too many properties"),
    ("no such month", _sub("since: March 2029", "since: 2029-13"), "'2029-13' is not a date"),
    ("no such date", _sub('date: "2030-04-08"', "date: 2030-99-99"), "'2030-99-99' is not a date"),
    ("a key given twice", _sub("    kind: assessment", "    kind: assessment\n    kind: report"),
     "'kind' is given twice here"),
    ("a text outside the sheet's folder", _sub("text: vantor-basin.txt", "text: ../../etc/hostname"),
     "must be in the sheet's folder"),
    ("a url that is none", _sub("url: https://example.invalid/vantor-basin", "url: 'not a url <>'"),
     "'not a url <>' is not an http(s) URL"),
    ("an unknown status", _sub("status: ongoing, when", "status: finished, when"),
     "unknown status 'finished'"),
    ("an unknown place", _sub("place: ford}", "place: Atlantis}"), "unknown place 'Atlantis'"),
    ("an unknown place type", _sub("type: Stronghold", "type: Castle"), "unknown place type 'Castle'"),
    ("a key that is no key", _sub("  vosk: {actor: Irena Vosk", "  Vosk_1: {actor: Irena Vosk"),
     "'Vosk_1' is not a key"),
    ("an agent no claim names", _sub("  vosk: {by: vosk}\n", "  vosk: {by: courier}\n"),
     "'vosk' is named by no claim"),
    ("a statement that is none", _sub("via: vosk", "via: nobody"), "'nobody' is not a statement"),
]


@pytest.mark.parametrize(("case", "edit", "words"), ODD, ids=[o[0] for o in ODD])
def test_odd_sheets_give_lines_not_tracebacks(kb: KnowledgeBase, tmp_path: Path, case: str,
                                              edit: Callable[[str], str], words: str) -> None:
    sheet = _copy(tmp_path, edit)
    problems = check(sheet, kb).problems
    assert problems and words in problems[0].message, [str(p) for p in problems]
    if case == "a key that is no key":  # at the key itself
        assert (problems[0].line, problems[0].column) == _where(sheet, "Vosk_1")
    assert all(re.fullmatch(rf"{re.escape(str(sheet))}:\d+:\d+: \S.*", str(p)) for p in problems)
