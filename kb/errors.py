"""Errors raised by conflict-kb; each message is one readable line."""

from __future__ import annotations


class KBError(Exception):
    """Base class: anything a user did wrong or that the KB refuses."""

    status = 400  # the HTTP status the web UI answers with


class ParseError(KBError):
    """A data file is malformed; carries file, line and column."""

    def __init__(self, path: str, line: int | None, column: int | None, detail: str) -> None:
        self.path, self.line, self.column, self.detail = path, line, column, detail
        where = path if line is None else f"{path}:{line}:{column or 1}"
        super().__init__(f"{where}: {detail}")


class QuerySyntaxError(KBError):
    """A SPARQL query does not parse; carries line and column."""

    def __init__(self, line: int | None, column: int | None, detail: str) -> None:
        self.line, self.column, self.detail = line, column, detail
        where = "" if line is None else f"line {line}, column {column}: "
        super().__init__(f"SPARQL syntax error: {where}{detail}")


class ForbiddenQuery(KBError):
    """The query asks for something the KB never does (SERVICE, LOAD, remote FROM...)."""

    status = 400


class QueryTimeout(KBError):
    """The query ran past its time limit and was stopped."""

    status = 503

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        super().__init__(f"query stopped after its time limit of {seconds:g} s")


class UpdateTimeout(QueryTimeout):
    """An update ran past its time limit: its worker was stopped before it committed."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        KBError.__init__(self, f"the update stopped after its time limit of {seconds:g} s; "
                               "nothing was written")


class UpdateRefused(KBError):
    """Updates are off, or the request lacked the right token."""

    status = 403


class OutsideNamespace(KBError):
    """A write names a graph outside the KB's namespace, and the KB takes writes only inside it."""

    status = 403

    @classmethod
    def for_graph(cls, graph: str) -> OutsideNamespace:
        """The refusal of a write to ``graph``, naming the rule."""
        return cls(f"graph <{graph}> is outside this knowledge base's graph namespace, and it takes "
                   "writes only there (--own-graphs-only: https://w3id.org/conflict-kb/graph/ and "
                   "each --graph-prefix)")


class NotFound(KBError):
    """An entity, graph or file that does not exist."""

    status = 404


class StoreError(KBError):
    """The store cannot be opened or written."""

    status = 500


class StoreFull(StoreError):
    """The disk holding the store is full: a write could not be made (reads still work)."""

    status = 507
