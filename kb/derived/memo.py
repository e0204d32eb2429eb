"""Facts read for pages, kept in memory until the store's next write.

Pages name the same actors and outlets, and follow the same statements upstream, again and
again; what one page read another can reuse as long as the store has not changed. Each memo
belongs to one store and one store generation (a write starts it afresh); remote stores,
which others may write to, get none.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any

MAX_ENTRIES = 200_000  # per memo; past it the memo starts afresh

_MEMOS: weakref.WeakKeyDictionary[Any, tuple[int, dict[str, dict[str, Any]]]] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def memo(kb: Any, name: str) -> dict[str, Any] | None:
    """The memo ``name`` of ``kb``'s store as it is now; None where others may write to it."""
    backend = getattr(kb, "backend", None)
    generation = kb.generation() if hasattr(kb, "generation") else None
    if backend is None or generation is None:
        return None
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
