"""Stores written by older releases: their layout moved to today's on the first writable open.

Before the union default graph (2f7c1d0), updates that named no graph were written to the
updates graph instead of the store's default graph, and the SHACL shapes were a graph in the
store. Opened as they are, a plain ``DELETE DATA`` could not reach what those updates wrote and
the shapes were in every query's default graph. Both move, losing nothing: the updates graph
into the default graph, the shapes graph into the shapes file beside the store (kb.store.shapes).
"""

from __future__ import annotations

import os
from pathlib import Path

import pyoxigraph as ox

from kb.namespaces import GRAPH_BASE, GRAPH_SHAPES
from kb.store.lifecycle import LAYOUT, crash_point
from kb.terms import iri_ref

UPDATES = GRAPH_BASE + "updates"  # the older releases' stand-in for the default graph


def upgrade(store: ox.Store, path: Path, layout: int, graphs: dict[str, int]) -> str | None:
    """Move an older layout's updates and shapes graphs (dropping them from ``graphs``); return a note."""
    if layout >= LAYOUT:
        return None
    present = {g.value for g in store.named_graphs() if isinstance(g, ox.NamedNode)}
    # Older releases moved every unnamed write out of the default graph at once, so an older
    # store's default graph is empty; one that is not was written by today's releases.
    empty_default = next(iter(store.quads_for_pattern(None, None, None, ox.DefaultGraph())), None) is None
    ops: list[str] = []
    moved: list[str] = []
    if UPDATES in present and empty_default:
        ops += [f"ADD SILENT GRAPH {iri_ref(UPDATES)} TO DEFAULT", f"DROP SILENT GRAPH {iri_ref(UPDATES)}"]
        moved.append(f"its updates graph ({graphs.pop(UPDATES, 0)} triples) into the default graph")
    if GRAPH_SHAPES in present:
        _save_shapes(store, path.with_name(path.name + ".shapes.nt"))
        crash_point("upgrade-shapes-saved")
        ops.append(f"DROP SILENT GRAPH {iri_ref(GRAPH_SHAPES)}")
        moved.append(f"its shapes graph ({graphs.pop(GRAPH_SHAPES, 0)} triples) beside the store")
    if not ops:
        return None
    store.update(" ;\n".join(ops))  # one transaction: moved or not, never half
    return "upgraded a store an older release wrote: moved " + " and ".join(moved)


def _save_shapes(store: ox.Store, file: Path) -> None:
    """Write the shapes graph to the shapes file, keeping any shapes the file already holds."""
    data = store.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=ox.NamedNode(GRAPH_SHAPES)) or b""
    if file.is_file():  # a later release loaded shapes beside the store already: keep both
        lines = dict.fromkeys(file.read_bytes().splitlines(keepends=True))
        lines.update(dict.fromkeys(data.splitlines(keepends=True)))
        data = b"".join(lines)
    tmp = file.with_name(file.name + ".tmp")
    with open(tmp, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, file)  # before the graph is dropped: a crash between leaves both, never neither
