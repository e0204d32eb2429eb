"""Real SPARQL servers for the tests: Oxigraph server (PyPI) and Virtuoso (Debian), on loopback.

Each is started with its own configuration and data folder on free ports, and stopped after
the session. Outside CI a missing Virtuoso skips its tests; with CKB_REQUIRE_ENGINES=1 (set
by .ci/run) it fails them.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
OXIGRAPH = shutil.which("oxigraph") or str(Path(sys.executable).parent / "oxigraph")
VIRTUOSO = shutil.which("virtuoso-t") or "/usr/bin/virtuoso-t"
ISQL = shutil.which("isql-vt") or "/usr/bin/isql-vt"


@dataclass(frozen=True)
class Server:
    """A running SPARQL server: its query and update endpoints, and its process."""

    name: str
    query: str
    update: str
    pid: int


def free_port() -> int:
    """A TCP port free on loopback right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _missing(what: str) -> None:
    if os.environ.get("CKB_REQUIRE_ENGINES"):
        pytest.fail(f"{what} is not installed (CKB_REQUIRE_ENGINES is set)")
    pytest.skip(f"{what} is not installed")


def _wait_http(url: str, proc: subprocess.Popen[bytes], seconds: float, log: Path | None = None) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except OSError:
            time.sleep(0.1)
    proc.kill()
    tail = log.read_text("utf-8", "replace")[-800:] if log and log.exists() else ""
    pytest.fail(f"server did not answer at {url}: {tail}")


def wait_serving(proc: subprocess.Popen[bytes], log: Any, probe: Callable[[], bool], seconds: float) -> None:
    """Wait until ``probe()`` (a request to the server ``proc`` runs) is true; RuntimeError with the
    server's log (a binary file) if it exits or ``seconds`` pass first."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            if probe():
                return
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            log.seek(0)
            raise RuntimeError(f"ckb serve did not start: {log.read().decode(errors='replace')}")
        time.sleep(0.2)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


@contextlib.contextmanager
def oxigraph_server(folder: Path, timeout_s: float | None = None) -> Iterator[Server]:
    """``oxigraph serve`` on a free loopback port, with its store in ``folder``."""
    if not Path(OXIGRAPH).exists():
        _missing("the oxigraph server (pip install oxigraph)")
    port = free_port()
    args = [OXIGRAPH, "serve", "--location", str(folder), "--bind", f"127.0.0.1:{port}"]
    if timeout_s:
        args += ["--timeout-s", str(int(timeout_s))]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_http(base + "/query?query=ASK%7B%7D", proc, 20)
        yield Server("oxigraph", base + "/query", base + "/update", proc.pid)
    finally:
        _stop(proc)


VIRTUOSO_INI = """\
[Database]
DatabaseFile = {d}/virtuoso.db
ErrorLogFile = {d}/virtuoso.log
LockFile = {d}/virtuoso.lck
TransactionFile = {d}/virtuoso.trx
xa_persistent_file = {d}/virtuoso.pxa
TempStorage = TempDatabase
[TempDatabase]
DatabaseFile = {d}/virtuoso-temp.db
TransactionFile = {d}/virtuoso-temp.trx
[Parameters]
ServerPort = 127.0.0.1:{sql}
DisableUnixSocket = 1
NumberOfBuffers = 10000
MaxDirtyBuffers = 6000
MaxVectorSize = 4000000
CheckpointInterval = 0
DirsAllowed = .
[HTTPServer]
ServerPort = 127.0.0.1:{http}
ServerRoot = {d}
ServerThreads = 10
MaxClientConnections = 10
[SPARQL]
ResultSetMaxRows = 1000000
MaxQueryExecutionTime = 120
"""


@contextlib.contextmanager
def virtuoso_server(folder: Path) -> Iterator[Server]:
    """Debian's Virtuoso with a fresh database in ``folder`` on free loopback ports."""
    if not Path(VIRTUOSO).exists():
        _missing("Virtuoso (apt-get install virtuoso-opensource)")
    sql, http = free_port(), free_port()
    ini = folder / "virtuoso.ini"
    ini.write_text(VIRTUOSO_INI.format(d=folder, sql=sql, http=http), encoding="utf-8")
    proc = subprocess.Popen([VIRTUOSO, "-c", str(ini), "+foreground", "+wait"], cwd=folder,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{http}"
    try:
        _wait_http(base + "/sparql?query=ASK%7B%7D", proc, 60, folder / "virtuoso.log")
        # The anonymous SPARQL user may write (the KB's update path; loopback only).
        subprocess.run([ISQL, f"127.0.0.1:{sql}", "dba", "dba",
                        'exec=GRANT SPARQL_UPDATE TO "SPARQL";'],
                       check=True, capture_output=True, timeout=30)
        yield Server("virtuoso", base + "/sparql", base + "/sparql", proc.pid)
    finally:
        _stop(proc)


@pytest.fixture(scope="session")
def oxigraph(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One Oxigraph server for the session."""
    with oxigraph_server(tmp_path_factory.mktemp("oxigraph")) as server:
        yield server


@pytest.fixture(scope="session")
def virtuoso(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One Virtuoso for the session."""
    with virtuoso_server(tmp_path_factory.mktemp("virtuoso")) as server:
        yield server
