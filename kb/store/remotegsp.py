"""The Graph Store Protocol's graph operations on a SPARQL server, as the embedded store has them.

Bodies are parsed (in a fenced worker) before they reach here, so only checked triples are sent:
as N-Triples chunks to a staging graph (the server's own Graph Store endpoint where it has one),
then switched in by one update that also recounts the graph in the registry. A server's default
graph is not the KB's (on Virtuoso it is the union of every graph), so it is never read or
written here; graphs outside the KB's namespaces are refused, as SPARQL updates are.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import pyoxigraph as ox

from kb.errors import KBError, OutsideNamespace
from kb.store import protocol as p
from kb.store import registry
from kb.store.staging import STAGING
from kb.terms import iri_ref


class ServerDefaultGraph(KBError):
    """The Graph Store Protocol's default graph on a shared server: not the KB's to read or write."""

    status = 400


class RemoteGraphOps:
    """has_graph / graph_triples / write_graph / drop_graph for RemoteBackend (kb.store.remote)."""

    # Provided by RemoteBackend.
    own: Any
    engine: Any
    graphs: Any
    quads: Any
    _holds: Any
    _upload: Any
    _send_update: Any

    def _named(self, graph: str | None) -> str:
        if graph is None:
            raise ServerDefaultGraph("on a SPARQL server the default graph is not the knowledge base's; "
                                     "name one of its graphs with ?graph=IRI")
        if not self.own(graph):
            raise OutsideNamespace.for_graph(graph)
        return graph

    def _drop(self, graph: str) -> list[str]:
        # Virtuoso drops only graphs "explicitly created", not loaded ones: CREATE SILENT first.
        create = [f"CREATE SILENT GRAPH {iri_ref(graph)}"] if self.engine is p.VIRTUOSO else []
        return [*create, f"DROP SILENT GRAPH {iri_ref(graph)}"]

    def has_graph(self, graph: str | None) -> bool:
        """True if the server holds triples in this graph of the KB's."""
        graph = self._named(graph)
        return graph in self.graphs() or self._holds(graph)

    def graph_triples(self, graph: str | None) -> list[ox.Triple]:
        """The triples of one of the KB's graphs on the server."""
        return [q.triple for q in self.quads(self._named(graph))]

    def write_graph(self, graph: str | None, triples: Sequence[ox.Triple], replace: bool) -> None:
        """Replace (PUT) or add to (POST) one graph: staged first, then one update; all-or-nothing."""
        graph = self._named(graph)
        target = iri_ref(graph)
        staging = f"{STAGING}{uuid.uuid4().hex}/gsp"
        try:
            for batch in p.chunks(list(triples), 20_000):
                self._upload(staging, batch)
            ops = self._drop(graph) if replace else []
            ops += [f"ADD SILENT GRAPH {iri_ref(staging)} TO GRAPH {target}",
                    f"DROP SILENT GRAPH {iri_ref(staging)}", *registry.recount([graph])]
            self._send_update(" ;\n".join(ops))
        except BaseException:
            self._send_update(f"DROP SILENT GRAPH {iri_ref(staging)}")
            raise

    def drop_graph(self, graph: str | None) -> None:
        """Remove one of the KB's graphs from the server, and its registry entry."""
        graph = self._named(graph)
        ops = [*self._drop(graph), *registry.set_counts({graph: 0})]
        self._send_update(" ;\n".join(ops))
