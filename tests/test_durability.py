"""The store's content is the truth (issue 18): no write, rebuild, import or open loses what the store holds.

Every test runs on a real disk store in tmp_path (the default store, where the bugs were); crashes
are real ``kill -9``s at named points (kb.store.lifecycle.crash_point) in child processes.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest

from kb import KnowledgeBase
from kb.namespaces import GRAPH_BASE, GRAPH_DATA, GRAPH_SHAPES, import_graph
from kb.store.lifecycle import META_NAME, read_meta

ROOT = Path(__file__).resolve().parent.parent
CANARY = ox.Quad(ox.NamedNode("urn:keep"), ox.NamedNode("urn:me"), ox.Literal("canary"), ox.DefaultGraph())
BIG, SMALL = import_graph("big"), import_graph("small")
OTHER = import_graph("other")
UPDATES = GRAPH_BASE + "updates"  # where releases before the union default graph put unnamed updates


def triples(path: Path, n: int, tag: str) -> Path:
    """An N-Triples file of ``n`` distinct triples whose objects carry ``tag``."""
    with open(path, "w", encoding="utf-8") as out:
        for i in range(n):
            out.write(f'<http://example.org/s{i}> <http://example.org/p> "{tag} {i}" .\n')
    return path


def all_quads(store: Path) -> set[ox.Quad]:
    """Every quad of a closed disk store, default graph included, read with the engine alone."""
    return set(ox.Store.read_only(str(store)).quads_for_pattern(None, None, None, None))


def stored(k: KnowledgeBase) -> set[ox.Quad]:
    with k.backend.reading() as store:
        return set(store.quads_for_pattern(None, None, None, None))


def real_counts(k: KnowledgeBase) -> dict[str, int]:
    counts: dict[str, int] = {}
    for q in stored(k):
        if isinstance(q.graph_name, ox.NamedNode):
            counts[q.graph_name.value] = counts.get(q.graph_name.value, 0) + 1
    return counts


def run_killed(script: str, crash: str) -> None:
    """Run a Python script that must die by SIGKILL at the named crash point."""
    env = {**{k: v for k, v in os.environ.items() if k != "CKB_STORE"}, "CKB_TEST_CRASH_AT": crash}
    proc = subprocess.run([sys.executable, "-c", script], env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == -signal.SIGKILL, (proc.returncode, proc.stderr)


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """A disk store with a big import (500 triples), a small one (3) and the canary in the default graph."""
    path = tmp_path / "store"
    with KnowledgeBase.open(path, update_token="t") as k:
        k.import_file(triples(tmp_path / "big.nt", 500, "big"))
        k.import_file(triples(tmp_path / "small.nt", 3, "old"))
        k.update('INSERT DATA { <urn:keep> <urn:me> "canary" }', token="t")
    return path


# -- item 1: a rebuild copies the default graph and every graph the store holds ------------------
def test_rebuild_keeps_the_default_graph(tmp_path: Path, store: Path) -> None:
    with KnowledgeBase.open(store) as k:
        # Replacing the graph that holds most of the store takes the rebuild path.
        k.import_file(triples(tmp_path / "big.nt", 600, "new"))
        assert CANARY in stored(k)
        assert k.graphs() == {BIG: 600, SMALL: 3} == real_counts(k)
    assert CANARY in all_quads(store)


def test_rebuild_keeps_a_graph_the_record_does_not_list(tmp_path: Path, store: Path) -> None:
    with KnowledgeBase.open(store, update_token="t") as k:
        k.update(f'INSERT DATA {{ GRAPH <{GRAPH_BASE}mine> {{ <urn:a> <urn:b> "kept" }} }}', token="t")
    meta = json.loads((store / META_NAME).read_text(encoding="utf-8"))
    del meta["graphs"][f"{GRAPH_BASE}mine"]  # the record drifted from the store
    (store / META_NAME).write_text(json.dumps(meta), encoding="utf-8")
    with KnowledgeBase.open(store) as k:
        assert k.graphs() == {BIG: 500, SMALL: 3, f"{GRAPH_BASE}mine": 1} == real_counts(k)
        assert "record" in k.backend.recovered  # said in one line, never resolved by deleting
        assert "\n" not in k.backend.recovered
        k.import_file(triples(tmp_path / "big.nt", 600, "new"))  # the rebuild path
        assert real_counts(k)[f"{GRAPH_BASE}mine"] == 1 and CANARY in stored(k)
    with KnowledgeBase.open(store) as k:
        assert k.backend.recovered is None
        assert k.graphs() == {BIG: 600, SMALL: 3, f"{GRAPH_BASE}mine": 1} == real_counts(k)


def test_graph_store_put_of_the_default_graph_survives_a_rebuild(tmp_path: Path, store: Path) -> None:
    put = ox.Triple(ox.NamedNode("urn:put"), ox.NamedNode("urn:p"), ox.Literal("gsp"))
    with KnowledgeBase.open(store) as k:
        k.backend.write_graph(None, [put], replace=True)
        k.import_file(triples(tmp_path / "big.nt", 600, "new"))
        assert k.backend.graph_triples(None) == [put]


def test_an_update_naming_a_new_graph_is_never_swept(tmp_path: Path, store: Path) -> None:
    new = f"{GRAPH_BASE}fresh"
    with KnowledgeBase.open(store, update_token="t") as k:
        k.update(f'INSERT DATA {{ GRAPH <{new}> {{ <urn:a> <urn:b> 1, 2 }} }}', token="t")
    with KnowledgeBase.open(store) as k:
        k.import_file(triples(tmp_path / "big.nt", 600, "new"))
    with KnowledgeBase.open(store) as k:
        assert k.backend.recovered is None
        assert k.graphs()[new] == 2 == real_counts(k)[new]


# -- item 2: N-Quads and TriG keep their graph names --------------------------------------------
QUADS = (f'<http://ex/a> <http://ex/p> "x" <{OTHER}> .\n'
         '<http://ex/a> <http://ex/p> "in the default graph" .\n')


@pytest.mark.parametrize("name, text", [
    ("q.nq", QUADS),
    ("q.trig", f'<{OTHER}> {{ <http://ex/a> <http://ex/p> "x" }}\n'
               '<http://ex/a> <http://ex/p> "in the default graph" .\n'),
])
def test_dataset_import_keeps_its_named_graphs(tmp_path: Path, store: Path, name: str, text: str) -> None:
    (tmp_path / name).write_text(text, encoding="utf-8")
    with KnowledgeBase.open(store) as k:
        assert k.import_file(tmp_path / name) == import_graph("q")
        assert k.graphs()[OTHER] == 1 and k.graphs()[import_graph("q")] == 1
    with KnowledgeBase.open(store) as k:
        assert k.backend.recovered is None  # nothing swept as "an interrupted write"
        assert k.graphs() == {BIG: 500, SMALL: 3, OTHER: 1, import_graph("q"): 1} == real_counts(k)
        # Re-importing replaces the graphs the file names, all-or-nothing.
        (tmp_path / name).write_text(text.replace('"x"', '"y"'), encoding="utf-8")
        k.import_file(tmp_path / name)
        assert {q.object.value for q in stored(k) if q.graph_name == ox.NamedNode(OTHER)} == {"y"}
        assert CANARY in stored(k)


def test_cli_import_of_quads_reports_every_graph(tmp_path: Path, store: Path) -> None:
    (tmp_path / "q.nq").write_text(QUADS, encoding="utf-8")
    proc = ckb("import", str(tmp_path / "q.nq"), store=store)
    assert proc.returncode == 0, proc.stderr
    assert f"<{OTHER}>: 1 triple" in proc.stdout and "2 triples" in proc.stdout, proc.stdout
    query = f"SELECT ?o WHERE {{ GRAPH <{OTHER}> {{ ?s ?p ?o }} }}"
    proc = ckb("query", query, "--format", "tsv", store=store)
    assert proc.returncode == 0 and '"x"' in proc.stdout and "recovered" not in proc.stderr, proc


def test_load_of_quads_keeps_their_graphs(tmp_path: Path, store: Path) -> None:
    (tmp_path / "q.nq").write_text(QUADS, encoding="utf-8")
    with KnowledgeBase.open(store) as k:
        k.load([tmp_path / "q.nq"])
    with KnowledgeBase.open(store) as k:
        assert k.backend.recovered is None
        assert k.graphs() == {OTHER: 1, import_graph("q"): 1} == real_counts(k)


def test_a_failed_dataset_import_writes_nothing(tmp_path: Path, store: Path) -> None:
    before = all_quads(store)
    (tmp_path / "q.nq").write_text(QUADS + "<http://ex/a> <http://ex/p> oops .\n", encoding="utf-8")
    with KnowledgeBase.open(store) as k, pytest.raises(Exception, match=r"q\.nq:3:"):
        k.import_file(tmp_path / "q.nq")
    assert all_quads(store) == before


CUT_XML = ('<?xml version="1.0"?>\n<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
           'xmlns:ex="http://ex/">\n<rdf:Description rdf:about="http://ex/a"><ex:p>x</ex:p></rdf:Description>\n'
           '<rdf:Description rdf:about="http://ex/b"><ex:p>y</ex:p>')


@pytest.mark.parametrize("memory", [False, True])
def test_a_truncated_rdf_xml_file_is_refused(tmp_path: Path, store: Path, memory: bool) -> None:
    (tmp_path / "cut.rdf").write_text(CUT_XML, encoding="utf-8")  # c5c59e4 imported one triple of it
    before = all_quads(store)
    with KnowledgeBase.open(memory=memory, path=None if memory else store) as k:
        graphs = k.graphs()
        with pytest.raises(Exception, match=r"cut\.rdf:4:\d+: .*cut off"):
            k.import_file(tmp_path / "cut.rdf")
        assert k.graphs() == graphs
    assert all_quads(store) == before


# -- crashes: only a write's own debris is removed --------------------------------------------------
def test_graph_store_put_killed_before_its_swap_leaves_no_staging_graph(store: Path) -> None:
    script = (
        "import pyoxigraph as ox\n"
        "from kb import KnowledgeBase\n"
        f"k = KnowledgeBase.open({str(store)!r})\n"
        "t = ox.Triple(ox.NamedNode('urn:x'), ox.NamedNode('urn:y'), ox.Literal('new'))\n"
        f"k.backend.write_graph({SMALL!r}, [t], replace=True)\n"
    )
    before = all_quads(store)
    run_killed(script, "gsp-staged")
    with KnowledgeBase.open(store) as k:
        assert stored(k) == before  # the old graph, and no staging graph adopted
        assert k.graphs() == {BIG: 500, SMALL: 3} == real_counts(k)
        assert "removed 1 graph(s)" in k.backend.recovered


@pytest.mark.parametrize("point", ["journal-written", "bulk-loaded"])
def test_new_import_killed_before_commit_removes_only_its_own_graph(tmp_path: Path, store: Path,
                                                                     point: str) -> None:
    before = all_quads(store)
    (tmp_path / "q.nq").write_text(QUADS, encoding="utf-8")
    script = ("from kb import KnowledgeBase\n"
              f"KnowledgeBase.open({str(store)!r}).import_file({str(tmp_path / 'q.nq')!r})\n")
    run_killed(script, point)
    with KnowledgeBase.open(store) as k:
        assert stored(k) == before
        assert k.graphs() == {BIG: 500, SMALL: 3} == real_counts(k)


# -- item 13: a store an older release wrote ------------------------------------------------------
SHAPE = ox.Quad(ox.NamedNode("urn:shape"), ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
                ox.NamedNode("http://www.w3.org/ns/shacl#NodeShape"), ox.NamedNode(GRAPH_SHAPES))


@pytest.mark.parametrize("with_meta", [False, True])
def test_a_store_an_older_release_wrote_is_upgraded(tmp_path: Path, with_meta: bool) -> None:
    """Before 2f7c1d0 updates without GRAPH went to the updates graph and the shapes sat in the store."""
    path = tmp_path / "old"
    old = ox.Store(str(path))
    a, b, d, e = (ox.NamedNode(f"urn:{x}") for x in "abde")
    old.add(ox.Quad(a, b, ox.Literal("updated"), ox.NamedNode(UPDATES)))
    old.add(SHAPE)
    old.add(ox.Quad(d, e, ox.Literal("data"), ox.NamedNode(GRAPH_DATA)))
    old.flush()
    del old
    if with_meta:  # as the metadata's first release (bd0ba0d) wrote it
        (path / META_NAME).write_text(json.dumps({"format": 1, "bundle": None, "swaps": [], "recount": [],
                                                  "graphs": {UPDATES: 1, GRAPH_SHAPES: 1, GRAPH_DATA: 1}}))
    with KnowledgeBase.open(path, update_token="t") as k:
        assert "upgraded" in (k.backend.recovered or "")
        assert k.query("ASK { ?s a <http://www.w3.org/ns/shacl#NodeShape> }").boolean is False
        assert b"urn:shape" in k.shapes.ntriples()  # the shapes moved beside the store, not lost
        assert k.query('ASK { <urn:a> <urn:b> "updated" }').boolean is True
        k.update('DELETE DATA { <urn:a> <urn:b> "updated" }', token="t")
        assert k.query("ASK { <urn:a> <urn:b> ?o }").boolean is False
        assert k.graphs() == {GRAPH_DATA: 1} == real_counts(k)
    with KnowledgeBase.open(path) as k:
        assert k.backend.recovered is None
    assert read_meta(path) is not None


# -- item 12: a load that would empty the store ----------------------------------------------------
def ckb(*args: str, store: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("CKB_STORE", "CKB_TEST_CRASH_AT")}
    return subprocess.run([sys.executable, "-m", "kb.cli", *args, "--store", str(store)], capture_output=True,
                          text=True, timeout=120, env=env, cwd=ROOT)


def test_load_of_files_without_triples_needs_force(tmp_path: Path, store: Path) -> None:
    empty = tmp_path / "empty.ttl"
    empty.write_text("@prefix ex: <http://example.org/> .\n", encoding="utf-8")
    before = all_quads(store)
    proc = ckb("load", str(empty), "--no-index", store=store)
    assert proc.returncode != 0
    assert len(proc.stderr.strip().splitlines()) == 1 and "--force" in proc.stderr, proc.stderr
    assert all_quads(store) == before
    proc = ckb("load", str(empty), "--force", "--no-index", store=store)
    assert proc.returncode == 0, proc.stderr
    assert all_quads(store) == set()


def test_rebuild_killed_after_copying_keeps_the_old_store(tmp_path: Path, store: Path) -> None:
    before = all_quads(store)
    big = triples(tmp_path / "big.nt", 600, "n")
    script = f"from kb import KnowledgeBase\nKnowledgeBase.open({str(store)!r}).import_file({str(big)!r})\n"
    run_killed(script, "rebuild-copied")
    with KnowledgeBase.open(store) as k:
        assert stored(k) == before and k.backend.recovered == "removed 1 leftover rebuild folder(s)"


def test_upgrade_killed_after_saving_the_shapes_is_finished(tmp_path: Path) -> None:
    path = tmp_path / "old"
    old = ox.Store(str(path))
    old.add(SHAPE)
    old.flush()
    del old
    run_killed(f"from kb import KnowledgeBase\nKnowledgeBase.open({str(path)!r})\n", "upgrade-shapes-saved")
    with KnowledgeBase.open(path) as k:
        assert "upgraded" in k.backend.recovered
        assert stored(k) == set() and k.shapes.count() == 1


def test_every_crash_point_is_listed() -> None:
    """CRASH_POINTS is the one list a model test kills at: every crash_point call in kb/ is in it."""
    from kb.store.lifecycle import CRASH_POINTS

    used = {m for p in (ROOT / "kb").rglob("*.py")
            for m in re.findall(r'crash_point\("([^"]+)"\)', p.read_text(encoding="utf-8"))}
    assert used == set(CRASH_POINTS)
