"""Quality checks (ontology/checks/*.rq): silent on the bundled KB, loud on planted faults."""

from __future__ import annotations

from pathlib import Path

import pytest

from kb import KnowledgeBase

ROOT = Path(__file__).resolve().parent.parent
CHECKS = sorted((ROOT / "ontology" / "checks").glob("*.rq"))
BROKEN = Path(__file__).resolve().parent / "fixtures" / "broken_data.ttl"
CKB = "https://w3id.org/conflict-kb/ontology#"
CKBR = "https://w3id.org/conflict-kb/id/"

# the fault planted in tests/fixtures/broken_data.ttl that each check must find
PLANTED = {
    "terms-without-label-or-definition": CKB + "BrokenUndocumentedClass",
    "undeclared-terms": CKB + "suports",
    "untyped-individuals": CKBR + "BrokenUntypedPlace",
    "claims-without-source-or-quote": CKBR + "broken-claim-unsourced",
    "unsupported-events-and-relations": CKBR + "broken-event-unsupported",
    "object-properties-without-domain-or-range": CKB + "brokenUndocumentedProperty",
    "shortcut-mismatch": CKBR + "broken-backing-no-shortcut",
    "facts-without-claim": CKBR + "broken-event-unstated-status",
    "forecasts-as-support": CKBR + "broken-forecast-support",
}


@pytest.fixture(scope="module")
def broken_kb():
    files = [ROOT / "ontology" / "conflict.ttl", ROOT / "ontology" / "alignments.ttl",
             ROOT / "ontology" / "shapes.ttl", BROKEN]
    with KnowledgeBase.open(memory=True) as k:
        k.load(files)
        yield k


def test_every_check_is_documented_and_planted() -> None:
    assert {p.stem for p in CHECKS} == set(PLANTED)
    for path in CHECKS:
        lines = path.read_text(encoding="utf-8").splitlines()
        assert lines[0].startswith("# Check: ") and lines[1].startswith("# Description: "), path
        assert "Must return no rows" in path.read_text(encoding="utf-8"), path


@pytest.mark.parametrize("path", CHECKS, ids=lambda p: p.stem)
def test_check_finds_no_violation_in_bundled_kb(kb, path: Path) -> None:
    for inferred in (False, True):
        result = kb.query(path.read_text(encoding="utf-8"), inferred=inferred)
        assert result.kind == "select"
        assert result.rows == [], f"{path.stem}: {result.rows[:5]}"


@pytest.mark.parametrize("path", CHECKS, ids=lambda p: p.stem)
def test_check_finds_the_planted_fault(broken_kb, path: Path) -> None:
    rows = broken_kb.query(path.read_text(encoding="utf-8")).rows
    found = {str(v) for row in rows for v in row.values()}
    assert PLANTED[path.stem] in found, f"{path.stem} missed it: {rows}"
