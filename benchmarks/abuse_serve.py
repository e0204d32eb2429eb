"""A cheap client's latency under each attack of issue 19, against a real ``ckb serve``.

python -m benchmarks.abuse_serve --triples 1000000 --seconds 20 --out benchmarks/results/

One generated file is imported beside the bundle (as benchmarks.pages_serve does) and the store
is served by ``ckb serve`` on loopback. For each attack, the attacker works from one address (and
127.0.0.10-17 where it needs many addresses) for ``--seconds`` while a cheap client on 127.0.0.2
alternates ``ASK {}`` on /sparql and a static file, one request at a time; the first row is the
same client with no attack. Each row gives the cheap client's p50/p95/p99, its failures, what
the attacker was answered, and the peak resident memory of the server process and of its whole
process tree (server, query workers, export workers). Writes abuse-<size>.json and .md.
Target (issue 19): cheap p99 <= 500 ms and tree peak <= 2 GiB at 1M triples under every attack.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.attacks import MEMORY_QUERIES, billion_laughs, heavy_text
from benchmarks.report import machine, size_label

ROOT = Path(__file__).resolve().parent.parent
IMPORT = "https://w3id.org/conflict-kb/graph/import/synthetic"
CHEAP = ("/sparql?query=ASK%7B%7D", "/static/js/common.js")
SOCKETS = 500


def _ckb(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "kb.cli", *args], cwd=ROOT, check=True, capture_output=True)


def build(triples: int, work: Path) -> Path:
    """Generate ``triples`` triples, load the bundle, import the file; the store's path."""
    data, store = work / "synthetic.nt", work / "store"
    subprocess.run([sys.executable, "-m", "benchmarks.generate", "--triples", str(triples), "-o", str(data)],
                   cwd=ROOT, check=True, capture_output=True)
    _ckb("--store", str(store), "load")
    _ckb("--store", str(store), "import", str(data))
    return store


def get(port: int, path: str, source: str, timeout: float = 60.0,
        headers: dict[str, str] | None = None) -> tuple[int, float]:
    """GET ``path`` from ``source``: (status, seconds); status 0 when the connection failed."""
    start = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout, source_address=(source, 0))
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        while response.read(1 << 20):
            pass
        return response.status, time.monotonic() - start
    except OSError:
        return 0, time.monotonic() - start
    finally:
        conn.close()


def tree_rss(pid: int) -> tuple[int, int]:
    """Resident bytes of ``pid`` alone and with every process below it."""
    own = total = 0
    todo = [pid]
    while todo:
        current = todo.pop()
        try:
            with open(f"/proc/{current}/status", encoding="ascii", errors="replace") as f:
                rss = next((int(line.split()[1]) * 1024 for line in f if line.startswith("VmRSS:")), 0)
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children", encoding="ascii") as f:
                    todo += [int(c) for c in f.read().split()]
        except (OSError, ValueError):
            continue
        own = rss if current == pid else own
        total += rss
    return own, total


class Phase:
    """One attack's run: the cheap client, the memory sampler and the attacker's answers."""

    def __init__(self, port: int, pid: int, source: str = "127.0.0.1") -> None:
        self.port, self.pid = port, pid
        self.source = source  # the attacker's address (its own per attack: budgets are per client)
        self.stop = threading.Event()
        self.cheap: list[float] = []
        self.cheap_failed = 0
        self.attacker: Counter[int] = Counter()
        self.server_peak = self.tree_peak = 0
        self._lock = threading.Lock()

    def answered(self, status: int) -> None:
        """Count one answer the attacker got (0: connection refused or reset)."""
        with self._lock:
            self.attacker[status] += 1

    def _cheap_loop(self) -> None:
        i = 0
        while not self.stop.is_set():
            status, took = get(self.port, CHEAP[i % 2], "127.0.0.2", timeout=30)
            if status == 200:
                self.cheap.append(took)
            else:
                self.cheap_failed += 1
            i += 1
            time.sleep(0.05)

    def _sample(self) -> None:
        while not self.stop.wait(0.1):
            own, total = tree_rss(self.pid)
            self.server_peak, self.tree_peak = max(self.server_peak, own), max(self.tree_peak, total)

    def run(self, attack: Callable[[Phase], None], seconds: float) -> dict[str, Any]:
        """Run ``attack`` (which returns when ``self.stop`` is set) for ``seconds``; the row."""
        helpers = [threading.Thread(target=f, daemon=True) for f in (self._cheap_loop, self._sample)]
        attacker = threading.Thread(target=attack, args=(self,), daemon=True)
        for t in (*helpers, attacker):
            t.start()
        time.sleep(seconds)
        self.stop.set()
        for t in (*helpers, attacker):
            t.join(120)
        q = sorted(self.cheap) or [float("nan")]

        def pct(p: float) -> float:
            return round(q[min(len(q) - 1, int(p * len(q)))] * 1000, 1)

        return {"cheap_requests": len(self.cheap), "cheap_failed": self.cheap_failed,
                "p50_ms": pct(0.50), "p95_ms": pct(0.95), "p99_ms": pct(0.99),
                "attacker": {str(k): v for k, v in sorted(self.attacker.items())},
                "server_peak_mib": round(self.server_peak / 2**20),
                "tree_peak_mib": round(self.tree_peak / 2**20)}


# -- the attacks ------------------------------------------------------------------------------

def quiet(phase: Phase) -> None:
    """No attack: the baseline."""
    phase.stop.wait()


def _sockets(first: bytes | None, drip: bytes | None) -> Callable[[Phase], None]:
    def attack(phase: Phase) -> None:
        held = []
        for _ in range(SOCKETS):
            try:
                sock = socket.create_connection(("127.0.0.1", phase.port), timeout=5,
                                                source_address=(phase.source, 0))
                if first:
                    sock.sendall(first)
                held.append(sock)
            except OSError:
                phase.answered(0)
        while not phase.stop.wait(1.0):
            for sock in held:
                try:
                    if drip:
                        sock.send(drip)
                except OSError:
                    pass
        for sock in held:
            sock.setblocking(False)
            try:
                head = sock.recv(16)
                phase.answered(int(head[9:12]) if head.startswith(b"HTTP/1.1 ") else 0)
            except (OSError, ValueError):
                phase.answered(0)  # still open, or closed without an answer
            sock.close()
    return attack


EXPORTS = ["/export/all.jsonld", "/export/all.nt", "/export/all.ttl", "/export/all.rdf",
           "/export/all.nq", "/export/all.trig"]
GRAPH_READS = ["/rdf-graph-store?" + urllib.parse.urlencode({"graph": IMPORT, "format": f})
               for f in ("turtle", "nt", "jsonld", "xml")]


def _parallel(paths: list[str], clients: int = 8, one_address: int = 8) -> Callable[[Phase], None]:
    def client(phase: Phase, i: int, source: str) -> None:
        while not phase.stop.is_set():
            status, _ = get(phase.port, paths[i % len(paths)], source, timeout=600)
            phase.answered(status)
            if status != 200:
                phase.stop.wait(1.0)  # as a client honouring Retry-After a little would

    def attack(phase: Phase) -> None:
        sources = [f"127.0.0.{10 + i}" for i in range(clients)] + [phase.source] * one_address
        threads = [threading.Thread(target=client, args=(phase, i, s), daemon=True)
                   for i, s in enumerate(sources)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    return attack


def _pages(phase: Phase, clients: int = 16) -> None:
    """Pages that grow with the data, each URL new (so never from the page cache), from one address."""
    counter = iter(range(10**9))
    kinds = ["/map?from={y}-01-01", "/claims?page={p}", "/search?q=a{n}", "/timeline?from={y}-02-01",
             "/api/map?to={y}-12-31", "/actors?page={p}"]

    def client(i: int) -> None:
        while not phase.stop.is_set():
            n = next(counter)
            path = kinds[n % len(kinds)].format(y=1990 + n % 30, p=1 + n % 50, n=n)
            status, _ = get(phase.port, path, phase.source, timeout=60, headers={"Accept": "text/html"})
            phase.answered(status)

    _threads(client, clients)


def _service_spellings(phase: Phase) -> None:
    url = "<http://127.0.0.1:9/x>"
    texts = [f"SELECT * WHERE {{ ?x ?y {w} {url} {{ ?s ?p ?o }} }}"
             for w in ("2SERVICE", "+2SERVICE", "2SERVICE SILENT", "_:b.SERVICE", "SERVICE")]
    i = 0
    while not phase.stop.is_set():
        status, _ = get(phase.port, "/sparql?" + urllib.parse.urlencode({"query": texts[i % len(texts)]}),
                        phase.source, timeout=30)
        phase.answered(status)
        i += 1


def _sparql(phase: Phase, text: str, source: str) -> None:
    status, _ = get(phase.port, "/sparql?" + urllib.parse.urlencode({"query": text}), source, timeout=120)
    phase.answered(status)


def _memory(phase: Phase, clients: int = 2) -> None:
    """The memory queries (CONCAT tower, squaring REPLACE, ORDER BY over a cross join, 100 MB literal)."""
    texts = list(MEMORY_QUERIES.values())

    def client(i: int) -> None:
        n = i
        while not phase.stop.is_set():
            _sparql(phase, texts[n % len(texts)], phase.source)
            n += clients

    _threads(client, clients)


def _heavy_texts(phase: Phase, addresses: int = 16) -> None:
    """16 addresses, each sending a new heavy text as soon as the last is answered."""
    def client(i: int) -> None:
        sent = 0
        while not phase.stop.is_set():
            sent += 1
            _sparql(phase, heavy_text(i, sent), f"127.0.0.{100 + i}")

    _threads(client, addresses)


def _bombs(phase: Phase) -> None:
    """RDF/XML entity bombs PUT to the Graph Store (with the update token), back to back."""
    body = billion_laughs(9)
    while not phase.stop.is_set():
        conn = http.client.HTTPConnection("127.0.0.1", phase.port, timeout=60,
                                          source_address=(phase.source, 0))
        try:
            conn.request("PUT", "/rdf-graph-store?graph=urn:x:bomb", body=body,
                         headers={"Content-Type": "application/rdf+xml", "Authorization": "Bearer bench"})
            resp = conn.getresponse()
            resp.read()
            phase.answered(resp.status)
        except OSError:
            phase.answered(0)
        finally:
            conn.close()


def _threads(target: Callable[[int], None], n: int) -> None:
    threads = [threading.Thread(target=target, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


ATTACKS: dict[str, tuple[str, Callable[[Phase], None]]] = {
    "quiet": ("no attack (baseline)", quiet),
    "idle": (f"{SOCKETS} idle sockets from one address", _sockets(None, None)),
    "headers": (f"{SOCKETS} sockets trickling headers",
                _sockets(b"GET /actors HTTP/1.1\r\nHost: x\r\nX: ", b"a")),
    "bodies": (f"{SOCKETS} sockets trickling a body", _sockets(
        b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\n"
        b"Content-Length: 100000\r\n\r\nASK ", b" ")),
    "exports": ("16 clients of whole-KB exports (8 addresses + 8 on one)", _parallel(EXPORTS)),
    "graph-store": ("16 clients of Graph Store GETs of the generated graph", _parallel(GRAPH_READS)),
    "pages": ("16 clients of new (uncached) pages from one address", _pages),
    "service": ("2SERVICE spellings, back to back", _service_spellings),
    "memory": ("memory queries, 2 at a time from one address", _memory),
    "heavy-texts": ("16 addresses each sending new heavy texts", _heavy_texts),
    "bombs": ("RDF/XML entity bombs PUT back to back", _bombs),
}


def serve(store: Path, port: int, log: Any) -> subprocess.Popen[bytes]:
    """Start ``ckb serve`` over ``store`` and wait until it answers."""
    cmd = [sys.executable, "-m", "kb.cli", "--store", str(store), "serve", "--host", "127.0.0.1",
           "--port", str(port), "--no-index", "--no-warm-pages", "--update-token", "bench"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 300
    while get(port, CHEAP[0], "127.0.0.1", timeout=5)[0] != 200:
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("ckb serve did not start; see its log")
        time.sleep(0.5)
    return proc


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.abuse_serve", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--triples", type=int, default=1_000_000)
    ap.add_argument("--seconds", type=float, default=20.0, help="seconds per attack")
    ap.add_argument("--attacks", default=",".join(ATTACKS), help="comma-separated: " + ", ".join(ATTACKS))
    ap.add_argument("--out", default="benchmarks/results/")
    args = ap.parse_args(argv)
    rows: dict[str, Any] = {}
    # A shared machine slows the cheap client too: the record says how busy it was.
    load = {"start": [round(x, 2) for x in os.getloadavg()]}
    with tempfile.TemporaryDirectory(prefix="ckb-abuse-") as tmp:
        store = build(args.triples, Path(tmp))
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        with open(Path(tmp) / "serve.log", "wb") as log:
            proc = serve(store, port, log)
            try:
                for n, name in enumerate(args.attacks.split(",")):
                    title, attack = ATTACKS[name]
                    phase = Phase(port, proc.pid, f"127.0.0.{50 + n}")
                    rows[name] = {"attack": title, **phase.run(attack, args.seconds)}
                    rows[name]["server_alive"] = proc.poll() is None
                    print(name, json.dumps(rows[name]), flush=True)
                    time.sleep(2)  # let the attack's sockets and workers go
            finally:
                proc.terminate()
                proc.wait(60)
    load["end"] = [round(x, 2) for x in os.getloadavg()]
    label = size_label(args.triples)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    record = {"triples": args.triples, "seconds": args.seconds, "machine": machine(), "load_average": load,
              "rows": rows}
    (out / f"abuse-{label}.json").write_text(json.dumps(record, indent=2) + "\n")
    lines = [f"# Cheap client under attack, {label} triples ({args.seconds:g} s per attack)", "",
             "| attack | cheap p50 ms | p95 ms | p99 ms | cheap failed | attacker got | server peak MiB "
             "| tree peak MiB |", "|---|---|---|---|---|---|---|---|"]
    for row in rows.values():
        got = ", ".join(f"{k}: {v}" for k, v in row["attacker"].items()) or "-"
        lines.append(f"| {row['attack']} | {row['p50_ms']} | {row['p95_ms']} | {row['p99_ms']} | "
                     f"{row['cheap_failed']} | {got} | {row['server_peak_mib']} | {row['tree_peak_mib']} |")
    lines += ["", f"Load average (1, 5, 15 min) at the start {load['start']}, at the end {load['end']}."]
    (out / f"abuse-{label}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
