"""Replacing graphs all-or-nothing: in place through a staging graph, or by a rebuild and a swap."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path

import pyoxigraph as ox

from kb.namespaces import GRAPH_CLAIM_INDEX
from kb.store import lifecycle
from kb.store.lifecycle import Meta, crash_point
from kb.store.staging import Prepare, check_file, count_graph, counts_of, stage, swap_update

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
    ) -> None:
        """Load files into their graphs all-or-nothing; with clear_others, rebuild the store."""
        targets = {t for _, t in [*files, *extra]}
        if clear_others:
            self._rebuild(files, extra, prepare, keep=[])
        elif self.path is not None and self._rebuild_is_cheaper(files, extra, targets):
            # A stale claim index is not copied (kb.store.claimindex builds it again).
            keep = [g for g in self.meta.graphs if g not in targets and g != GRAPH_CLAIM_INDEX]
            self._rebuild(files, extra, prepare, keep=keep)
        else:
            self._replace_in_place(files, extra, prepare)

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
        self, files: Sequence[tuple[Path, str]], extra: Sequence[tuple[bytes, str]], prepare: Prepare | None
    ) -> None:
        """New graphs are loaded directly, existing ones through staging graphs and one swap update."""
        loaded: list[tuple[str, str]] = []
        with self._writing():
            try:
                # On disk, bulk loading is ~4x faster than one big transaction. It is not atomic,
                # but every graph it writes here is new (a target or a staging graph) and named by
                # no metadata until the commit below: an error drops them (except: below), a crash
                # leaves them to the next open's sweep. A file is parsed first all the same (~1 s
                # per 1M triples, against ~36 s to drop a 1M graph a late error left). A pipe
                # (kb.imports streams into one) can be read only once: it goes straight in.
                bulk = self.path is not None
                if bulk:
                    for path, _ in files:
                        if path.is_file():
                            check_file(path)
                stage(self.store, files, extra, prepare, loaded, set(self.meta.graphs), bulk=bulk,
                      checked=bulk)
                counts = self._count([g for g, _ in loaded])
                swaps = [(g, t) for g, t in loaded if g != t]
                graphs = {**self.meta.graphs, **{t: counts[g] for g, t in loaded}}
                crash_point("before-commit")
                self._commit(Meta(graphs=dict(sorted(graphs.items())), bundle=self.meta.bundle, swaps=swaps))
            except BaseException:
                # Every graph written so far was new (a target or a staging graph): drop them.
                for graph, _ in loaded:
                    self.store.remove_graph(ox.NamedNode(graph))
                raise
            # Committed: from here a crash is finished by the next open (the swaps are its redo log).
            crash_point("before-swap")
            if swaps:
                self.store.update(swap_update(swaps))
                self._commit(Meta(graphs=self.meta.graphs, bundle=self.meta.bundle))

    def _rebuild(
        self,
        files: Sequence[tuple[Path, str]],
        extra: Sequence[tuple[bytes, str]],
        prepare: Prepare | None,
        keep: Sequence[str],
    ) -> None:
        """Build a complete new store beside the old one (``keep`` copied over), then swap it in."""
        with self._writing():
            if self.path is None:
                new = ox.Store()
                stage(new, files, extra, prepare, [], set())
                new.extend(self._foreign_quads())
                self.store = new
                self.meta = Meta(graphs=counts_of(new))
                return
            tag = uuid.uuid4().hex[:8]
            fresh = lifecycle.sibling(self.path, "rebuild", tag)
            copy = fresh.with_name(fresh.name + ".nt")
            try:
                new = ox.Store(str(fresh))
                # Other users' graphs go over too, and into the record (an unrecorded graph is swept on open).
                foreign = [g for g in self._named()
                           if not g.startswith(self.graph_prefixes) and g not in keep]
                for graph in [*keep, *foreign]:
                    # Dump and bulk-load, both in Rust: the kept graphs never pass through Python.
                    nt, name = ox.RdfFormat.N_TRIPLES, ox.NamedNode(graph)
                    self.store.dump(output=str(copy), format=nt, from_graph=name)
                    new.bulk_load(path=str(copy), format=nt, to_graph=name)
                copy.unlink(missing_ok=True)
                loaded: list[tuple[str, str]] = []
                stage(new, files, extra, prepare, loaded, set(), bulk=True)
                crash_point("rebuild-loaded")
                counts = {g: self.meta.graphs[g] for g in keep}
                for graph in [*(g for g, _ in loaded), *foreign]:
                    counts[graph] = count_graph(new, graph)
                new.flush()
                del new  # closes the new RocksDB before its folder moves
                bundle = self.meta.bundle if keep else None
                lifecycle.write_meta(fresh, Meta(graphs=dict(sorted(counts.items())), bundle=bundle))
            except BaseException:
                shutil.rmtree(fresh, ignore_errors=True)
                copy.unlink(missing_ok=True)
                raise
            crash_point("rebuild-built")
            old = lifecycle.sibling(self.path, "old", tag)
            self.store = None
            os.rename(self.path, old)
            crash_point("between-renames")
            os.rename(fresh, self.path)
            crash_point("after-renames")
            self.store = ox.Store(str(self.path))
            self.meta = lifecycle.read_meta(self.path) or Meta()
            shutil.rmtree(old, ignore_errors=True)

    def _foreign_quads(self) -> Iterator[ox.Quad]:
        """The quads of named graphs that are not the KB's, to keep them through a rebuild."""
        for graph in self.store.named_graphs():
            if isinstance(graph, ox.NamedNode) and graph.value.startswith(self.graph_prefixes):
                continue
            yield from self.store.quads_for_pattern(None, None, None, graph)
