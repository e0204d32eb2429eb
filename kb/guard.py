"""Refuse dangerous SPARQL before it reaches the engine.

Oxigraph follows SERVICE IRIs over HTTP, so SERVICE must never reach it; LOAD
fetches documents; FROM / FROM NAMED must only name graphs this store holds.
The checks run on a lexical view of the query with strings, IRIs and comments
masked, so a keyword inside a literal or an IRI is never mistaken for one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from .errors import ForbiddenQuery

MAX_QUERY_LENGTH = 100_000

# Order matters: long strings before short ones, so '''a "b" c''' is one token.
_MASKED = re.compile(
    r"'''.*?'''|\"\"\".*?\"\"\""
    r"|'(?:[^'\\\n]|\\.)*'|\"(?:[^\"\\\n]|\\.)*\""
    r"|<[^<>\"{}|^`\\\x00-\x20]*>"
    r"|#[^\n]*",
    re.DOTALL,
)
_KEYWORD = r"(?<![\w:?$-]){}(?![\w:-])"
_SERVICE = re.compile(_KEYWORD.format("SERVICE"), re.IGNORECASE)
_LOAD = re.compile(_KEYWORD.format("LOAD"), re.IGNORECASE)
_FROM = re.compile(
    _KEYWORD.format("FROM") + r"\s+(?:NAMED\s+)?(<[^>]*>|[A-Za-z_][\w.-]*:[\w.-]*|:[\w.-]*)",
    re.IGNORECASE,
)
_PREFIX = re.compile(r"PREFIX\s+([\w.-]*):\s*<([^>]*)>", re.IGNORECASE)


def _mask(query: str) -> str:
    """Blank out strings and comments (same length) and IRIs (keep the <...> for FROM)."""

    def blank(m: re.Match[str]) -> str:
        tok = m.group(0)
        if tok.startswith("<"):
            return tok  # IRIs stay: FROM needs them, and no keyword matches inside <...>
        return re.sub(r"[^\n]", " ", tok)

    return _MASKED.sub(blank, query)


def _position(query: str, offset: int) -> str:
    line = query.count("\n", 0, offset) + 1
    column = offset - (query.rfind("\n", 0, offset) + 1) + 1
    return f"line {line}, column {column}"


def _refuse_keyword(query: str, masked: str, pattern: re.Pattern[str], why: str) -> None:
    stripped = re.sub(r"<[^<>\"{}|^`\\\x00-\x20]*>", lambda m: " " * len(m.group(0)), masked)
    m = pattern.search(stripped)
    if m:
        raise ForbiddenQuery(f"{m.group(0).upper()} at {_position(query, m.start())} is not allowed: {why}")


def check_query(
    query: str,
    known_graphs: Iterable[str],
    prefixes: dict[str, str],
    max_length: int = MAX_QUERY_LENGTH,
    update: bool = False,
) -> bool:
    """Raise ForbiddenQuery unless the query is safe; return True if it has its own FROM clauses."""
    if len(query) > max_length:
        raise ForbiddenQuery(f"query is {len(query)} characters long; the limit is {max_length}")
    masked = _mask(query)
    _refuse_keyword(query, masked, _SERVICE, "this knowledge base never calls other services")
    _refuse_keyword(query, masked, _LOAD, "this knowledge base never fetches documents")
    if update:
        return False
    known = set(known_graphs)
    declared = dict(prefixes)
    declared.update({p: iri for p, iri in _PREFIX.findall(masked)})
    for m in _FROM.finditer(masked):
        target = m.group(1)
        if target.startswith("<"):
            iri = target[1:-1]
        else:
            prefix, _, local = target.partition(":")
            iri = declared.get(prefix, "\0") + local
        if iri not in known:
            raise ForbiddenQuery(
                f"FROM <{iri}> at {_position(query, m.start())} names no graph in this knowledge "
                "base; remote or file graphs are never fetched"
            )
    return _FROM.search(masked) is not None
