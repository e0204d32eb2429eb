"""Facts read for pages, kept in memory until the store's next write.

Pages name the same actors and outlets, and follow the same statements upstream, again and
again; what one page read another can reuse as long as the store has not changed. Each memo
belongs to one store and one store generation (a write starts it afresh); remote stores,
which others may write to, get only those in REMOTE, keyed by the graph registry.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

MAX_ENTRIES = 200_000  # per memo; past it the memo starts afresh

_MEMOS: weakref.WeakKeyDictionary[Any, tuple[object, dict[str, dict[str, Any]]]] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


# Memos kept for a SPARQL server's KB too, under the graph registry's present entries
# (kb.store.registry.digest) in place of a generation: a write through the KB, from this process
# or another, rewrites them (seen within the registry's read interval, GRAPHS_TTL); a write made
# on the server directly is not seen until 'ckb index --counts', as in the graph sizes.
REMOTE = frozenset({"classes-below", "classes-strictly-below", "match-candidates", "remote-event-index",
                    "home-type-counts", "timeline-relations", "reader-documents"})


# Memos a remote store's page keeps while it is built (one_page): its panels read the same labels
# and source statements again and again; a round trip to the server costs milliseconds each time.
PAGE = frozenset({"labels", "chain-nodes", "neighbour-classes"})
_PAGE: ContextVar[dict[str, dict[str, Any]] | None] = ContextVar("ckb_page_memos", default=None)


@contextmanager
def one_page() -> Iterator[None]:
    """Within it, one page is built: where the store keeps no memo (a remote one), the memos in
    PAGE and page_memo's live until the page is done."""
    token = _PAGE.set({})
    try:
        yield
    finally:
        _PAGE.reset(token)


def page_memo(name: str) -> dict[str, Any] | None:
    """The memo ``name`` of the page being built (one_page), or None outside one."""
    held = _PAGE.get()
    return None if held is None else held.setdefault(name, {})


def memo(kb: Any, name: str) -> dict[str, Any] | None:
    """The memo ``name`` of ``kb``'s store as it is now; None where others may write to it
    (a remote store's, but for the memos in REMOTE)."""
    backend = getattr(kb, "backend", None)
    generation: object = kb.generation() if hasattr(kb, "generation") else None
    if generation is None and name in REMOTE and hasattr(backend, "counts"):
        from kb.store.registry import digest

        generation = digest(backend.counts())
    if backend is None or generation is None:
        return page_memo(name) if name in PAGE else None
    with _lock:
        held = _MEMOS.get(backend)
        if held is None or held[0] != generation:
            held = _MEMOS[backend] = (generation, {})
        return held[1].setdefault(name, {})


def remember(found: dict[str, Any], into: dict[str, Any]) -> None:
    """Add ``found`` to a memo, starting it afresh when it would grow past MAX_ENTRIES."""
    if len(into) + len(found) > MAX_ENTRIES:
        into.clear()
    into.update(found)
