"""One adapter per store under test: load a file, run a query, serialise everything."""

from __future__ import annotations

import shutil
import tempfile
from typing import Protocol

BIG = 10**9  # a row limit no benchmark query reaches, so kb never truncates


class Store(Protocol):
    """What the benchmark does with a store."""

    persistent: bool

    def load(self, path: str) -> None:
        """Load an N-Triples file."""

    def query(self, sparql: str, timeout: float) -> int:
        """Run a SELECT to completion, building every row; return the row count."""

    def serialise(self) -> int:
        """Serialise every triple as N-Triples; return the byte count."""

    def reopen(self) -> None:
        """Close and open again (persistent stores only)."""

    def close(self) -> None:
        """Release the store and its files."""


class RdflibStore:
    """rdflib's in-memory Graph: the naive baseline."""

    persistent = False

    def __init__(self) -> None:
        from rdflib import Graph

        self.g = Graph()

    def load(self, path: str) -> None:
        self.g.parse(path, format="nt")

    def query(self, sparql: str, timeout: float) -> int:
        return sum(1 for _ in (tuple(row) for row in self.g.query(sparql)))

    def serialise(self) -> int:
        return len(self.g.serialize(format="nt", encoding="utf-8"))

    def reopen(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        self.g = None  # type: ignore[assignment]


class OxigraphStore:
    """pyoxigraph used directly: Store() + load in memory, or Store(path) + bulk_load on disk."""

    def __init__(self, on_disk: bool) -> None:
        import pyoxigraph as ox

        self.ox = ox
        self.persistent = on_disk
        self.dir = tempfile.mkdtemp(prefix="bench-ox-") if on_disk else None
        self.store = ox.Store(self.dir) if on_disk else ox.Store()

    def load(self, path: str) -> None:
        fmt = self.ox.RdfFormat.N_TRIPLES
        if self.persistent:
            self.store.bulk_load(path=path, format=fmt)
        else:
            self.store.load(path=path, format=fmt)  # faster queries than bulk_load in memory

    def query(self, sparql: str, timeout: float) -> int:
        return sum(1 for _ in (tuple(sol) for sol in self.store.query(sparql)))

    def serialise(self) -> int:
        ox = self.ox
        return len(self.store.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=ox.DefaultGraph()))

    def reopen(self) -> None:
        del self.store
        self.store = self.ox.Store(self.dir)

    def close(self) -> None:
        del self.store
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)


class KBStore:
    """The project's store through kb.KnowledgeBase (on disk, or memory=True)."""

    def __init__(self, on_disk: bool) -> None:
        from kb.api import KnowledgeBase

        self.KB = KnowledgeBase
        self.persistent = on_disk
        self.dir = tempfile.mkdtemp(prefix="bench-kb-") if on_disk else None
        self.kb = self._open()

    def _open(self):  # kb's type is only importable once kb exists
        if self.persistent:
            return self.KB.open(path=self.dir, timeout=3600.0, row_limit=BIG)
        return self.KB.open(memory=True, timeout=3600.0, row_limit=BIG)

    def load(self, path: str) -> None:
        self.kb.import_file(path, name="synthetic")

    def query(self, sparql: str, timeout: float) -> int:
        res = self.kb.query(sparql, timeout=timeout, limit=BIG)
        if res.truncated:
            raise RuntimeError("kb truncated the result")
        return len(res.rows)

    def serialise(self) -> int:
        return len(self.kb.export(format="ntriples", graph="all"))

    def reopen(self) -> None:
        self.kb.close()
        self.kb = self._open()

    def close(self) -> None:
        self.kb.close()
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)


# name -> (label in tables, factory)
STORES = {
    "rdflib": ("rdflib Graph, in memory", RdflibStore),
    "kb-disk": ("kb (Oxigraph) on disk", lambda: KBStore(on_disk=True)),
    "kb-memory": ("kb (Oxigraph) memory=True", lambda: KBStore(on_disk=False)),
    "oxigraph-memory": ("pyoxigraph direct, in memory", lambda: OxigraphStore(on_disk=False)),
    "oxigraph-disk": ("pyoxigraph direct, on disk", lambda: OxigraphStore(on_disk=True)),
}
