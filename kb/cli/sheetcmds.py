"""Claim sheets: ``ckb sheet check FILE``, ``ckb sheet new TEXT``, ``ckb sheet compile SHEET`` and
``ckb import SHEET.yaml``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def is_sheet(path: str) -> bool:
    """True for a file ``ckb import`` takes as a claim sheet."""
    return path.endswith((".yaml", ".yml"))


def cmd_sheet_check(kb: Any, args: argparse.Namespace) -> int:
    """ckb sheet check FILE: every problem as FILE:LINE:COLUMN: message; exit 1 if any; writes nothing."""
    from kb.sheets.importer import check

    checked = check(Path(args.file), kb)
    for note in checked.notes:
        print(note, file=sys.stderr)
    for problem in checked.problems:
        print(problem)
    if checked.problems:
        return 1
    print(f"{args.file}: {len(checked.sheet.data['claims']) if checked.sheet else 0} claims, all placed")
    return 0


def cmd_sheet_new(kb: Any, args: argparse.Namespace) -> int:
    """ckb sheet new TEXT [-o SHEET]: write a skeleton sheet beside the text."""
    from kb.sheets.importer import new_sheet

    text = Path(args.text)
    out = Path(args.output) if args.output else text.with_suffix(".yaml")
    new_sheet(text, out)
    print(f"wrote {out}: fill it in, then `ckb sheet check {out}`")
    return 0


def _problems(problems: list[str], file: str, what: str) -> int:
    """Print a bad sheet's problems, one line each, and say nothing was done: exit status 1."""
    for problem in problems:
        print(problem)
    print(f"ckb: error: {len(problems)} problem(s) in {file}; nothing {what}", file=sys.stderr)
    return 1


def cmd_sheet_compile(kb: Any, args: argparse.Namespace) -> int:
    """ckb sheet compile SHEET [-o TTL]: the sheet as Turtle (to TTL, else stdout); loads nothing."""
    from kb.sheets.importer import SheetProblems, compile_file, compiled_turtle

    try:
        g = compile_file(kb, args.file)
    except SheetProblems as err:
        return _problems(err.problems, args.file, "written")
    text = compiled_turtle(g, args.file)
    if not args.output:
        sys.stdout.write(text)
        return 0
    out = Path(args.output)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(out)  # all or nothing: a failed write leaves the old file
    print(f"wrote {out}: {len(g)} triples", file=sys.stderr)
    return 0


def cmd_import_sheet(kb: Any, args: argparse.Namespace) -> int:
    """ckb import SHEET.yaml: check, compile and load the sheet into its own graph, all-or-nothing."""
    from kb.cli.commands import _index_after_import
    from kb.errors import KBError
    from kb.sheets.importer import SheetProblems, import_sheet

    if args.name:
        raise KBError("a sheet's graph is named for its document (sheet-ID, from document: id:); "
                      "--name does not apply")
    try:
        result = import_sheet(kb, args.file)
    except SheetProblems as err:
        return _problems(err.problems, args.file, "imported")
    for note in result.notes:
        print(note, file=sys.stderr)
    if result.unchanged:
        print(f"{args.file} is already imported into <{result.graph}> (same sheet and text): nothing changed")
        return 0
    print(f"imported {result.claims} claims of {args.file} into <{result.graph}>: {result.triples} triples")
    if result.minted:
        print("new actors and places: " + ", ".join(result.minted))
    _index_after_import(kb, args)
    return 0


def add_sheet(sub: Any, cmd: Any) -> None:
    """Register ``ckb sheet check|new|compile`` (cmd is main's helper that adds a sub-command)."""
    c = cmd("sheet", lambda kb, a: a.sheet_handler(kb, a),
            "claim sheets: check one, start one for a text, or compile one to Turtle")
    inner = c.add_subparsers(dest="sheet_command", metavar="ACTION", parser_class=sub._parser_class)
    inner.required = True
    k = inner.add_parser("check", help="report every problem as FILE:LINE:COLUMN (changes nothing)")
    k.add_argument("file", metavar="FILE")
    k.set_defaults(sheet_handler=cmd_sheet_check)
    n = inner.add_parser("new", help="write a skeleton sheet for a text file")
    n.add_argument("text", metavar="TEXT")
    n.add_argument("-o", "--output", metavar="SHEET", help="where (default: TEXT with .yaml)")
    n.set_defaults(sheet_handler=cmd_sheet_new)
    m = inner.add_parser("compile", help="write the sheet as Turtle (loads nothing)")
    m.add_argument("file", metavar="SHEET")
    m.add_argument("-o", "--output", metavar="TTL", help="where (default: standard output)")
    m.set_defaults(sheet_handler=cmd_sheet_compile)
