"""A real `ckb serve` subprocess on loopback for the abuse tests, and the probes they send."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.engines import wait_serving

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "abuse-token"


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Server:
    """A running `ckb serve`: its port and process."""

    port: int
    proc: subprocess.Popen[bytes]

    def get(self, path: str, source: str = "127.0.0.2", timeout: float = 30.0,
            headers: dict[str, str] | None = None) -> tuple[int, bytes, float]:
        """GET ``path`` from loopback address ``source``: (status, body, seconds taken)."""
        start = time.monotonic()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout,
                                          source_address=(source, 0))
        try:
            conn.request("GET", path, headers=headers or {})
            response = conn.getresponse()
            body = response.read()
            return response.status, body, time.monotonic() - start
        finally:
            conn.close()

    def alive(self) -> bool:
        """True while the server process runs."""
        return self.proc.poll() is None

    def tree_rss(self) -> int:
        """Resident memory (bytes) of the server and every process below it, now."""
        return tree_rss(self.proc.pid)


def tree_rss(pid: int) -> int:
    """Resident bytes of ``pid`` and its descendants, from /proc."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            with open(f"/proc/{current}/status", encoding="ascii", errors="replace") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children", encoding="ascii") as f:
                    todo += [int(c) for c in f.read().split()]
        except (OSError, ValueError):
            continue
    return total


@contextmanager
def ckb_serve(*options: str, store: Path | None = None, env: dict[str, str] | None = None,
              global_options: tuple[str, ...] = ()) -> Iterator[Server]:
    """Run `ckb serve` on a free loopback port (a memory store unless ``store``); yield it."""
    port = free_port()
    where = ["--store", str(store)] if store is not None else ["--memory"]
    cmd = [sys.executable, "-m", "kb.cli", *where, *global_options, "serve", "--host", "127.0.0.1",
           "--port", str(port), "--update-token", TOKEN, "--no-warm-pages", *options]
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                env={**os.environ, **(env or {})})
        server = Server(port, proc)
        try:
            ask = "/sparql?query=ASK%7B%7D"
            wait_serving(proc, log, lambda: server.get(ask, "127.0.0.1", 5)[0] == 200, 120)
            yield server
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            log.seek(0)
            server.log = log.read().decode(errors="replace")  # type: ignore[attr-defined]
