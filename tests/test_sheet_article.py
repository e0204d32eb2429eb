"""The bundled article's claim sheet is its source of truth: data/russia-iran-infighting-syria.ttl is
compiled from it (`ckb sheet compile`), the two agree (graph isomorphism: drift fails here), and the
competency questions give the same answers on a store loaded from the compiled sheet."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from rdflib import Graph
from rdflib.compare import graph_diff, to_isomorphic

from kb import KnowledgeBase
from kb.query.examples import load_examples
from kb.sheets.importer import compile_file
from kb.store.loader import bundled_files

ROOT = Path(__file__).resolve().parent.parent
SHEET = ROOT / "data" / "russia-iran-infighting-syria.sheet.yaml"
TTL = ROOT / "data" / "russia-iran-infighting-syria.ttl"
TEXT = ROOT / "data" / "sources" / "russia-iran-infighting-syria.txt"
QUERIES = ROOT / "ontology" / "queries"


def _differences(got: Graph, want: Graph) -> str:
    """What tells two graphs apart, a few triples each way (empty if they are isomorphic)."""
    if to_isomorphic(got) == to_isomorphic(want):
        return ""
    _, only_got, only_want = graph_diff(to_isomorphic(got), to_isomorphic(want))
    shown = [f"compiled only: {' '.join(x.n3() for x in t)}" for t in sorted(only_got)[:8]]
    shown += [f"shipped only: {' '.join(x.n3() for x in t)}" for t in sorted(only_want)[:8]]
    return f"{len(only_got)} triples only compiled, {len(only_want)} only shipped\n" + "\n".join(shown)


def test_the_turtle_says_it_is_generated_from_the_sheet() -> None:
    first = TTL.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# Generated from data/russia-iran-infighting-syria.sheet.yaml by "
                            "`ckb sheet compile")
    assert "do not edit" in first


def test_the_sheet_compiles_to_the_shipped_data_graph(kb: KnowledgeBase) -> None:
    compiled = compile_file(kb, SHEET)
    shipped = Graph().parse(TTL, format="turtle")
    assert len(shipped) > 2500
    assert _differences(compiled, shipped) == ""


def test_a_changed_sheet_no_longer_matches(kb: KnowledgeBase, tmp_path: Path) -> None:
    """The comparison sees drift: one hedge changed in a copy of the sheet."""
    (tmp_path / "sources").mkdir()
    shutil.copyfile(TEXT, tmp_path / "sources" / TEXT.name)
    sheet = SHEET.read_text(encoding="utf-8")
    assert sheet.count("  hedge: may\n") == 1
    (tmp_path / SHEET.name).write_text(sheet.replace("  hedge: may\n", "  hedge: could\n"), encoding="utf-8")
    diff = _differences(compile_file(kb, tmp_path / SHEET.name), Graph().parse(TTL, format="turtle"))
    assert "1 triples only compiled, 1 only shipped" in diff and "ontology#Could" in diff


def test_the_cli_compiles_the_same_graph(tmp_path: Path) -> None:
    out = tmp_path / "article.ttl"
    run = subprocess.run([sys.executable, "-m", "kb.cli", "--memory", "sheet", "compile", str(SHEET),
                          "-o", str(out)], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    assert _differences(Graph().parse(out, format="turtle"), Graph().parse(TTL, format="turtle")) == ""


def _store_from(compiled: Graph, tmp: Path) -> KnowledgeBase:
    """The bundle as shipped, but with the article's data graph from the compiled sheet."""
    data = tmp / "data"
    (data / "sources").mkdir(parents=True)
    shutil.copyfile(TEXT, data / "sources" / TEXT.name)
    compiled.serialize(data / TTL.name, format="turtle")
    files = [p for p in bundled_files(ROOT) if p.resolve() != TTL.resolve()] + [data / TTL.name]
    k = KnowledgeBase.open(memory=True)
    k.load(files)
    return k


@pytest.fixture(scope="module")
def from_sheet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KnowledgeBase]:
    """A store whose article graph is the compiled sheet (not the shipped Turtle)."""
    with KnowledgeBase.open(memory=True) as vocab:
        vocab.load()
        compiled = compile_file(vocab, SHEET)
    k = _store_from(compiled, tmp_path_factory.mktemp("from-sheet"))
    yield k
    k.close()


def _answers(k: KnowledgeBase, query: str, inferred: bool) -> Counter[tuple[tuple[str, str], ...]]:
    """A question's rows as a multiset (blank nodes, which no two stores name alike, as _:b)."""
    result = k.query(query, inferred=inferred)
    assert not result.truncated
    return Counter(tuple(sorted((name, "_:b" if str(v).startswith("_:") else str(v))
                                for name, v in row.items() if v is not None)) for row in result.rows)


@pytest.mark.parametrize("example", load_examples(QUERIES), ids=lambda e: e.name)
def test_competency_questions_answer_the_same_from_the_sheet(kb: KnowledgeBase, from_sheet: KnowledgeBase,
                                                             example) -> None:
    for inferred in (True, False):
        shipped = _answers(kb, example.sparql, inferred)
        assert shipped, (example.name, inferred)
        assert _answers(from_sheet, example.sparql, inferred) == shipped, (example.name, inferred)


def test_the_comparison_sees_a_claim_left_out(kb: KnowledgeBase, tmp_path: Path) -> None:
    """Without the air-support claim the compiled sheet answers some competency question differently."""
    compiled = compile_file(kb, SHEET)
    claim = next(s for s in compiled.subjects() if str(s).endswith("/claim-air-support"))
    for t in list(compiled.triples((claim, None, None))) + list(compiled.triples((None, None, claim))):
        compiled.remove(t)
    with _store_from(compiled, tmp_path) as k:
        changed = [e.name for e in load_examples(QUERIES)
                   if _answers(k, e.sparql, True) != _answers(kb, e.sparql, True)]
    assert changed
