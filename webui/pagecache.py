"""Rendered pages kept per store generation: a page is built once, until the store changes.

The store is read-only unless updates are configured, so the same entity page is the same
bytes for the life of the server; rendering it (lookups plus tens of KB of Jinja) costs
milliseconds of CPU under the GIL. Entries are keyed on the store's write generation, so
any load, import, update or Graph Store write makes every older entry unreachable at once.
Backends that others can write to (a remote SPARQL server) report no generation: no cache.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from flask import Flask, Response, g, request

from webui.negotiation import prefers_html

# The browsing pages: built from the store alone, the same for every client.
CACHED_BLUEPRINTS = frozenset({"entity", "sources", "claims", "actors", "timeline", "map", "reader",
                               "events"})
CACHED_TYPES = frozenset({"text/html", "application/json"})
MAX_ENTRY = 2 * 1024 * 1024  # a page larger than this is rendered each time


class PageCache:
    """A byte-bounded LRU of (status, content type, body), safe across server threads."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[tuple[Any, ...], tuple[int, str, bytes]] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: tuple[Any, ...]) -> tuple[int, str, bytes] | None:
        """The entry under ``key``, now the most recently used; None if absent."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return entry

    def has(self, key: tuple[Any, ...]) -> bool:
        """True if an entry is kept under ``key`` (not counted as a hit or a miss)."""
        with self._lock:
            return key in self._entries

    def put(self, key: tuple[Any, ...], status: int, content_type: str, body: bytes) -> None:
        """Keep an entry, dropping the least recently used ones beyond the byte bound."""
        if len(body) > min(MAX_ENTRY, self.max_bytes):
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._size -= len(old[2])
            self._entries[key] = (status, content_type, body)
            self._size += len(body)
            while self._size > self.max_bytes:
                _k, dropped = self._entries.popitem(last=False)
                self._size -= len(dropped[2])


def _key(generation: int) -> tuple[Any, ...] | None:
    """The request's cache key, or None for requests that are not cached."""
    if request.method != "GET" or request.blueprint not in CACHED_BLUEPRINTS:
        return None
    if request.authorization or request.cookies:
        return None  # nothing here depends on them today; never risk serving one client's page to another
    # The answer depends on the path and the query string; only entities negotiate on Accept,
    # and every browser's Accept that prefers HTML gets the same page.
    accept = request.headers.get("Accept", "")
    if request.blueprint != "entity":
        accept = ""
    elif prefers_html(accept):
        accept = "text/html"
    return (generation, request.full_path, accept)


def holds(app: Flask) -> bool:
    """True when the page cache will answer the current request (admission lets it through free)."""
    cache = app.extensions.get("ckb.pagecache")
    generation = getattr(app.extensions.get("ckb"), "generation", None)
    if cache is None or generation is None:
        return False
    key = _key(generation())
    return key is not None and cache.has(key)


def init_app(app: Flask, kb: Any) -> None:
    """Serve cached pages before any work, and keep fresh 200 answers of the browsing pages."""
    generation = getattr(kb, "generation", None)
    if not app.config.get("PAGE_CACHE_BYTES") or generation is None or generation() is None:
        return
    cache = PageCache(int(app.config["PAGE_CACHE_BYTES"]))
    app.extensions["ckb.pagecache"] = cache

    @app.before_request
    def _cached() -> Response | None:
        key = _key(generation())
        g.ckb_page_key = key
        if key is None:
            return None
        entry = cache.get(key)
        if entry is None:
            return None
        g.ckb_page_key = None  # served from the cache: nothing to keep
        status, content_type, body = entry
        response = Response(body, status=status, content_type=content_type)
        response.vary.add("Accept")
        return response

    @app.after_request
    def _keep(response: Response) -> Response:
        key = getattr(g, "ckb_page_key", None)
        if (key is not None and response.status_code == 200 and not response.direct_passthrough
                and response.mimetype in CACHED_TYPES and "Set-Cookie" not in response.headers
                and "Content-Disposition" not in response.headers
                # Keep it only if no write happened while it was built.
                and key[0] == generation()):
            cache.put(key, response.status_code, response.content_type, response.get_data())
            g.ckb_page_key = None
        return response
