"""The README stays honest: what it tells people to run exists and is what CI runs."""

from __future__ import annotations

import re
from pathlib import Path

from kb.cli.main import build_parser

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _subcommands() -> set[str]:
    parser = build_parser()
    actions = [a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction"]
    return set(actions[0].choices)


def test_every_ckb_command_in_the_readme_exists() -> None:
    named = set(re.findall(r"^ckb (\w+)", README, re.MULTILINE)) | set(re.findall(r"`ckb (\w+)", README))
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
    for target in re.findall(r"\]\(([^)#]+)\)", README):
        assert (ROOT / target).exists(), target


def test_no_placeholder_is_left() -> None:
    assert "BENCHMARK_TABLE" not in README and "TODO" not in README


def test_python_api_example_runs(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("CKB_STORE", str(tmp_path / "store"))
    monkeypatch.delenv("CKB_ENDPOINT", raising=False)
    code = README.split("## The Python API", 1)[1].split("```python", 1)[1].split("```", 1)[0]
    exec(compile(code, "README.md", "exec"), {})
    out = capsys.readouterr().out
    assert "Hezbollah" in out and '"head"' in out
