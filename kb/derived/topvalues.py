"""The most frequent values of a facet among a set of rows, by bitmaps (claims and events alike).

A facet's values come ranked largest first (by their whole bitmap's size), so the walk stops at
the first value too small to enter a full heap: a facet of thousands of values costs a few
intersections, not one per value.
"""

from __future__ import annotations

import heapq

from pyroaring import BitMap


class Reversed:
    """A value that orders backwards: the heap keeps the smallest value among equal counts."""

    __slots__ = ("value",)

    def __init__(self, value: str) -> None:
        self.value = value

    def __lt__(self, other: Reversed) -> bool:
        return self.value > other.value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Reversed) and self.value == other.value


def most_frequent(ranked: list[tuple[int, str]], found: dict[str, BitMap], mask: BitMap,
                  size: int) -> list[tuple[str, int]]:
    """The ``size`` values of ``found`` with most rows in ``mask`` (by count, then value);
    ``ranked``: (-rows, value) of every value, smallest first."""
    best: list[tuple[int, Reversed]] = []  # a heap of (count, reversed value) kept to ``size``
    for negsize, value in ranked:
        if len(best) == size and -negsize < best[0][0]:
            break  # values come largest first: none of the rest can enter
        n = found[value].intersection_cardinality(mask)
        if n:
            item = (n, Reversed(value))
            if len(best) < size:
                heapq.heappush(best, item)
            elif item > best[0]:
                heapq.heapreplace(best, item)
    return sorted(((v.value, n) for n, v in best), key=lambda vn: (-vn[1], vn[0]))
