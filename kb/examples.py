"""The competency questions shipped in ontology/queries/*.rq, as one-click examples."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

QUERIES_DIR = Path(__file__).resolve().parent.parent / "ontology" / "queries"


@dataclass(frozen=True)
class Example:
    """One competency question: its file stem, the question, notes and the query text."""

    name: str
    question: str
    description: str
    sparql: str


def _split_header(text: str) -> tuple[list[str], str]:
    """Return the leading ``#`` comment lines (without ``#``) and the whole query text."""
    header: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("#"):
            header.append(stripped.lstrip("#").strip())
        elif stripped:
            break
        elif header:
            header.append("")  # a blank line inside the header separates paragraphs
    return header, text.strip() + "\n"


def _strip_label(line: str) -> str:
    """Drop a leading 'Question:', 'CQ3:' or 'Q:' style label from a header line."""
    head, sep, rest = line.partition(":")
    if sep and rest.strip() and len(head) <= 12 and " " not in head.strip():
        return rest.strip()
    return line


def parse_example(name: str, text: str) -> Example:
    """Parse one .rq file: first comment line is the question, the others describe it."""
    header, sparql = _split_header(text)
    lines = list(header)
    while lines and not lines[0]:
        lines.pop(0)
    question = _strip_label(lines[0]) if lines else name.replace("-", " ").replace("_", " ")
    description = " ".join(part for part in lines[1:] if part).strip()
    return Example(name=name, question=question, description=description, sparql=sparql)


def load_examples(directory: Path | str | None = None) -> list[Example]:
    """Load every ``*.rq`` competency question from ``directory`` (ontology/queries), by name."""
    folder = Path(directory) if directory is not None else QUERIES_DIR
    if not folder.is_dir():
        return []
    return [
        parse_example(path.stem, path.read_text(encoding="utf-8"))
        for path in sorted(folder.glob("*.rq"))
    ]
