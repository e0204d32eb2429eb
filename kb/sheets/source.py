"""Reading a sheet: YAML into plain values, with the line and column of every node kept."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

_CONSTRUCT = yaml.constructor.SafeConstructor()
Path_ = tuple[Any, ...]  # keys and indexes from the document root to a node


@dataclass(frozen=True)
class Problem:
    """One problem in a sheet, at a 1-based line and column."""

    file: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {' '.join(self.message.split())}"


class Sheet:
    """A parsed sheet: its values and where each value was written."""

    def __init__(self, path: Path, data: Any, marks: dict[Path_, tuple[int, int]],
                 duplicates: list[Problem] | None = None) -> None:
        self.path, self.data, self.marks = path, data, marks
        self.duplicates = duplicates or []  # keys written twice in one mapping (YAML keeps the last)

    def at(self, where: Path_, message: str) -> Problem:
        """A problem at the node ``where`` (or the nearest enclosing node that has a position)."""
        key = tuple(where)
        while key not in self.marks and key:
            key = key[:-1]
        line, col = self.marks.get(key, (1, 1))
        return Problem(str(self.path), line, col, message)


def read_sheet(path: Path) -> Sheet:
    """Parse a sheet; a YAML syntax error becomes a Problem raised as SheetSyntaxError."""
    text = path.read_text(encoding="utf-8")
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise SheetSyntaxError(Problem(str(path), line, col, f"not YAML: {err.problem or err}")) from None
    marks: dict[Path_, tuple[int, int]] = {}
    twice: list[tuple[int, int, str]] = []
    data = _plain(node, (), marks, twice) if node is not None else None
    return Sheet(path, data, marks, [Problem(str(path), line, col, f"{key!r} is given twice here")
                                     for line, col, key in twice])


class SheetSyntaxError(Exception):
    """The sheet is not YAML; carries the one Problem."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


def _plain(node: yaml.Node, where: Path_, marks: dict[Path_, tuple[int, int]],
           twice: list[tuple[int, int, str]]) -> Any:
    """The node as dicts, lists and scalars; records the node's position under ``where`` and each
    key repeated in a mapping (line, column, key)."""
    marks[where] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _scalar(key_node)
            if key in out:
                twice.append((key_node.start_mark.line + 1, key_node.start_mark.column + 1, str(key)))
            # a key's problem (an unknown field) points at the key, its value's at the value
            marks[(*where, ("key", key))] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            out[key] = _plain(value_node, (*where, key), marks, twice)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_plain(item, (*where, i), marks, twice) for i, item in enumerate(node.value)]
    return _scalar(node)


def _scalar(node: yaml.Node) -> Any:
    """A scalar as YAML's safe loader types it, except dates, which stay text (as written)."""
    if not isinstance(node, yaml.ScalarNode):
        return str(node.value)
    if node.tag == "tag:yaml.org,2002:timestamp":
        return node.value
    return _CONSTRUCT.construct_object(node, deep=True)
