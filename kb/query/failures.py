"""A worker's answer turned into the KB's errors: syntax errors with their position, refusals, timeouts."""

from __future__ import annotations

import re
from typing import Any

from kb.errors import ForbiddenQuery, KBError, QuerySyntaxError, QueryTimeout, StoreError
from kb.query import memory

_POSITION = re.compile(r"error at (\d+):(\d+):\s*(.*)", re.DOTALL)


def syntax_error(message: str, line_shift: int = 0) -> QuerySyntaxError:
    """Turn Oxigraph's 'error at L:C: ...' into a QuerySyntaxError with its position."""
    m = _POSITION.search(message)
    if m:
        return QuerySyntaxError(int(m.group(1)) - line_shift, int(m.group(2)), _short(m.group(3)))
    return QuerySyntaxError(None, None, _short(message))


def _short(detail: str, limit: int = 200) -> str:
    # Oxigraph lists every token it expected; a reader needs the start of that list.
    detail = " ".join(detail.split())
    return detail if len(detail) <= limit else detail[: limit - 1] + "…"


_ERRORS = {"ForbiddenQuery": ForbiddenQuery, "KBError": KBError, "MemoryLimit": memory.MemoryLimit}


def raise_error(answer: dict[str, Any], what: str = "query") -> None:
    """Raise the KB's error for a worker's error answer."""
    kind = answer["error"]
    if kind == "syntax":
        raise syntax_error(answer["message"])
    if kind == "checker":
        raise QuerySyntaxError(answer["line"], answer["column"], answer["message"])
    if kind == "QueryTimeout":
        raise QueryTimeout(answer["seconds"])
    if kind in _ERRORS:
        raise _ERRORS[kind](answer["message"])
    raise StoreError(f"{what} failed: {answer['message']}")
