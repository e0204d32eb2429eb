"""Know what a query does from a real parse: SERVICE, LOAD and dataset clauses.

The check parses with rdflib's SPARQL 1.1 grammar (a maintained parser, not
regular expressions) and walks the parse tree. It runs inside the fenced query
worker, never in the server process: a pathological query costs a worker's
time limit, not the server's threads or GIL. The worker's seccomp fence is the
second line: if this parser and Oxigraph's ever disagree, a SERVICE still
cannot open a connection.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pyparsing import ParseBaseException
from rdflib.plugins.sparql.parser import parseQuery, parseUpdate
from rdflib.plugins.sparql.parserutils import CompValue

from kb.errors import ForbiddenQuery, QuerySyntaxError
from kb.store.backend import MAX_QUERY_LENGTH

__all__ = ["MAX_QUERY_LENGTH", "Analysis", "analyse", "may_reach_network"]
MAX_DEPTH = 64  # brackets open at once, counted in the raw text (an upper bound on real nesting)

# What each refused construct is called in the parse tree, and why it is refused.
_REFUSED = {
    "ServiceGraphPattern": ("SERVICE", "this knowledge base never calls other services"),
    "Load": ("LOAD", "this knowledge base never fetches documents"),
}
_DATASET = {"DatasetClause", "UsingClause"}


# What a query's text must hold for it to have a SERVICE or FROM clause, by any tokenisation:
# the letters themselves anywhere (no word boundaries: the engine's lexer reads "2SERVICE" as the
# number 2 and the keyword, and a lexer of our own would be one more thing to get wrong), or a
# "\\u"/"\\U" escape, which could spell either. A name such as prov:wasDerivedFrom is then
# parsed too: the price of a test no tokenisation can fool. On the explorer's 13 queries, 8 are
# now parsed (4 before); the parse costs ~30 ms a text, once per worker (always parsing: 29 ms
# mean, this test: 19 ms).
_QUERY_SPELLINGS = re.compile(r"from|service|\\u", re.IGNORECASE)
# Text that could make the engine open a connection: only such text is never handed to the
# engine when the checker cannot parse it (see may_reach_network).
_NETWORK_SPELLINGS = re.compile(r"service|load|\\u", re.IGNORECASE)


def may_reach_network(text: str) -> bool:
    """True if some tokenisation of ``text`` could hold SERVICE or LOAD: never run it unchecked."""
    return _NETWORK_SPELLINGS.search(text) is not None


@dataclass(frozen=True)
class Analysis:
    """What the parse found that decides how the query runs."""

    has_dataset: bool  # FROM / FROM NAMED (queries) or USING / USING NAMED / WITH (updates)
    operations: tuple[str, ...] = ()  # the update operations, in order (Modify, InsertData, Clear, ...)


def analyse(text: str, update: bool = False, max_length: int = MAX_QUERY_LENGTH) -> Analysis:
    """Parse a query or update; raise QuerySyntaxError or ForbiddenQuery, else say what it does."""
    if len(text) > max_length:
        raise ForbiddenQuery(f"the {'update' if update else 'query'} is {len(text)} characters long; "
                             f"the limit is {max_length}")
    if not update and not _QUERY_SPELLINGS.search(text) and _depth(text) <= MAX_DEPTH:
        # No parse can find SERVICE or FROM where the text cannot spell them, so the slow
        # parse is skipped; syntax errors are then the engine's to report, with its position.
        # Deeper text is parsed here first: Oxigraph's parser overflows its stack on deep nesting.
        return Analysis(False)
    try:
        tree = parseUpdate(text) if update else parseQuery(text)
    except ParseBaseException as err:
        raise QuerySyntaxError(err.lineno, err.col, _short(err.msg)) from None
    except RecursionError:
        # Refused, not probed further: the engine's own parser would overflow its stack on it.
        raise ForbiddenQuery(f"the {'update' if update else 'query'} is nested too deeply to check") from None
    found: set[str] = set()
    operations: list[str] = []
    has_dataset = _walk(tree, found, operations if update else None)
    for name, (keyword, why) in _REFUSED.items():
        if name in found:
            raise ForbiddenQuery(f"{keyword}{_where(text, keyword)} is not allowed: {why}")
    return Analysis(has_dataset, tuple(operations))


def _walk(node: Any, found: set[str], operations: list[str] | None) -> bool:
    """Collect the names of the parse tree's nodes; True if a dataset clause occurs."""
    has_dataset = False
    stack = [node]
    while stack:  # iterative: a deep tree must not exhaust the stack a second time
        item = stack.pop()
        if isinstance(item, CompValue):
            found.add(item.name)
            if item.name in _DATASET or (item.name == "Modify" and item.get("withClause") is not None):
                has_dataset = True
            stack.extend(item.values())
        elif isinstance(item, list | tuple) or type(item).__name__ == "ParseResults":
            stack.extend(item)
    if operations is not None and isinstance(node, CompValue):
        operations.extend(op.name for op in node.get("request", []) if isinstance(op, CompValue))
    return has_dataset


def _depth(text: str) -> int:
    """The most brackets open at once, strings and comments included (so never an underestimate)."""
    depth = deepest = 0
    for char in text:
        if char in "{([":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "})]":
            depth -= 1
    return deepest


def _where(text: str, keyword: str) -> str:
    # Only for the message: the verdict comes from the parse tree, this just points at the word.
    m = re.search(rf"(?i)(?<![\w:]){keyword}(?![\w:])", text)
    if m is None:
        return ""
    line = text.count("\n", 0, m.start()) + 1
    column = m.start() - (text.rfind("\n", 0, m.start()) + 1) + 1
    return f" at line {line}, column {column}"


def _short(detail: str, limit: int = 200) -> str:
    detail = " ".join(str(detail).split())
    return detail if len(detail) <= limit else detail[: limit - 1] + "…"
