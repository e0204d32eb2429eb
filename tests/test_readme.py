"""The README stays honest: what it tells people to run exists and is what CI runs."""

from __future__ import annotations

import re
from pathlib import Path

from kb.cli.main import build_parser

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
DOCS = {path: path.read_text(encoding="utf-8")
        for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]}


def _subcommands() -> set[str]:
    parser = build_parser()
    actions = [a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction"]
    return set(actions[0].choices)


def test_every_ckb_command_in_the_readme_and_docs_exists() -> None:
    text = "\n".join(DOCS.values())
    command = r"(\w[\w-]*)"  # match-events
    named = set(re.findall(r"^ckb " + command, text, re.MULTILINE))
    named |= set(re.findall(r"`ckb " + command, text))
    named.discard("--version")
    assert named, "the README shows no ckb commands"
    assert named <= _subcommands(), named - _subcommands()


def test_quick_start_is_two_commands_and_ci_runs_the_test_one() -> None:
    block = README.split("## Quick start", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    commands = [line.split("#", 1)[0].strip() for line in block.strip().splitlines()]
    assert commands == ["bash scripts/serve.sh", "bash scripts/test.sh"]
    for command in commands:
        assert (ROOT / command.split()[1]).is_file()
    assert "bash scripts/test.sh" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_linked_files_and_screenshots_exist() -> None:
    for path, text in DOCS.items():
        for target in re.findall(r"\]\(([^)#]+)\)", text):
            if not target.startswith(("http://", "https://")):
                assert (path.parent / target).exists(), f"{path.name}: {target}"


def test_no_placeholder_is_left() -> None:
    for text in DOCS.values():
        for mark in ("BENCHMARK_TABLE", "TODO", "DURABILITY_SECTION", "MODEL_DETAILS"):
            assert mark not in text, mark


def test_python_api_example_runs(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("CKB_STORE", str(tmp_path / "store"))
    monkeypatch.delenv("CKB_ENDPOINT", raising=False)
    code = README.split("## The Python API", 1)[1].split("```python", 1)[1].split("```", 1)[0]
    exec(compile(code, "README.md", "exec"), {})
    out = capsys.readouterr().out
    assert "Hezbollah" in out and '"head"' in out
