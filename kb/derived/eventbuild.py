"""The event index read from the store (kb.derived.eventread), kept in the sidecar as SQLite,
and ready() for pages.

The file is ``events.sqlite`` in the sidecar (kb.derived.sidecar). It is current while the
claim index is (kb.derived.claimindex.stamp: the store's metadata names the index built from
its present contents, and every write clears it): the file records that stamp, and is read
only when it matches. Without a current claim index the rows are read from the store, once
per store generation, and kept in memory only.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from typing import Any

from kb.derived import background, claimindex, sidecar
from kb.derived.eventfile import FILE, load, make, rows_of, save
from kb.derived.eventread import ROLE_SIDE, graph_label, graphs_read, read
from kb.derived.eventread import _read as _read  # kb.views.remoteevents reads rows the same way
from kb.derived.events import EventIndex
from kb.derived.memo import memo
from kb.errors import KBError

__all__ = ["FILE", "ROLE_SIDE", "build_now", "graph_label", "graphs_read", "make", "read", "ready", "stamp",
           "wait"]
log = logging.getLogger("ckb.eventindex")
VERSION = "events-2"  # changes whenever what a row holds changes: an older file is stale

_lock = threading.Lock()  # who saves an index read before the claim index was current
JOB = background.Job("index", "ckb-event-index", (KBError, OSError, RuntimeError, sqlite3.Error), log,
                     "event index not built: %s")


def stamp(kb: Any) -> str | None:
    """What a saved index must be stamped with to be current now (None: none can be)."""
    built = claimindex.stamp(kb)
    return None if built is None else f"{VERSION} {built}"


def ready(kb: Any, wait: bool = False, within: float = 0.0) -> EventIndex | None:
    """The event index of the store as it is now; else None, and a background thread builds it
    (``wait``: build it now; ``within``: wait that many seconds for it). Held in the store
    generation's memo (kb.derived.memo)."""
    held = memo(kb, "event-index")
    if held is None or getattr(getattr(kb, "backend", None), "reading", None) is None:
        return None
    with _lock:
        if "index" in held:
            if not held.get("saved") and stamp(kb) is not None:  # the claim index is current now
                held["saved"] = True
                threading.Thread(target=_save_later, args=(kb, held["index"]), daemon=True,
                                 name="ckb-event-index-save").start()
            return held["index"]
    return background.ready(held, JOB, lambda: _build(kb, held), wait=wait, within=within)


def build_now(kb: Any) -> EventIndex | None:
    """Read the event index now and, if the claim index is current, keep it in the sidecar: 'ckb
    index' builds it ahead, so a server started next reads the file instead of the store (minutes
    at 300,000 events)."""
    return ready(kb, wait=True)


def _save_later(kb: Any, index: EventIndex) -> None:
    """Keep an index read before the claim index was current: the store has not changed since
    (the index belongs to this generation's memo), so the claim index's stamp names it too."""
    try:
        with kb.backend.reading():
            wanted = stamp(kb)
            if wanted is None or kb.generation() != index.generation:
                return
        room = sidecar.of(kb)
        if room is not None and room.folder is not None and not getattr(kb.backend, "read_only", True):
            save(kb, index, rows_of(index), wanted)
    except (KBError, OSError, RuntimeError, sqlite3.Error) as err:
        log.info("event index not saved: %s", err)


def wait(kb: Any, seconds: float) -> EventIndex | None:
    """The index, if the build under way (or one started now) finishes within ``seconds``."""
    return ready(kb, within=seconds)


def _build(kb: Any, held: dict[str, Any]) -> EventIndex | None:
    with kb.backend.reading():
        generation, wanted = kb.generation(), stamp(kb)
    found = load(kb, wanted, generation) if wanted else None
    if found is None:
        found = read(kb)
        with kb.backend.reading():
            still = kb.generation() == generation and stamp(kb) == wanted
        if found is not None and wanted and still and not getattr(kb.backend, "read_only", True):
            save(kb, found, rows_of(found), wanted)
    held["saved"] = found is not None and (found.origin == "file" or bool(wanted))
    return found
