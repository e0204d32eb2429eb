"""The store interface: what the KnowledgeBase needs from any backend.

The embedded Oxigraph store implements it today; a remote SPARQL 1.1 server
can implement the same protocol without any caller changing.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from kb.query.results import QueryResult

MAX_QUERY_LENGTH = 100_000  # characters per query or update (kb.query.guard refuses longer ones)


@dataclass
class QueryRequest:
    """One read-only query and the limits and dataset it runs with.

    ``default_graphs``: None is the KB's default graph, the merge of all its graphs (the
    query's own FROM clauses apply if it has any); a list names the graphs to merge, and an
    empty list is an empty default graph. ``named_graphs``: None is every graph the KB holds
    (or the query's FROM NAMED); a list names them, and an empty list means none.
    """

    query: str
    default_graphs: list[str] | None
    named_graphs: list[str] | None
    limit: int
    timeout: float
    prefixes: dict[str, str] = field(default_factory=dict)
    base_iri: str | None = None
    # The results or RDF format the engine writes, or one per kind ("select", "ask", "graph");
    # None: TSV for solutions, N-Triples for graphs, JSON for booleans.
    format: str | dict[str, str] | None = None
    check: bool = True  # False only where a test drives the worker past the parse check
    # The default graph of a query that names no dataset itself (no FROM / FROM NAMED) when the
    # request names none either (``default_graphs`` None): None is the union (``inferred=False``
    # lists the graphs but the inferred one). A query's own FROM always wins over it.
    plain_default_graphs: list[str] | None = None


@dataclass
class CheckRequest:
    """Only the parse check of a query or update (for stores whose engine runs elsewhere)."""

    text: str
    update: bool
    timeout: float


@dataclass
class ExportRequest:
    """Write some graphs to a file in one RDF format (kb.export.stream runs it in a worker).

    ``graphs``: graph IRIs, "" for the store's own default graph. ``extra``: N-Quads to append
    (the SHACL shapes kept beside the store). ``pretty``: kb.export's sorted, grouped writer
    (for graphs small enough to sort in memory); otherwise the engine streams the statements;
    None: the worker counts them and decides (kb.export.stream.PRETTY_LIMIT).
    """

    graphs: list[str]
    format: str  # a key of kb.export.rdf.FORMATS
    output: str  # the file to write (atomically: a partial file never has this name)
    timeout: float
    prefixes: dict[str, str] = field(default_factory=dict)
    extra: bytes = b""
    pretty: bool | None = False


@dataclass
class UpdateRequest:
    """One SPARQL update and its limits; it runs as one transaction."""

    update: str
    timeout: float
    prefixes: dict[str, str] = field(default_factory=dict)
    base_iri: str | None = None
    check: bool = True
    # The client's Idempotency-Key: an update whose key already committed is not applied again.
    key: str | None = None
    # An INSERT DATA of this request's commit marker, applied in the same transaction (kb.store.commits).
    marker: str | None = None


class Backend(Protocol):
    """A quad store holding the KB's named graphs."""

    def graphs(self) -> dict[str, int]:
        """Return each named graph IRI with its number of triples."""
        ...

    def query(self, request: QueryRequest) -> QueryResult:
        """Evaluate a (checked) read-only query within its time limit and row cap."""
        ...

    def replace_graphs(
        self, files: Sequence[tuple[Path, str]], extra: Sequence[tuple[bytes, str]], clear_others: bool
    ) -> list[str] | None:
        """Parse every file into its graph and swap them in all-or-nothing; return the graphs written
        (a dataset file's named graphs too), or None if the backend does not say."""
        ...

    def quads(self, graph: str | None = None) -> Iterator[Any]:
        """Iterate the pyoxigraph quads of one graph, or of all graphs."""
        ...

    def update(self, request: UpdateRequest) -> None:
        """Apply a SPARQL update as one transaction, within its time limit."""
        ...

    def close(self) -> None:
        """Release the store and its workers."""
        ...
