"""Blank-node labels that never depend on load order, so an export is the same file each time."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from typing import Any

import pyoxigraph as ox

# Colour refinement of blank nodes stops once the partition is stable; this caps pathological
# inputs (long chains of blank nodes) so export time stays linear in practice.
_MAX_ROUNDS = 12


def terms_of(item: Any) -> tuple[Any, ...]:
    """The terms of a triple or quad, graph name last."""
    if isinstance(item, ox.Quad):
        return (item.subject, item.predicate, item.object, item.graph_name)
    return (item.subject, item.predicate, item.object)


def canonical_bnodes(items: list[Any]) -> list[Any]:
    """Rename every blank node from the structure around it (see canonical_labels)."""
    rename = canonical_labels(items, None)
    if not rename:
        return items

    def swap(t: Any) -> Any:
        return rename.get(t, t) if isinstance(t, ox.BlankNode) else t

    if items and isinstance(items[0], ox.Quad):
        return [ox.Quad(swap(q.subject), q.predicate, swap(q.object), swap(q.graph_name))
                for q in items]
    return [ox.Triple(swap(t.subject), t.predicate, swap(t.object)) for t in items]


def canonical_labels(items: list[Any], only: set[Any] | None) -> dict[Any, ox.BlankNode]:
    """Labels b0, b1... for blank nodes (all, or ``only``) that never depend on load order.

    Colour refinement (1-dimensional Weisfeiler-Leman): a node's colour is a hash of the
    statements it occurs in, with other blank nodes replaced by their colour. Only nodes that
    the refinement cannot tell apart fall back to their old label.
    """
    if only is not None and not only:
        return {}
    # Each occurrence of a blank node, with the other terms already turned into text.
    incident: dict[ox.BlankNode, list[tuple[Any, ...]]] = defaultdict(list)
    for item in items:
        terms = terms_of(item)
        if any(isinstance(t, ox.BlankNode) for t in terms):
            shape = tuple(t if isinstance(t, ox.BlankNode) else str(t) for t in terms)
            for pos, term in enumerate(terms):
                if isinstance(term, ox.BlankNode):
                    incident[term].append((pos, *shape))
    targets = set(incident) if only is None else only & set(incident)
    if not targets:
        return {}
    colour = dict.fromkeys(incident, "")
    classes = 1
    for _ in range(_MAX_ROUNDS):
        new = {}
        for node, occurrences in incident.items():
            sigs = sorted(
                f"{occ[0]}|" + " ".join(
                    t if isinstance(t, str) else "SELF" if t == node else "B" + colour[t]
                    for t in occ[1:])
                for occ in occurrences)
            new[node] = hashlib.blake2b("\n".join([colour[node], *sigs]).encode(),
                                        digest_size=12).hexdigest()
        colour = new
        count = len(set(new.values()))
        if count in (classes, len(new)):  # stable, or every node already told apart
            break
        classes = count
    order = sorted(targets, key=lambda b: (colour[b], b.value))
    return {b: ox.BlankNode(f"b{i}") for i, b in enumerate(order)}
