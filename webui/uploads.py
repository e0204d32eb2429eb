"""An uploaded file imported as ``ckb import`` would: staged in a private temporary folder, then run
through the same all-or-nothing import paths (kb.sheets.importer, kb.imports.pipeline, kb.import_rdf).

The client names no path on this machine: each upload is saved under its own base name (made safe)
in a folder made for the request, and a claim sheet's text goes where the sheet says, but only
inside that folder. Messages name files as the client sent them, never the temporary folder.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from werkzeug.datastructures import FileStorage
from werkzeug.utils import secure_filename

from kb.errors import KBError

FORMATS = ("rdf", "ucdp-ged", "acled")  # as `ckb import --format`; a .yaml/.yml file is a claim sheet
SHEET_SUFFIXES = (".yaml", ".yml")


class BadUpload(KBError):
    """The upload itself is wrong (no file, a bad name, a text without a sheet): 400, nothing written."""


@dataclass
class Outcome:
    """What an import through the server did, as the page and ``ckb import`` show it."""

    graph: str = ""
    unchanged: bool = False
    summary: str = ""
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # a bad sheet: one line each; nothing written
    skipped: list[tuple[int, str]] = field(default_factory=list)
    minted: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """The outcome as the JSON answer of POST /import."""
        return {"graph": self.graph, "unchanged": self.unchanged, "summary": self.summary,
                "notes": self.notes, "problems": self.problems,
                "skipped": [list(s) for s in self.skipped], "minted": self.minted}


def safe_name(filename: str | None) -> str:
    """The upload's base name, reduced to safe characters; BadUpload if nothing is left."""
    name = secure_filename(Path((filename or "").replace("\\", "/")).name)
    if not name or name.startswith("."):
        raise BadUpload("the uploaded file needs a file name (e.g. report.yaml, events.csv, data.ttl)")
    return name


def is_sheet(name: str) -> bool:
    """True for a file imported as a claim sheet."""
    return name.lower().endswith(SHEET_SUFFIXES)


@contextmanager
def staging() -> Iterator[Path]:
    """A private temporary folder for one request's files, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="ckb-upload-") as tmp:
        yield Path(tmp)


def stage(folder: Path, upload: FileStorage, text: FileStorage | None) -> Path:
    """Save the upload (and a sheet's text where the sheet names it) in ``folder``; return its path."""
    name = safe_name(upload.filename)
    path = folder / name
    upload.save(path)
    if text is None or not text.filename:
        return path
    if not is_sheet(name):
        raise BadUpload("a text file goes only with a claim sheet (.yaml)")
    wanted = _sheet_text(path)
    if wanted is None:
        return path  # an unreadable sheet: the import says what is wrong with it
    target = (folder / wanted).resolve()
    if not target.is_relative_to(folder.resolve()) or target == path.resolve():
        return path  # the sheet check reports a text outside the sheet's folder
    target.parent.mkdir(parents=True, exist_ok=True)
    text.save(target)
    return path


def _sheet_text(path: Path) -> str | None:
    """The text file the sheet names (document: text:), or None if the sheet does not say."""
    from kb.sheets.source import SheetSyntaxError, read_sheet

    try:
        value = read_sheet(path).data["document"]["text"]
    except (SheetSyntaxError, KeyError, TypeError, UnicodeDecodeError):
        return None
    return value if isinstance(value, str) and value else None


def run(kb: Any, path: Path, fmt: str, name: str | None, skip_bad: bool) -> Outcome:
    """Import the staged file at ``path`` all-or-nothing; problems of a bad sheet come back in the outcome."""
    if fmt not in FORMATS:
        raise BadUpload(f"unknown format {fmt!r}; one of: {', '.join(FORMATS)}")
    if fmt == "rdf" and is_sheet(path.name):
        return _sheet(kb, path, name)
    if fmt == "rdf":
        written = kb.import_rdf(path, name=name or None)
        graph = next(iter(written))
        return Outcome(graph, summary=f"imported {path.name} into <{graph}>: "
                       + "; ".join(f"<{g}>: {n:,} triples" if g != graph else f"{n:,} triples"
                                   for g, n in written.items()))
    from kb.imports import run_import

    result = run_import(kb, path, fmt, name=name or None, skip_bad=skip_bad)
    if result.unchanged:
        return Outcome(result.graph, unchanged=True,
                       summary=f"{path.name} is already imported into <{result.graph}> (same SHA-256): "
                               "nothing changed")
    notes = [f"{len(result.unmatched)} actor names matched no known actor; see `ckb actors --unmatched`"
             ] if result.unmatched else []
    return Outcome(result.graph, notes=notes, skipped=list(result.skipped),
                   summary=f"imported {result.rows} rows of {path.name} into <{result.graph}>: "
                           f"{kb.graphs().get(result.graph, 0):,} triples")


def _sheet(kb: Any, path: Path, name: str | None) -> Outcome:
    from kb.sheets.importer import SheetProblems, import_sheet

    if name:
        raise BadUpload("a sheet's graph is named for its document (sheet-ID, from document: id:); "
                        "a graph name does not apply")
    try:
        result = import_sheet(kb, path)
    except SheetProblems as err:
        return Outcome(problems=[str(p) for p in err.problems])
    notes = [str(n) for n in result.notes]
    if result.unchanged:
        return Outcome(result.graph, unchanged=True, notes=notes,
                       summary=f"{path.name} is already imported into <{result.graph}> (same sheet and "
                               "text): nothing changed")
    return Outcome(result.graph, notes=notes, minted=list(result.minted),
                   summary=f"imported {result.claims} claims of {path.name} into <{result.graph}>: "
                           f"{result.triples:,} triples")


def scrub(text: str, folder: Path) -> str:
    """``text`` without the staging folder: a file is named as the client sent it."""
    for form in {str(folder.resolve()), str(folder)}:
        text = re.sub(re.escape(form) + r"/?", "", text)
    return text
