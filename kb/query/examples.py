"""The competency questions shipped in ontology/queries/*.rq, as one-click examples."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kb.store.loader import project_root


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


_KEYS = {"question": "question", "q": "question", "description": "description",
         "notes": "description", "note": "description"}


def _key_of(line: str) -> tuple[str | None, str]:
    """Split 'Question: text' into ('question', 'text'); other lines give (None, line)."""
    head, sep, rest = line.partition(":")
    key = head.strip().lower()
    if sep and key in _KEYS:
        return _KEYS[key], rest.strip()
    if sep and key[:2] == "cq" and key[2:].isdigit():
        return "question", rest.strip()
    return None, line


def parse_example(name: str, text: str) -> Example:
    """Parse one .rq file: 'Question:'/'Description:' header fields, or first line + the rest."""
    header, sparql = _split_header(text)
    fields: dict[str, list[str]] = {"question": [], "description": []}
    current: str | None = None
    keyed = any(_key_of(line)[0] for line in header)
    for line in header:
        key, value = _key_of(line)
        if key is not None:
            current = key
        elif not keyed and line:
            # Without field names, the first line is the question and the rest describe it.
            current = "question" if not fields["question"] else "description"
        elif current is None:
            continue
        elif not line:
            current = "description" if current == "question" else current
            continue
        fields[current].append(value)
    question = " ".join(v for v in fields["question"] if v).strip()
    question = question or name.replace("-", " ").replace("_", " ")
    description = " ".join(v for v in fields["description"] if v).strip()
    return Example(name=name, question=question, description=description, sparql=sparql)


def load_examples(directory: Path | str | None = None) -> list[Example]:
    """Load every ``*.rq`` competency question from ``directory`` (default: the bundle's), by name."""
    folder = Path(directory) if directory is not None else project_root() / "ontology" / "queries"
    if not folder.is_dir():
        return []
    return [
        parse_example(path.stem, path.read_text(encoding="utf-8"))
        for path in sorted(folder.glob("*.rq"))
    ]
