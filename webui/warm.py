"""Landing views built ahead: after the server starts and after every write, the views the
home page links to are rendered once in the background, so the first analyst to click them
gets the page cache's answer instead of waiting seconds for facet counts over every claim.

The pages are built by the app itself (a request through Flask's test client, so every
limit and lane applies), one at a time, on a daemon thread that wakes when the store's write
generation changes. It needs the page cache (webui.pagecache) and a local store.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Sequence
from typing import Any

from flask import Flask

from webui.admission import SERVER_OWN

# What the home page links to, and the lists an analyst opens first; and two editor completions,
# which start the reads of the labels and class usage (kb.derived.labels) before anyone types.
LANDING = ("/claims", "/claims?anonymity=anonymous", "/actors", "/timeline",
           "/api/complete?kind=entity&q=ab", "/api/complete?kind=property&class=ckb:Event")
POLL_SECONDS = 2.0  # how soon after a write the rebuilding starts


class Warmer:
    """Renders ``paths`` whenever the store's generation is newer than the last one warmed."""

    def __init__(self, app: Flask, generation: Any, paths: Sequence[str]) -> None:
        self.app, self.generation, self.paths = app, generation, tuple(paths)
        self.warmed: int | None = None  # the generation last warmed
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True, name="ckb-warm-pages")

    def warm_once(self) -> None:
        """Render every path for the current generation (cached by the page cache as it goes)."""
        now = self.generation()
        client = self.app.test_client()
        for path in self.paths:
            if self._stop.is_set() or self.generation() != now:
                return  # a write came in: start again for the new generation
            with contextlib.suppress(Exception):  # a page that fails is built on its first visit
                # the server's own request: no client's places or query budget (webui.admission)
                client.get(path, headers={"Accept": "text/html"}, environ_base={SERVER_OWN: True})
        self.warmed = now

    def _run(self) -> None:
        while not self._stop.is_set():
            if self.generation() != self.warmed:
                self.warm_once()
            self._stop.wait(POLL_SECONDS)

    def stop(self, wait: float = 0.0) -> None:
        """Stop after the page being built, waiting up to ``wait`` seconds for it."""
        self._stop.set()
        if wait and self.thread.is_alive():
            self.thread.join(wait)


def init_app(app: Flask, kb: Any) -> Warmer | None:
    """Start warming WARM_PAGES when the page cache is on; None otherwise."""
    paths = app.config.get("WARM_PAGES") or ()
    if not paths or "ckb.pagecache" not in app.extensions:
        return None
    warmer = Warmer(app, kb.generation, paths)
    app.extensions["ckb.warmer"] = warmer
    warmer.thread.start()
    return warmer
