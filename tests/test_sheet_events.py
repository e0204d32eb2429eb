"""What sheets gained to say all the bundled article says, on an invented text (the fiction fixture's):
events of any type with their participants, facts about an actor, relation ids, several hedges,
quoting, supports/about/mentions/names; in a new sheet the IRIs carry the document id and quotes keep
their context. Each bad use is one line at its position."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from rdflib import Literal, URIRef
from rdflib.namespace import PROV, RDF, RDFS

from kb import KnowledgeBase
from kb.namespaces import CKB, CKBR
from kb.sheets.importer import check, compile_file, import_sheet

ROOT = Path(__file__).resolve().parent.parent
TEXT = Path(__file__).resolve().parent / "fixtures" / "sheets" / "vantor-basin.txt"
# FICTION: invented actors and places (the text is the fiction fixture's).
SHEET = """\
# FICTION: a test sheet for tests/fixtures/sheets/vantor-basin.txt.
document: {id: vantor-events, title: Vantor events, publisher: courier, text: vantor-basin.txt}
agents:
  courier: {actor: Meridian Courier, type: MediaOutlet}
  officer: {actor: unnamed officer, type: Official, unnamed: true}
  ostrel: {actor: Ostrel Brigades, type: ArmedGroup}
  kessani: {actor: Kessani Home Guard, type: Militia}
  third: {actor: Third Company, type: ArmedGroup}
places:
  vantor: {place: Vantor river, type: Place}
statements:
  officer: {by: officer, roles: {officer: anonymous source}}
  courier-officer: {by: courier, quoting: officer}
events:
  fighting:
    type: Clash
    label: Fighting along the Vantor
    participants:
      - {actor: ostrel, role: combatant, side: A, label: Ostrel Brigades fighting, as: [the Ostrel Brigades]}
      - {actor: kessani, role: combatant, side: B, label: Kessani Home Guard fighting}
claims:
  - id: broke-out
    quote: "Fighting broke out this week between the Ostrel Brigades and the Kessani Home Guard along the
      Vantor river"
    kind: report
    hedge: [reportedly, at least]
    hedge_text: [this week, between]
    quoting: courier-officer
    states:
      - event: {id: fighting, status: ongoing, when: this week, where: vantor,
                participants: [ostrel, kessani]}
    names: [vantor]
    mentions: [fighting/kessani]
  - id: third-company
    quote: The Third Company, a unit of the Ostrel Brigades
    kind: report
    states:
      - unit: {id: third-in-ostrel, part: third, whole: ostrel,
               label: the Third Company is a unit of the Brigades}
      - describes: {actor: third, affiliated_with: ostrel}
    about: [fighting]
    supports: [third]
"""


@pytest.fixture
def sheet(tmp_path: Path) -> Path:
    shutil.copyfile(TEXT, tmp_path / TEXT.name)
    path = tmp_path / "events.yaml"
    path.write_text(SHEET, encoding="utf-8")
    return path


def test_events_and_actor_facts_compile(kb: KnowledgeBase, sheet: Path) -> None:
    g = compile_file(kb, sheet)
    event, claim = CKBR["event-vantor-events-fighting"], CKBR["claim-vantor-events-broke-out"]
    assert (event, RDF.type, CKB.Clash) in g and (claim, CKB.supports, event) in g
    assert (event, CKB.eventStatus, CKB.Ongoing) in g and (event, CKB.timeText, Literal("this week")) in g
    part = URIRef(f"{event}-p1")
    assert (part, CKB.participantRole, CKB.Combatant) in g and (part, CKB.side, CKB.SideA) in g
    assert (part, CKB.asDescribed, Literal("the Ostrel Brigades")) in g
    assert (claim, CKB.mentions, URIRef(f"{event}-p2")) in g
    assert {str(o) for o in g.objects(claim, CKB.hedgeText)} == {"this week", "between"}
    assert (claim, PROV.wasQuotedFrom, CKBR["stmt-vantor-events-courier-officer"]) in g
    assert (claim, PROV.hadPrimarySource, CKBR["stmt-vantor-events-officer"]) in g
    stated = {(g.value(f, CKB.factSubject), g.value(f, CKB.factPredicate)) for f in
              g.subjects(CKB.statedBy, claim)}
    assert (part, CKB.participationActor) in stated and (event, CKB.place) in stated
    unit, third = CKBR["third-in-ostrel"], CKBR["actor-third-company"]
    other = CKBR["claim-vantor-events-third-company"]
    assert (unit, RDFS.label, Literal("the Third Company is a unit of the Brigades", lang="en")) in g
    assert (third, CKB.affiliatedWith, CKBR["actor-ostrel-brigades"]) in g
    assert (other, CKB.supports, third) in g and (other, CKB.about, event) in g
    assert (CKBR["fact-actor-third-company-affiliatedWith-actor-ostrel-brigades"], CKB.statedBy, other) in g
    # a new sheet's quotes keep their context, for re-anchoring after an import
    assert (CKBR["quote-vantor-events-broke-out"], CKB["prefix"], None) in g


BAD = [
    ("unknown event type", "type: Clash", "type: Skirmish", "Skirmish", "unknown event type 'Skirmish'"),
    ("participant not in the event", "participants: [ostrel, kessani]}", "participants: [ostrel, third]}",
     "third]}", "'third' is not a participant of the event 'fighting'"),
    ("unknown participant role", "role: combatant, side: B", "role: sniper, side: B", "sniper",
     "unknown participant role 'sniper'"),
    ("unknown reference", "about: [fighting]", "about: [skirmish]", "skirmish",
     "'skirmish' is no agent, place, event"),
    ("hedge texts do not match", "hedge_text: [this week, between]", "hedge_text: [this week]",
     "[this week]", "one hedge_text per hedge"),
    ("unknown attribution role", "officer: anonymous source", "officer: whistleblower", "whistleblower",
     "unknown role 'whistleblower'"),
    ("via and quoting", "    quoting: courier-officer", "    quoting: courier-officer\n    via: officer",
     "  - id: broke-out", "either via: (drawn from) or quoting:"),
    ("unknown event in states", "event: {id: fighting,", "event: {id: battle,", "battle",
     "'battle' is not an event of this sheet"),
]


@pytest.mark.parametrize(("case", "old", "new", "needle", "words"), BAD, ids=[b[0] for b in BAD])
def test_bad_use_is_one_line_at_its_place(kb: KnowledgeBase, sheet: Path, case: str, old: str, new: str,
                                          needle: str, words: str) -> None:
    text = sheet.read_text(encoding="utf-8")
    assert text.count(old) == 1
    sheet.write_text(text.replace(old, new), encoding="utf-8")
    problems = check(sheet, kb).problems
    assert len(problems) == 1, [str(p) for p in problems]
    lines = sheet.read_text(encoding="utf-8").splitlines()
    line = next(i for i, t in enumerate(lines, 1) if needle in t)
    assert problems[0].line == line and words in problems[0].message, str(problems[0])
    assert re.match(r".*:\d+:\d+: ", str(problems[0]))


def test_cli_compile_of_a_bad_sheet_writes_nothing(sheet: Path, tmp_path: Path) -> None:
    text = sheet.read_text(encoding="utf-8")
    sheet.write_text(text.replace("type: Clash", "type: Skirmish"), encoding="utf-8")
    out = tmp_path / "out.ttl"
    run = subprocess.run([sys.executable, "-m", "kb.cli", "--memory", "sheet", "compile", str(sheet),
                          "-o", str(out)], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert run.returncode == 1 and not out.exists()
    where = re.escape(str(sheet))
    assert re.match(rf"{where}:\d+:\d+: unknown event type 'Skirmish'", run.stdout), run.stdout
    assert "nothing written" in run.stderr and "Traceback" not in run.stderr


def test_a_sheet_with_short_ids_is_re_anchored_against_its_last_import(sheet: Path) -> None:
    text = sheet.read_text(encoding="utf-8")
    sheet.write_text(text.replace("text: vantor-basin.txt}", "text: vantor-basin.txt, short_ids: true}"),
                     encoding="utf-8")
    with KnowledgeBase.open(memory=True) as k:
        k.load()
        import_sheet(k, sheet)
        source = sheet.parent / TEXT.name
        was = source.read_text(encoding="utf-8")
        before = [was.index("Fighting broke out"), was.index("The Third Company, a unit")]
        old = source.read_text(encoding="utf-8")
        source.write_text(old.replace("Fighting broke out", "Update: Fighting broke out"), encoding="utf-8")
        checked = check(sheet, k)
    assert not checked.problems, [str(p) for p in checked.problems]
    # both quotes come after the words put in, so both moved (and are said to have)
    assert [n.message for n in checked.notes] == [
        f"note: re-anchored: the text changed; the quote was at {b}, is now at {b + 8}" for b in before]
