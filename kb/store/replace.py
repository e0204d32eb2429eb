"""Replacing graphs all-or-nothing: in place through a staging graph, or by a rebuild and a swap."""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections.abc import Sequence
from pathlib import Path

import pyoxigraph as ox

from kb.errors import StoreError
from kb.store import lifecycle
from kb.store.lifecycle import Meta, crash_point
from kb.store.staging import (
    STAGING,
    Prepare,
    check_file,
    count_graph,
    counts_of,
    is_dataset,
    stage,
    swap_update,
    targets_of,
)

# Replacing graphs in place costs ~4 transactional passes per triple (load, copy, two drops);
# rebuilding costs one bulk pass over the rest of the store: past this ratio, rebuild.
IN_PLACE_RATIO = 4
BYTES_PER_TRIPLE = 80  # a rough size of one triple in a file, to guess a file's triples


class GraphReplacement:
    """The replace and rebuild paths of OxigraphBackend (a mixin over its store, lock and metadata)."""

    def replace_graphs(
        self,
        files: Sequence[tuple[Path, str]],
        extra: Sequence[tuple[bytes, str]] = (),
        clear_others: bool = False,
        prepare: Prepare | None = None,
    ) -> list[str]:
        """Load files into their graphs all-or-nothing (clear_others: a rebuild); return the graphs written.

        A dataset file (N-Quads, TriG) also replaces each named graph it holds, under its own name.
        """
        # Parsed before the write lock: the named graphs are targets too (replaced, counted, recorded).
        named = {p: check_file(p) for p, _ in files if p.is_file() and is_dataset(p)}
        targets = targets_of(files, extra, named)
        if clear_others:
            self._rebuild(files, extra, prepare, named, self._copied(set(targets), everything=False))
        elif self.path is not None and self._rebuild_is_cheaper(files, extra, set(targets)):
            self._rebuild(files, extra, prepare, named, self._copied(set(targets), everything=True))
        else:
            self._replace_in_place(files, extra, prepare, named)
        return targets

    def _copied(self, targets: set[str], everything: bool) -> list[ox.NamedNode | ox.DefaultGraph]:
        """The graphs a rebuild copies over, as the store (not its record) holds them.

        ``everything``: the default graph and every named graph but the targets; else (a load)
        only other users' graphs. (Derived state, such as the claim index, lives beside the store.)
        """
        named = [g for g in self._named() if g not in targets and not g.startswith(STAGING)]
        if not everything:
            return [ox.NamedNode(g) for g in named if not g.startswith(self.graph_prefixes)]
        return [ox.DefaultGraph(), *(ox.NamedNode(g) for g in named)]

    def _rebuild_is_cheaper(
        self, files: Sequence[tuple[Path, str]], extra: Sequence[tuple[bytes, str]], targets: set[str]
    ) -> bool:
        old = sum(n for g, n in self.meta.graphs.items() if g in targets)
        if not old:
            return False  # only new graphs: bulk-loaded straight into the store
        size = sum(p.stat().st_size for p, _ in files) + sum(len(d) for d, _ in extra)
        new = size // BYTES_PER_TRIPLE
        rest = sum(self.meta.graphs.values()) - old
        return IN_PLACE_RATIO * (old + new) > rest

    def _replace_in_place(
        self,
        files: Sequence[tuple[Path, str]],
        extra: Sequence[tuple[bytes, str]],
        prepare: Prepare | None,
        named: dict[Path, list[str]],
    ) -> None:
        """New graphs are loaded directly, existing ones through staging graphs and one swap update."""
        loaded: list[tuple[str, str]] = []
        with self._writing():
            present = set(self._named())  # the store's own list: a graph the record misses is not new
            targets = targets_of(files, extra, named)
            new = [t for t in targets if t not in present]
            if new and self.path is not None:
                # Intent journal, before anything is written: if no commit follows, these graphs
                # (none existed a moment ago, and this process holds the only write lock) are debris.
                self._commit(Meta(graphs=self.meta.graphs, bundle=self.meta.bundle, pending=new))
            crash_point("journal-written")
            try:
                # On disk, bulk loading is ~4x faster than one big transaction. It is not atomic,
                # but every graph it writes here is new (a target or a staging graph) and named by
                # the intent journal or a reserved staging name until the commit below: an error
                # drops them (except: below), a crash leaves them to the next open. A file is parsed
                # first all the same (~1 s per 1M triples, against ~36 s to drop a 1M graph a late
                # error left). A pipe (kb.imports streams into one) can be read only once: it goes
                # straight in.
                bulk = self.path is not None
                if bulk:
                    for path, _ in files:
                        if path.is_file() and path not in named:
                            check_file(path)
                stage(self.store, files, extra, prepare, loaded, present, bulk, checked=bulk, named=named)
                crash_point("bulk-loaded")
                counts = self._count([g for g, _ in loaded])
                swaps = [(g, t) for g, t in loaded if g != t]
                graphs = {g: n for g, n in self.meta.graphs.items() if g not in targets}
                graphs.update({t: counts[g] for g, t in loaded if counts[g]})  # an empty graph is no graph
                crash_point("before-commit")
                self._commit(Meta(graphs=dict(sorted(graphs.items())), bundle=self.meta.bundle, swaps=swaps))
            except BaseException:
                # Every graph written so far was new (a target or a staging graph): drop them.
                for graph, _ in loaded:
                    self.store.remove_graph(ox.NamedNode(graph))
                if self.meta.pending:
                    with contextlib.suppress(Exception):  # the data error is the one to report
                        self._commit(Meta(graphs=self.meta.graphs, bundle=self.meta.bundle))
                raise
            # Committed: from here a crash is finished by the next open (the swaps are its redo log).
            crash_point("before-swap")
            for graph in [t for g, t in loaded if g == t and not counts[g]]:
                self.store.remove_graph(ox.NamedNode(graph))  # created empty: not recorded, not kept
            if swaps:
                self.store.update(swap_update(swaps))
                self._commit(Meta(graphs=self.meta.graphs, bundle=self.meta.bundle))

    def _rebuild(
        self,
        files: Sequence[tuple[Path, str]],
        extra: Sequence[tuple[bytes, str]],
        prepare: Prepare | None,
        named: dict[Path, list[str]],
        copied: Sequence[ox.NamedNode | ox.DefaultGraph],
    ) -> None:
        """Build a complete new store beside the old one (``copied`` graphs copied over), then swap it in."""
        with self._writing():
            kept = (q for graph in copied for q in self.store.quads_for_pattern(None, None, None, graph))
            if self.path is None:
                new = ox.Store()
                new.extend(kept)
                stage(new, files, extra, prepare, [], set(), named=named)
                self.store = new
                self.meta = Meta(graphs=counts_of(new))
                return
            tag = uuid.uuid4().hex[:8]
            fresh = lifecycle.sibling(self.path, "rebuild", tag)
            try:
                new = ox.Store(str(fresh))
                # Quad by quad, in one pass: blank nodes keep their identity across graphs (the
                # engine's loader would give each file's blank nodes fresh names).
                new.bulk_extend(kept)
                crash_point("rebuild-copied")
                loaded: list[tuple[str, str]] = []
                stage(new, files, extra, prepare, loaded, set(), bulk=True, named=named)
                crash_point("rebuild-loaded")
                # A copied graph's count comes from the record when it has one; a loaded one is counted.
                counts = {g.value: self.meta.graphs.get(g.value) or count_graph(new, g.value)
                          for g in copied if isinstance(g, ox.NamedNode)}
                counts.update({g: count_graph(new, g) for g, _ in loaded})
                new.flush()
                del new  # closes the new RocksDB before its folder moves
                whole = any(isinstance(g, ox.DefaultGraph) for g in copied)  # not a load: the bundle stays
                graphs = {g: n for g, n in sorted(counts.items()) if n}
                lifecycle.write_meta(fresh, Meta(graphs=graphs, bundle=self.meta.bundle if whole else None))
            except BaseException:
                shutil.rmtree(fresh, ignore_errors=True)
                raise
            crash_point("rebuild-built")
            old = lifecycle.sibling(self.path, "old", tag)
            self.store = None
            os.rename(self.path, old)
            crash_point("between-renames")
            os.rename(fresh, self.path)
            crash_point("after-renames")
            # As after any fault: retried while a lock lingers, else read-only so that reads go on.
            problem = self._reopen()  # type: ignore[attr-defined]
            if self.store is None:
                raise StoreError(f"the rebuilt store at {self.path} cannot be opened: {problem}")
            self.meta = lifecycle.read_meta(self.path) or Meta()
            shutil.rmtree(old, ignore_errors=True)
