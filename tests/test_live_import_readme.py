"""The README's worked example stays honest: its text and sheet, imported with the command it shows
through a running server that holds the store, print what it shows."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import waitress

from kb import KnowledgeBase
from kb.cli.liveserver import announced
from webui import create_app

ROOT = Path(__file__).resolve().parent.parent
SECTION = (ROOT / "README.md").read_text(encoding="utf-8").split(
    "## A new report while the server runs (a worked example)", 1)[1].split("\n## ", 1)[0]
TOKEN = "readme-example-token"


def _block(after: str, lang: str) -> str:
    """The fenced block of ``lang`` that follows the text ``after`` in the section."""
    return SECTION.split(after, 1)[1].split(f"```{lang}\n", 1)[1].split("```", 1)[0]


def _ckb(*args: str, cwd: Path, store: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CKB_STORE": str(store), "CKB_UPDATE_TOKEN": TOKEN}
    env.pop("CKB_ENDPOINT", None)
    return subprocess.run([sys.executable, "-m", "kb.cli", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300, env=env)


def test_the_worked_example_imports_through_a_running_server_as_shown(tmp_path: Path) -> None:
    text, sheet = _block("`carrow-point.txt`", "text"), _block("`carrow-point.yaml`", "yaml")
    assert text.startswith("FICTION:") and sheet.startswith("# FICTION:")
    (tmp_path / "carrow-point.txt").write_text(text, encoding="utf-8")
    (tmp_path / "carrow-point.yaml").write_text(sheet, encoding="utf-8")
    commands = [line.split("#", 1)[0].strip() for line in _block("The server runs", "sh").splitlines()]
    assert "ckb import carrow-point.yaml" in commands and "ckb sheet check carrow-point.yaml" in commands
    shown = _block("`ckb import` finds the running server", "text").strip().splitlines()

    store = tmp_path / "store"
    with KnowledgeBase.open(store) as kb:  # this process holds the store, as 'ckb serve' would
        kb.load()
        server = waitress.create_server(create_app({"KB": kb, "UPDATE_TOKEN": TOKEN}), host="127.0.0.1",
                                        port=0, threads=4)
        threading.Thread(target=server.run, daemon=True).start()
        try:
            with announced(store, "127.0.0.1", server.effective_port):
                check = _ckb("sheet", "check", "carrow-point.yaml", cwd=tmp_path, store=store)
                assert check.returncode == 0, check.stderr
                assert check.stdout.strip() == "carrow-point.yaml: 3 claims, all placed"
                done = _ckb("import", "carrow-point.yaml", cwd=tmp_path, store=store)
        finally:
            server.close()
        assert done.returncode == 0, done.stderr
        printed = (done.stderr + done.stdout).strip().splitlines()
        url = f"http://127.0.0.1:{server.effective_port}/"
        assert printed == [re.sub(r"http://127\.0\.0\.1:5000/", url, line) for line in shown]
        graph = "https://w3id.org/conflict-kb/graph/import/sheet-carrow-point"
        said = int(re.search(r": (\d+) triples", "\n".join(shown)).group(1))  # the README's own figure
        assert kb.graphs()[graph] == said
        ask = f"ASK {{ GRAPH <{graph}> {{ ckbr:actor-carrow-harbour-guard rdfs:label ?l }} }}"
        assert kb.query(ask).boolean
