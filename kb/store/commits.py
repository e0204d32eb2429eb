"""Telling the writer the truth: did an update commit, even if its worker died?

An update runs in a one-shot worker (``kb.query.worker``) that a time limit, a full disk or a
``kill -9`` can end at any moment, before or after its transaction committed. So the update
carries a commit marker: one quad in a reserved graph, inserted by the same ``Store.update``
call, hence in the same transaction. After the worker has ended, the server (still holding
the write lock) looks for the marker: present, the update committed and the answer is a
success; absent, nothing was written and the answer says so. Then it deletes the marker, so
no query ever sees one.

A marker can outlive its request only if the server dies (or its disk fills) between the
commit and the marker's deletion: it sits in the reserved graph, which nothing else writes,
so it is provably this module's debris and is removed on the next open or write, after its
Idempotency-Key (if any) has been recorded.

Idempotency keys: a client may send one with an update; a key that already committed makes a
retry answer the same success without writing again. The keys of committed updates are kept
in a small file beside the store folder (``<store>.keys``, the last ``KEEP`` of them), or in
memory for a memory store.
"""

from __future__ import annotations

import os
import re
import threading
import uuid
from collections import OrderedDict
from pathlib import Path

import pyoxigraph as ox

# Reserved names: outside the KB's graph namespace, in a URN scheme nobody else mints.
MARKER_GRAPH = "urn:x-ckb:system:commits"
_REQUEST = "urn:x-ckb:request:"
_KEY = ox.NamedNode("urn:x-ckb:idempotency-key")
KEEP = 10_000  # keys remembered (a retry comes within minutes; this is days of steady writes)
_KEY_SYNTAX = re.compile(r"[\x21-\x7e]{1,200}")  # visible ASCII: fits a literal and a line


def valid_key(key: str) -> bool:
    """True if ``key`` can be an Idempotency-Key here (1-200 visible ASCII characters, no quotes)."""
    return bool(_KEY_SYNTAX.fullmatch(key)) and not any(c in key for c in "\"\\'<>")


def new_marker(key: str | None) -> tuple[str, str]:
    """A fresh request id and the INSERT DATA that marks its commit (with its key, if any)."""
    request = _REQUEST + uuid.uuid4().hex
    literal = key or ""
    return request, f'INSERT DATA {{ GRAPH <{MARKER_GRAPH}> {{ <{request}> <{_KEY.value}> "{literal}" }} }}'


def committed(store: ox.Store, request: str) -> bool:
    """True if the update that carried this request id committed."""
    pattern = (ox.NamedNode(request), _KEY, None, ox.NamedNode(MARKER_GRAPH))
    return next(iter(store.quads_for_pattern(*pattern)), None) is not None


def leftover(store: ox.Store) -> list[str]:
    """The keys of every marker still in the store ("" for an update sent without one)."""
    quads = store.quads_for_pattern(None, _KEY, None, ox.NamedNode(MARKER_GRAPH))
    return [q.object.value for q in quads]


def any_left(store: ox.Store) -> bool:
    """True if the reserved graph holds anything."""
    return next(iter(store.quads_for_pattern(None, None, None, ox.NamedNode(MARKER_GRAPH))), None) is not None


class Keys:
    """The Idempotency-Keys of committed updates: in a file beside a store folder, or in memory."""

    def __init__(self, store_path: Path | None) -> None:
        self.path = None if store_path is None else store_path.with_name(store_path.name + ".keys")
        self._lock = threading.Lock()
        self._keys: OrderedDict[str, None] = OrderedDict()
        self._loaded = False

    def _load(self) -> None:
        if self._loaded:
            return
        if self.path is not None and self.path.is_file():
            for line in self.path.read_text(encoding="ascii", errors="replace").splitlines():
                if line:
                    self._keys[line] = None
        self._loaded = True

    def seen(self, key: str) -> bool:
        """True if an update with this key has committed."""
        with self._lock:
            self._load()
            return key in self._keys

    def add(self, keys: list[str]) -> None:
        """Record these keys as committed, durably (fsync) before returning; OSError if it cannot."""
        keys = [k for k in keys if k]
        if not keys:
            return
        with self._lock:
            self._load()
            for key in keys:
                self._keys[key] = None
            while len(self._keys) > KEEP:
                self._keys.popitem(last=False)
            if self.path is None:
                return
            # Rewritten whole (at most KEEP short lines) through a temporary file and a rename,
            # so a crash leaves the old list or the new one.
            tmp = self.path.with_name(f".{self.path.name}.tmp")
            with open(tmp, "w", encoding="ascii") as out:
                out.write("".join(f"{k}\n" for k in self._keys))
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, self.path)


def settle(store: ox.Store, keys: Keys) -> int:
    """Record the keys of markers a crash left, then delete them; how many there were."""
    found = leftover(store)
    if not found and not any_left(store):
        return 0
    keys.add(found)  # first: a key is never forgotten while its marker is the only record
    store.remove_graph(ox.NamedNode(MARKER_GRAPH))
    return len(found)
