"""The embedded store: all-or-nothing loads, persistence, idempotent imports."""

from __future__ import annotations

from pathlib import Path

import pytest

from kb import KnowledgeBase, ParseError
from kb.namespaces import import_graph

GOOD = "@prefix ex: <http://example.org/> .\nex:a ex:backs ex:b .\nex:b ex:label \"B\"@en .\n"
BAD = "@prefix ex: <http://example.org/> .\nex:a ex:backs ex:b .\nex:b ex:backs oops .\n"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_malformed_file_reports_position_and_changes_nothing(fresh_kb: KnowledgeBase, tmp_path: Path) -> None:
    fresh_kb.load([write(tmp_path, "good.ttl", GOOD)])
    before = fresh_kb.graphs()
    with pytest.raises(ParseError) as err:
        fresh_kb.load([write(tmp_path, "other.ttl", GOOD), write(tmp_path, "bad.ttl", BAD)])
    assert (err.value.line, err.value.column) == (3, 15)
    assert str(err.value).startswith(f"{tmp_path / 'bad.ttl'}:3:15:")
    assert fresh_kb.graphs() == before
    assert not any("staging" in g for g in fresh_kb.graphs())


def test_loading_twice_duplicates_nothing(fresh_kb: KnowledgeBase, tmp_path: Path) -> None:
    path = write(tmp_path, "good.ttl", GOOD.replace('"B"@en', "[ ex:note \"blank\" ]"))
    fresh_kb.import_file(path)
    first = fresh_kb.graphs()
    fresh_kb.import_file(path)
    assert fresh_kb.graphs() == first == {import_graph("good"): 3}


def test_load_rebuilds_from_given_files(fresh_kb: KnowledgeBase, tmp_path: Path) -> None:
    fresh_kb.load([write(tmp_path, "one.ttl", GOOD)])
    fresh_kb.load([write(tmp_path, "two.ttl", GOOD)])
    assert list(fresh_kb.graphs()) == [import_graph("two")]


def test_store_persists_on_disk(tmp_path: Path) -> None:
    with KnowledgeBase.open(tmp_path / "s") as k:
        k.import_file(write(tmp_path, "good.ttl", GOOD))
    with KnowledgeBase.open(tmp_path / "s") as k:
        rows = k.query("SELECT ?o WHERE { <http://example.org/b> <http://example.org/label> ?o }").rows
        assert [str(r["o"]) for r in rows] == ["B"]


def test_import_into_memory_store_is_queryable(tmp_path: Path) -> None:
    with KnowledgeBase.open(memory=True) as k:
        k.import_file(write(tmp_path, "good.ttl", GOOD))
        assert k.query("ASK { ?a <http://example.org/backs> ?b }").boolean is True


def test_bundled_data_loads_with_source_text(kb: KnowledgeBase) -> None:
    graphs = kb.graphs()
    for name in ("ontology", "data", "inferred"):
        assert f"https://w3id.org/conflict-kb/graph/{name}" in graphs
    assert "https://w3id.org/conflict-kb/graph/shapes" in kb.exportable_graphs()
    text = Path(__file__).parent.parent / "data" / "sources" / "russia-iran-infighting-syria.txt"
    rows = kb.query("SELECT ?t WHERE { ?doc ckb:fullText ?t }").rows
    assert [str(r["t"]) for r in rows] == [text.read_text(encoding="utf-8")]


def test_missing_source_text_aborts_the_load(fresh_kb: KnowledgeBase, tmp_path: Path) -> None:
    doc = "<http://example.org/d> <https://w3id.org/conflict-kb/ontology#textFile> \"nope.txt\" .\n"
    with pytest.raises(Exception, match=r"nope\.txt"):
        fresh_kb.load([write(tmp_path, "doc.nt", doc)])
    assert fresh_kb.graphs() == {}


def test_failed_rebuild_leaves_no_half_built_store(fresh_kb: KnowledgeBase, tmp_path: Path) -> None:
    fresh_kb.load([write(tmp_path, "good.ttl", GOOD)])
    with pytest.raises(ParseError):
        fresh_kb.load([write(tmp_path, "bad.ttl", BAD)])
    leftovers = [p.name for p in tmp_path.iterdir() if "rebuild" in p.name or ".old-" in p.name]
    assert leftovers == []
    assert fresh_kb.query("ASK { ?a <http://example.org/backs> ?b }").boolean is True


def test_failed_reimport_keeps_the_previous_graph(fresh_kb: KnowledgeBase, tmp_path: Path) -> None:
    fresh_kb.import_file(write(tmp_path, "src.ttl", GOOD))
    before = fresh_kb.export("nq", graph=import_graph("src"))
    with pytest.raises(ParseError):
        fresh_kb.import_file(write(tmp_path, "src.ttl", BAD))
    assert fresh_kb.export("nq", graph=import_graph("src")) == before


def test_disk_queries_see_every_write_at_once(tmp_path: Path) -> None:
    """Workers read the disk store read-only: each write must reach the next query."""
    ask = "ASK {{ ?a <http://example.org/{}> ?b }}"
    with KnowledgeBase.open(tmp_path / "s", update_token="t") as k:
        k.import_file(write(tmp_path, "one.ttl", GOOD))
        assert k.query(ask.format("backs")).boolean is True
        k.import_file(write(tmp_path, "two.ttl", GOOD.replace("ex:backs", "ex:fights")))
        assert k.query(ask.format("fights")).boolean is True
        k.update("INSERT DATA { <http://example.org/x> <http://example.org/joins> <http://example.org/y> }",
                 token="t")
        assert k.query(ask.format("joins")).boolean is True
        k.load([write(tmp_path, "three.ttl", GOOD)])
        assert k.query(ask.format("fights")).boolean is False


def test_a_store_knows_when_the_bundle_changed(tmp_path: Path) -> None:
    root = tmp_path / "project"
    (root / "ontology").mkdir(parents=True)
    onto = write(root / "ontology", "conflict.ttl", GOOD)
    with KnowledgeBase.open(tmp_path / "store") as k, pytest.MonkeyPatch.context() as mp:
        mp.setenv("CKB_HOME", str(root))
        k.load()
        assert not k.bundle_is_stale()
        onto.write_text(GOOD + "ex:c ex:backs ex:d .\n", encoding="utf-8")
        assert k.bundle_is_stale()
        k.load()
        assert not k.bundle_is_stale()
        k.load([write(tmp_path, "other.ttl", GOOD)])  # no longer the bundle: nothing to compare
        assert not k.bundle_is_stale()


def test_lookups_on_a_closed_store_are_a_clean_error() -> None:
    from kb.errors import StoreError

    kb = KnowledgeBase.open(memory=True, workers=1)
    kb.close()
    with pytest.raises(StoreError, match="closed"), kb.backend.reading():
        pass
