"""The store interface: what the KnowledgeBase needs from any backend.

The embedded Oxigraph store implements it today; a remote SPARQL 1.1 server
can implement the same protocol without any caller changing.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from .results import QueryResult


@dataclass
class QueryRequest:
    """One read-only query and the limits and dataset it runs with."""

    query: str
    default_graphs: list[str] | None
    named_graphs: list[str] | None
    limit: int
    timeout: float
    prefixes: dict[str, str] = field(default_factory=dict)
    base_iri: str | None = None  # resolves relative IRIs in the query


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
    ) -> None:
        """Parse every file into its graph and swap them in all-or-nothing."""
        ...

    def quads(self, graph: str | None = None) -> Iterator[Any]:
        """Iterate the pyoxigraph quads of one graph, or of all graphs."""
        ...

    def update(
        self,
        sparql: str,
        prefixes: dict[str, str],
        default_as: str | None = None,
        base_iri: str | None = None,
    ) -> None:
        """Apply a (checked) SPARQL update; ``default_as`` names the graph standing in for the default."""
        ...

    def close(self) -> None:
        """Release the store and its workers."""
        ...
