"""Progress for long CLI work, on stderr and only when stderr is a terminal."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO


class Progress:
    """A status line on a terminal; silent when output goes to a file or a pipe."""

    def __init__(self, stream: TextIO | None = None, enabled: bool | None = None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = _isatty(self.stream) if enabled is None else enabled
        self._label = ""
        self._lock = threading.Lock()

    def __call__(self, message: str) -> None:
        """Show ``message`` as the current step (the KnowledgeBase progress callback)."""
        self._label = message
        self._show(message)

    def _show(self, text: str) -> None:
        if not self.enabled:
            return
        with self._lock:
            # \r + erase-line rewrites one status line instead of scrolling the terminal.
            self.stream.write(f"\r\x1b[2K{text[:200]}")
            self.stream.flush()

    def clear(self) -> None:
        """Erase the status line."""
        if self.enabled:
            with self._lock:
                self.stream.write("\r\x1b[2K")
                self.stream.flush()

    @contextmanager
    def activity(self, label: str, interval: float = 0.5) -> Iterator[Progress]:
        """Show ``label`` with a running clock until the block ends."""
        self._label = label
        if not self.enabled:
            yield self
            return
        stop = threading.Event()
        start = time.monotonic()

        def tick() -> None:
            while not stop.wait(interval):
                self._show(f"{self._label} ... {time.monotonic() - start:.0f} s")

        self._show(f"{label} ...")
        ticker = threading.Thread(target=tick, name="ckb-progress", daemon=True)
        ticker.start()
        try:
            yield self
        finally:
            stop.set()
            ticker.join()
            self.clear()


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
