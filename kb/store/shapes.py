"""The SHACL shapes: kept beside the store, where the queries' default graph cannot see them.

Queries read the engine's union of all graphs, so shapes stored as a graph would
leak into every answer. They live instead in an N-Triples file beside a disk
store (``<store>.shapes.nt``, like the bundle marker), in memory for other stores,
and fall back to the bundled shapes.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph

from kb.namespaces import GRAPH_SHAPES
from kb.store import loader
from kb.store.staging import check_file, rdf_format


class Shapes:
    """The shapes of one knowledge base."""

    def __init__(self, store_path: Path | None, writable: bool) -> None:
        self.file = None if store_path is None else store_path.with_name(store_path.name + ".shapes.nt")
        self.writable = writable
        self._data: bytes | None = None

    def replace(self, files: Sequence[Path]) -> None:
        """Take the shapes from these files (checked first: a bad file changes nothing)."""
        for path in files:
            check_file(path)
        data = b"".join(
            ox.serialize(ox.parse(path=str(p), format=rdf_format(p), base_iri=p.resolve().as_uri()),
                         format=ox.RdfFormat.N_TRIPLES) or b""
            for p in files
        )
        if self.file is not None and self.writable:
            tmp = self.file.with_name(self.file.name + ".tmp")
            tmp.write_bytes(data)
            os.replace(tmp, self.file)  # atomic: old shapes or new, never half
        self._data = data

    def ntriples(self) -> bytes:
        """The shapes as N-Triples."""
        if self._data is None:
            if self.file is not None and self.file.is_file():
                self._data = self.file.read_bytes()
            else:
                bundled = [p for p in loader.bundled_files() if loader.graph_for(p) == GRAPH_SHAPES]
                self._data = b"".join(
                    ox.serialize(ox.parse(path=str(p), format=rdf_format(p)), format=ox.RdfFormat.N_TRIPLES)
                    or b"" for p in bundled
                )
        return self._data

    def count(self) -> int:
        """How many shape triples there are."""
        return self.ntriples().count(b"\n")

    def graph(self) -> Graph:
        """The shapes as an rdflib Graph, for pySHACL."""
        return Graph().parse(data=self.ntriples(), format="nt")

    def quads(self) -> list[ox.Quad]:
        """The shapes as quads in the shapes graph (for export)."""
        name = ox.NamedNode(GRAPH_SHAPES)
        return [ox.Quad(t.subject, t.predicate, t.object, name)
                for t in ox.parse(self.ntriples(), format=ox.RdfFormat.N_TRIPLES)]
