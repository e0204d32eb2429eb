"""Crash recovery on open, with real ``kill -9``s: nothing half-written is ever seen, no debris stays.

Each scenario runs ``ckb`` (or a small kb script) in a child process and kills it with SIGKILL,
either at a named step (CKB_TEST_CRASH_AT, a test-only hook in kb.store.lifecycle.crash_point) or
after a delay, then opens the store again and checks what it holds.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kb import KnowledgeBase
from kb.namespaces import import_graph
from kb.store.lifecycle import META_NAME, read_meta

ROOT = Path(__file__).resolve().parent.parent
COUNT = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"


def triples(path: Path, n: int, tag: str) -> Path:
    """An N-Triples file of ``n`` distinct triples whose objects carry ``tag``."""
    with open(path, "w", encoding="utf-8") as out:
        for i in range(n):
            out.write(f'<http://example.org/s{i}> <http://example.org/p> "{tag} {i}" .\n')
    return path


def ckb(*args: str, store: Path, crash: str | None = None,
        timeout: float = 120) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("CKB_STORE", "CKB_TEST_CRASH_AT")}
    if crash:
        env["CKB_TEST_CRASH_AT"] = crash
    cmd = [sys.executable, "-m", "kb.cli", *args, "--store", str(store)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT)


def killed(proc: subprocess.CompletedProcess) -> None:
    assert proc.returncode == -signal.SIGKILL, (proc.returncode, proc.stderr)


def actual_counts(k: KnowledgeBase) -> dict[str, int]:
    """Count every graph in the store itself, bypassing the metadata."""
    rows = k.backend.store.query(COUNT)
    return {r["g"].value: int(r["n"].value) for r in rows}


def open_checked(store: Path) -> KnowledgeBase:
    """Open the store; its metadata must agree with a real count, and no debris may be left."""
    k = KnowledgeBase.open(store)
    assert k.graphs() == actual_counts(k)
    leftovers = [p.name for p in store.parent.iterdir() if ".rebuild-" in p.name or ".old-" in p.name]
    assert leftovers == []
    assert not any("staging" in g for g in actual_counts(k))
    return k


def objects(k: KnowledgeBase, graph: str) -> set[str]:
    rows = k.query(f"SELECT ?o WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}").rows
    return {str(r["o"]).split()[0] for r in rows}


@pytest.fixture
def base(tmp_path: Path) -> Path:
    """A store holding a big graph 'big' (500 triples) and a small one 'small' (3 triples, "old")."""
    store = tmp_path / "store"
    assert ckb("load", str(triples(tmp_path / "big.nt", 500, "big")), store=store).returncode == 0
    assert ckb("import", str(triples(tmp_path / "small.nt", 3, "old")), store=store).returncode == 0
    return store


SMALL, BIG = import_graph("small"), import_graph("big")


def test_open_reads_counts_from_metadata_not_the_store(base: Path) -> None:
    meta = read_meta(base)
    assert meta is not None and meta.graphs == {BIG: 500, SMALL: 3}
    # A planted count proves open never counts: it is served as written.
    text = (base / META_NAME).read_text(encoding="utf-8").replace('": 500', '": 123')
    (base / META_NAME).write_text(text, encoding="utf-8")
    with KnowledgeBase.open(base) as k:
        assert k.graphs() == {BIG: 123, SMALL: 3}
        assert k.backend.recovered is None


def test_counts_follow_imports_updates_and_loads(tmp_path: Path, base: Path) -> None:
    with KnowledgeBase.open(base, update_token="t") as k:
        k.import_file(triples(tmp_path / "small.nt", 7, "new"))
        k.update('INSERT DATA { GRAPH <https://w3id.org/conflict-kb/graph/g> '
                 '{ <http://e/x> <http://e/p> "1", "2" } }',
                 token="t")
        k.update(f"DELETE WHERE {{ GRAPH <{SMALL}> {{ <http://example.org/s0> ?p ?o }} }}", token="t")
        k.update('INSERT DATA { <http://e/x> <http://e/p> "3" }', token="t")
        assert k.graphs() == actual_counts(k)
        assert k.graphs()[SMALL] == 6 and k.graphs()["https://w3id.org/conflict-kb/graph/g"] == 2
    with open_checked(base) as k:
        assert k.graphs()[SMALL] == 6


def test_new_import_killed_before_commit_is_swept(tmp_path: Path, base: Path) -> None:
    killed(ckb("import", str(triples(tmp_path / "extra.nt", 50, "x")), store=base, crash="before-commit"))
    with open_checked(base) as k:
        assert k.graphs() == {BIG: 500, SMALL: 3}
        assert "removed 1 graph(s) (50 triples)" in k.backend.recovered


def test_reimport_in_place_killed_before_commit_keeps_the_old_graph(tmp_path: Path, base: Path) -> None:
    killed(ckb("import", str(triples(tmp_path / "small.nt", 4, "new")), store=base, crash="before-commit"))
    with open_checked(base) as k:
        assert objects(k, SMALL) == {"old"} and k.graphs()[SMALL] == 3
        assert "interrupted write left" in k.backend.recovered


def test_reimport_in_place_killed_after_commit_is_finished(tmp_path: Path, base: Path) -> None:
    killed(ckb("import", str(triples(tmp_path / "small.nt", 4, "new")), store=base, crash="before-swap"))
    with open_checked(base) as k:
        assert objects(k, SMALL) == {"new"} and k.graphs()[SMALL] == 4
        assert k.backend.recovered == "finished replacing 1 graph(s) that a crash interrupted"


@pytest.mark.parametrize("point", ["rebuild-loaded", "rebuild-built"])
def test_load_killed_before_the_swap_keeps_the_old_store(tmp_path: Path, base: Path, point: str) -> None:
    killed(ckb("load", str(triples(tmp_path / "other.nt", 20, "o")), store=base, crash=point))
    with open_checked(base) as k:
        assert k.graphs() == {BIG: 500, SMALL: 3}
        assert k.backend.recovered == "removed 1 leftover rebuild folder(s)"


def test_load_killed_between_the_renames_is_finished(tmp_path: Path, base: Path) -> None:
    killed(ckb("load", str(triples(tmp_path / "other.nt", 20, "o")), store=base, crash="between-renames"))
    assert not base.exists()  # the crash really fell between the renames
    proc = ckb("query", "ASK { ?s ?p ?o }", store=base)
    assert proc.returncode == 0, proc.stderr
    assert "ckb: recovered: finished swapping in a rebuilt store that a crash interrupted" in proc.stderr
    with open_checked(base) as k:
        assert k.graphs() == {import_graph("other"): 20}


def test_swap_with_an_incomplete_new_store_is_undone(tmp_path: Path, base: Path) -> None:
    killed(ckb("load", str(triples(tmp_path / "other.nt", 20, "o")), store=base, crash="between-renames"))
    (rebuilt,) = [p for p in tmp_path.iterdir() if ".rebuild-" in p.name]
    (rebuilt / META_NAME).unlink()  # as if the new store had never been finished
    with open_checked(base) as k:
        assert k.graphs() == {BIG: 500, SMALL: 3}
        assert k.backend.recovered.startswith("restored the previous store after a crash")


@pytest.mark.parametrize("point, tag", [("rebuild-loaded", "big"), ("between-renames", "new"),
                                        ("after-renames", "new")])
def test_reimport_by_rebuild_killed(tmp_path: Path, base: Path, point: str, tag: str) -> None:
    # Replacing the graph that holds most of the store goes through a rebuild.
    killed(ckb("import", str(triples(tmp_path / "big.nt", 600, "new")), store=base, crash=point))
    with open_checked(base) as k:
        assert objects(k, BIG) == {tag}
        assert objects(k, SMALL) == {"old"}
        assert k.graphs() == {BIG: 600 if tag == "new" else 500, SMALL: 3}


def test_update_killed_before_its_counts_are_written_is_recounted(base: Path) -> None:
    script = (
        "from kb import KnowledgeBase\n"
        f"k = KnowledgeBase.open({str(base)!r}, update_token='t')\n"
        "k.update('INSERT DATA { GRAPH <https://w3id.org/conflict-kb/graph/u> "
        "{ <http://e/a> <http://e/b> 1, 2, 3 } }',"
        " token='t')\n"
    )
    env = {**os.environ, "CKB_TEST_CRASH_AT": "after-write"}
    killed(subprocess.run([sys.executable, "-c", script], env=env, cwd=ROOT, capture_output=True, text=True))
    with open_checked(base) as k:
        assert k.graphs()["https://w3id.org/conflict-kb/graph/u"] == 3
        assert "recounted" in k.backend.recovered


@pytest.mark.parametrize("delay", [0.3, 0.8, 1.5, 3.0])
def test_kill_at_any_moment_of_a_big_reimport_leaves_old_or_new(tmp_path: Path, base: Path,
                                                                delay: float) -> None:
    """A real kill -9 after a delay, wherever the re-import happens to be."""
    data = triples(tmp_path / "big.nt", 60_000, "new")
    env = {k: v for k, v in os.environ.items() if k != "CKB_STORE"}
    proc = subprocess.Popen([sys.executable, "-m", "kb.cli", "import", str(data), "--store", str(base)],
                            env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    with open_checked(base) as k:
        assert objects(k, BIG) in ({"big"}, {"new"})
        assert k.graphs()[BIG] in (500, 60_000) and k.graphs()[SMALL] == 3


@pytest.mark.parametrize("delay", [0.3, 1.0, 2.0])
def test_kill_at_any_moment_of_a_load_leaves_old_or_new(tmp_path: Path, base: Path, delay: float) -> None:
    data = triples(tmp_path / "other.nt", 60_000, "o")
    env = {k: v for k, v in os.environ.items() if k != "CKB_STORE"}
    proc = subprocess.Popen([sys.executable, "-m", "kb.cli", "load", str(data), "--store", str(base)],
                            env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    with open_checked(base) as k:
        assert k.graphs() in ({BIG: 500, SMALL: 3}, {import_graph("other"): 60_000})
