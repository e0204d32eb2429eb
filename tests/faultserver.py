"""A real ``ckb serve`` on loopback for the fault tests, and the processes behind it."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

TOKEN = "T"
GRAPH = "https://w3id.org/conflict-kb/graph/faults/"  # inside the KB's namespace: plainly the KB's data
ONTOLOGY = "https://w3id.org/conflict-kb/graph/ontology"
Answer = tuple[int, dict[str, str], str]  # status, headers, body text


def free_port() -> int:
    """A free loopback port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children(pid: int) -> set[int]:
    """The pids of the live processes whose parent is ``pid`` (zombies left out)."""
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            found.add(int(entry))
    return found


def alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2:].split()[0] != "Z"


def kill9(pid: int, wait: float = 10) -> None:
    """SIGKILL ``pid`` and wait until it is gone."""
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + wait
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.01)


class Server:
    """``ckb serve --update-token T`` on a store, as a subprocess."""

    def __init__(self, store: Path | None, log: Path, *flags: str, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        full_env = {k: v for k, v in os.environ.items() if k != "CKB_STORE"} | (env or {})
        where = ["--store", str(store)] if store is not None else ["--memory"]
        self.log = log
        self._out = open(log, "wb")  # noqa: SIM115 (closed in stop)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "kb.cli", "serve", *where, "--port", str(self.port),
             "--update-token", TOKEN, *flags],
            stdout=self._out, stderr=subprocess.STDOUT, env=full_env)
        deadline = time.monotonic() + 90
        while True:
            try:
                if self.request("GET", "/sparql?query=ASK%7B%7D", timeout=10)[0] == 200:
                    break
            except OSError:
                pass
            assert self.proc.poll() is None, self.output()
            assert time.monotonic() < deadline, "the server did not come up:\n" + self.output()
            time.sleep(0.3)

    def output(self) -> str:
        """What the server printed so far."""
        return self.log.read_text(errors="replace")

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None, timeout: float = 120) -> Answer:
        """(status, headers, body text) of one request; HTTP errors are answers too."""
        req = urllib.request.Request(self.base + path, data=body, method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return resp.status, dict(resp.headers), resp.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as err:
            return err.code, dict(err.headers), err.read().decode("utf-8", "replace")

    def update(self, text: str, key: str | None = None, timeout: float = 120) -> Answer:
        """POST one SPARQL update with the token (and an Idempotency-Key)."""
        headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/sparql-update",
                   "Accept": "text/plain"}
        if key:
            headers["Idempotency-Key"] = key
        return self.request("POST", "/sparql", text.encode(), headers, timeout)

    def select(self, query: str) -> list[dict]:
        """The bindings of a SELECT (asserting a 200)."""
        status, _, body = self.request("GET", "/sparql?" + urllib.parse.urlencode({"query": query}),
                                       headers={"Accept": "application/sparql-results+json"})
        assert status == 200, (status, body)
        return json.loads(body)["results"]["bindings"]

    def ask(self, query: str) -> bool:
        """The answer of an ASK (asserting a 200)."""
        status, _, body = self.request("GET", "/sparql?" + urllib.parse.urlencode({"query": query}),
                                       headers={"Accept": "application/sparql-results+json"})
        assert status == 200, (status, body)
        return json.loads(body)["boolean"]

    def template(self) -> int | None:
        """The pid of the worker template (the server's child that forks workers), if it runs."""
        for pid in children(self.proc.pid):
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            if b"forkserver" in cmdline:
                return pid
        return None

    def workers(self) -> set[int]:
        """The pids of the workers (forked by the template, or started directly)."""
        template = self.template()
        found = children(self.proc.pid) - {template}
        return found | (children(template) if template else set())

    def stop(self) -> None:
        """Stop the server (and so its template and workers)."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._out.close()


def healthy(server: Server) -> None:
    """Pages, a Graph Store GET, a query and a small update all answer as they should."""
    for path in ("/", "/id/Hezbollah"):
        status, _, body = server.request("GET", path, headers={"Accept": "text/html"})
        assert status == 200, (path, status, body[-500:])
    status, _, body = server.request("GET", "/rdf-graph-store?graph=" + urllib.parse.quote(ONTOLOGY),
                                     headers={"Accept": "application/n-triples"})
    assert status == 200 and body, ("graph store", status, body[-500:], server.output()[-3000:])
    stamp = time.time_ns()
    status, _, body = server.update(f"INSERT DATA {{ GRAPH <{GRAPH}ok> {{ <urn:x:ok> <urn:x:n> {stamp} }} }}")
    assert status == 204, ("small update", status, body, server.output()[-4000:])
    written = f"ASK {{ GRAPH <{GRAPH}ok> {{ <urn:x:ok> <urn:x:n> {stamp} }} }}"
    assert server.ask(written), server.output()[-4000:]
