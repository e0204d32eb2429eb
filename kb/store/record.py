"""The store's record of itself (kb.store.lifecycle.Meta), derived from the store and repaired on open.

The store's content is the truth. Open trusts the record's counts (counting a big store takes
minutes) but checks its list of graphs against the store's own, which is cheap: a graph the record
misses is counted and recorded, a graph it lists that the store lacks is dropped from it, and
either is said in one line. Recovery removes only a write's own debris: staging graphs (reserved
names) that no committed redo log names, and the brand-new graphs of an intent journal (``pending``)
whose write never committed. Nothing else is ever deleted on open.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyoxigraph as ox

from kb.store import commits, lifecycle, upgrade
from kb.store.lifecycle import ALL, LAYOUT, Meta
from kb.store.staging import STAGING, count_graph, swap_update


class StoreRecord:
    """Metadata and recovery of OxigraphBackend (a mixin over its store, path and read_only flag)."""

    def _open_meta(self, notes: list[str]) -> None:
        """Read the metadata (a store without any is counted this once), then recover."""
        if self.path is None:
            return
        meta = lifecycle.read_meta(self.path)
        first = meta is None  # no record yet (new, or written before records): nothing to disagree with
        if meta is None:
            legacy = self.path.with_name(self.path.name + ".bundle")  # the marker's old home
            bundle = legacy.read_text(encoding="utf-8").strip() if legacy.is_file() else None
            meta = Meta(bundle=bundle, layout=1)
            if self.read_only:
                graphs = self._count([g for g in self._named() if not g.startswith(STAGING)])
                meta.graphs = {g: n for g, n in graphs.items() if n}
        self.meta = meta
        if not self.read_only:
            self._recover(meta, notes, first)
            if first:
                self.path.with_name(self.path.name + ".bundle").unlink(missing_ok=True)

    def _recover(self, meta: Meta, notes: list[str], first: bool = False) -> None:
        """Redo a committed swap, remove a write's own debris, and make the record agree with the store."""
        redo = [(g, t) for g, t in meta.swaps if g in set(self._named())]
        if redo:
            self.store.update(swap_update(redo))
            notes.append(f"finished replacing {len(redo)} graph(s) that a crash interrupted")
        debris = [g for g in self._named() if g.startswith(STAGING) or g in meta.pending]
        if debris:
            size = sum(self._count(debris).values())
            for g in debris:
                self.store.remove_graph(ox.NamedNode(g))
            notes.append(f"removed {len(debris)} graph(s) ({size} triples) an interrupted write left")
        present = set(self._named())
        graphs = {g: n for g, n in meta.graphs.items() if g in present}
        unsure = present if ALL in meta.recount else set(meta.recount) & present
        unlisted = present - set(graphs) - unsure
        graphs.update(self._count(sorted(unsure | unlisted)))
        found = {g: graphs[g] for g in unlisted if graphs[g]}
        missing = set(meta.graphs) - present
        if meta.recount:
            notes.append("recounted the graphs an interrupted update touched")
        if found and not first:
            notes.append(f"the store's record missed {len(found)} graph(s) ({sum(found.values())} triples): "
                         "recorded them, nothing removed")
        if missing and not first:
            notes.append(f"the store's record listed {len(missing)} graph(s) the store does not hold: "
                         "dropped from the record")
        moved = upgrade.upgrade(self.store, self.path, meta.layout, graphs)
        if moved:
            notes.append(moved)
        changed = bool(redo or debris or meta.recount or found or missing or moved)
        fresh = Meta(graphs={g: n for g, n in sorted(graphs.items()) if n}, bundle=meta.bundle,
                     claim_index="" if changed else meta.claim_index, layout=LAYOUT)
        if fresh != meta or changed:
            self._commit(fresh)

    def _named(self) -> list[str]:
        # Not the commit markers' graph: an update's marker is its own, deleted before readers look.
        return [g.value for g in self.store.named_graphs()
                if isinstance(g, ox.NamedNode) and g.value != commits.MARKER_GRAPH]

    def _count(self, graphs: Sequence[str]) -> dict[str, int]:
        """Count the triples of each graph (a scan of each; never done on a plain open)."""
        return {g: count_graph(self.store, g) for g in graphs}

    def _refreshed(self, meta: Meta, recount: Sequence[str]) -> Meta:
        """The metadata after a write that may have changed ``recount`` (ALL: any graph)."""
        present = {g for g in self._named() if not g.startswith(STAGING)}
        graphs = {g: n for g, n in meta.graphs.items() if g in present}
        todo = present if ALL in recount else (set(recount) | (present - set(graphs))) & present
        graphs.update(self._count(sorted(todo)))
        for g in [g for g, n in graphs.items() if n == 0]:
            self.store.remove_graph(ox.NamedNode(g))  # an emptied graph is no graph
            del graphs[g]
        return Meta(graphs=dict(sorted(graphs.items())), bundle=meta.bundle)

    def _commit(self, meta: Meta) -> None:
        """Make ``meta`` the store's record (on disk: atomically, after the data is flushed)."""
        if self.path is not None:
            self.store.flush()
            lifecycle.write_meta(self.path, meta)
        self.meta = meta
