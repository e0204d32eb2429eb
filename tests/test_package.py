"""The built wheel works outside the checkout: bundled ontology, data and examples included."""

from __future__ import annotations

import html
import os
import shutil
import subprocess
import sys
import sysconfig
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from kb.query.examples import load_examples
from tests.engines import ROOT, free_port

# What a wheel is built from: the sources and the one copy of ontology/ and data/.
SOURCES = ("kb", "webui", "ontology", "data", "pyproject.toml", "README.md", "LICENSE")


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, str]]]:
    """A fresh venv outside the checkout with only the built wheel installed: (bin folder, env)."""
    work = tmp_path_factory.mktemp("package")
    src = work / "src"
    src.mkdir()
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(ROOT / name, src / name)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    # Offline: no build isolation (setuptools is a test dependency), no index.
    subprocess.run([*pip, "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w",
                    str(work / "dist"), str(src)], check=True, capture_output=True)
    wheel = next((work / "dist").glob("conflict_kb-*.whl"))
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    subprocess.run([*pip, "--python", str(venv / "bin" / "python"), "install", "--no-deps",
                    "--no-index", str(wheel)], check=True, capture_output=True)
    # The dependencies come from this test run's environment, appended after the venv's own
    # site-packages; its .pth files (the editable checkout) are not processed from there.
    site = subprocess.run([str(venv / "bin" / "python"), "-c",
                           "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    Path(site, "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CKB_", "PYTHON"))}
    env.update(HOME=str(work), CKB_STORE=str(work / "store"))
    yield venv / "bin", env


def _run(installed: tuple[Path, dict[str, str]], *args: str) -> str:
    bin_dir, env = installed
    done = subprocess.run([str(bin_dir / "ckb"), *args], cwd=bin_dir.parent.parent, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_wheel_carries_the_bundle_and_reads_it_from_the_install(
    installed: tuple[Path, dict[str, str]],
) -> None:
    bin_dir, env = installed
    where = subprocess.run(
        [str(bin_dir / "python"), "-c", "import kb.store.loader as l, kb.query.examples as e; "
         "print(l.project_root()); print(len(e.load_examples()))"],
        cwd=bin_dir.parent.parent, env=env, capture_output=True, text=True, check=True,
    ).stdout.split()
    assert Path(where[0]).is_relative_to(bin_dir.parent) and where[0].endswith("kb/bundle")
    assert int(where[1]) == len(list((ROOT / "ontology" / "queries").glob("*.rq")))


def test_installed_ckb_queries_and_describes(installed: tuple[Path, dict[str, str]]) -> None:
    out = _run(installed, "query", "--format", "csv",
               "SELECT ?l WHERE { ckbr:Hezbollah rdfs:label ?l }")
    assert out.splitlines() == ["l", "Hezbollah"]
    assert "Hezbollah" in _run(installed, "describe", "Hezbollah")


def test_installed_ckb_serves_the_examples(installed: tuple[Path, dict[str, str]]) -> None:
    bin_dir, env = installed
    port = free_port()
    proc = subprocess.Popen([str(bin_dir / "ckb"), "serve", "--port", str(port)],
                            cwd=bin_dir.parent.parent, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        page = ""
        for _ in range(300):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/query", timeout=5) as r:
                    page = html.unescape(r.read().decode("utf-8"))
                break
            except OSError:
                assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
                time.sleep(0.2)
        assert all(e.name in page and e.question in page for e in load_examples())
    finally:
        proc.terminate()
        proc.wait(20)
        if proc.stderr:
            proc.stderr.close()


def test_installed_import_uses_the_reviewed_alias_table(installed: tuple[Path, dict[str, str]]) -> None:
    # The matching decisions (the former alias table's reviewed rows among them) are package data:
    # ACLED's "Military Forces of Syria (2000-2024)" joins the article's Syrian military by them.
    sample = ROOT / "tests" / "fixtures" / "acled-syria-sample.csv"
    _run(installed, "import", "--format", "acled", str(sample))
    out = _run(installed, "query", "--format", "csv",
               "ASK { ?e ckb:acledId ?id ; ckb:participant ckbr:SyrianMilitary }")
    assert out.strip().lower() == "true", out
    how = _run(installed, "query", "--format", "csv", 'SELECT ?m WHERE { ?x ckb:matchedName '
               '"Military Forces of Syria (2000-2024)" ; ckb:matchDataset "acled" ; ckb:matchMethod ?m }')
    assert set(how.splitlines()[1:]) == {"alias table"}, how
