"""One graph at a time, for the Graph Store Protocol (kb.store.graphstore): read, write and drop a graph."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import pyoxigraph as ox

from kb.store.lifecycle import crash_point
from kb.store.staging import STAGING
from kb.terms import iri_ref


class OneGraphAtATime:
    """The Graph Store operations of OxigraphBackend (a mixin over its store, lock and metadata)."""

    def has_graph(self, graph: str | None) -> bool:
        """True if the named graph exists (even empty); the default graph (None) always does."""
        if graph is None:
            return True
        if graph.startswith(STAGING):
            return False
        with self._lock.read():
            return self.store.contains_named_graph(ox.NamedNode(graph))

    def graph_triples(self, graph: str | None) -> list[ox.Triple]:
        """Return the triples of one named graph, or of the store's own default graph (None)."""
        name = ox.DefaultGraph() if graph is None else ox.NamedNode(graph)
        with self._lock.read():
            return [q.triple for q in self.store.quads_for_pattern(None, None, None, name)]

    def write_graph(self, graph: str | None, triples: Sequence[ox.Triple], replace: bool) -> None:
        """Add triples to one graph (None: the default graph), or replace it; all-or-nothing.

        Only parsed triples and checked graph IRIs reach the store here, never a client's
        SPARQL text, so this runs in the server process with the store's own API.
        """
        target = ox.DefaultGraph() if graph is None else ox.NamedNode(graph)
        # The written graph is recounted into the store's record.
        with self._writing(recount=[] if graph is None else [graph]):
            if not replace:
                # extend() is one transaction; an empty named graph still comes to exist.
                self.store.extend([ox.Quad(t.subject, t.predicate, t.object, target) for t in triples])
                if graph is not None:
                    self.store.add_graph(target)
                return
            # Staging graph first (one transaction), then one update swaps it in (another).
            staging = ox.NamedNode(f"{STAGING}{uuid.uuid4().hex}/gsp")
            try:
                self.store.extend([ox.Quad(t.subject, t.predicate, t.object, staging) for t in triples])
                # A crash here leaves the staging graph (a reserved name, in no redo log): removed on open.
                crash_point("gsp-staged")
                into = "DEFAULT" if graph is None else f"GRAPH {iri_ref(graph)}"
                create = [] if graph is None else [f"CREATE SILENT GRAPH {iri_ref(graph)}"]
                self.store.update(" ;\n".join([
                    f"DROP SILENT {into}", *create,
                    f"ADD SILENT GRAPH {iri_ref(staging.value)} TO {into}",
                    f"DROP SILENT GRAPH {iri_ref(staging.value)}",
                ]))
            finally:
                self.store.remove_graph(staging)

    def drop_graph(self, graph: str | None) -> None:
        """Remove a named graph, or empty the default graph (None)."""
        with self._writing(recount=[] if graph is None else [graph]):
            if graph is None:
                self.store.clear_graph(ox.DefaultGraph())
            else:
                self.store.remove_graph(ox.NamedNode(graph))
