"""kb's query path against raw pyoxigraph on the very same store, side by side in one run.

python -m benchmarks.bench_query --triples 1000000 --repeat 5 --out benchmarks/results/

The store is built as a real one is: the bundled ontology and data (``kb.load()``), then the
generated file imported into a graph of its own (``kb.import_file``). Every query then runs,
interleaved, three ways, each writing SPARQL JSON:
- raw: pyoxigraph opened read-only on the store, union default graph, ``serialize(JSON)``;
- kb API: ``KnowledgeBase.query(..., format="json")`` (parse check, fenced worker, row cap);
- kb HTTP: ``GET /sparql`` on a running ``ckb serve`` over the same store.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pyoxigraph as ox

from benchmarks import generate
from benchmarks.queries import QUERIES, QUERY_ORDER
from kb import KnowledgeBase

ROOT = Path(__file__).resolve().parent.parent
ROWS = 10_000_000  # no row cap in the way: every way returns every row


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def build(store: Path, data: Path) -> float:
    """Load the bundle and import ``data`` into a fresh store; return the seconds it took."""
    start = time.monotonic()
    with KnowledgeBase.open(store) as kb:
        kb.load()
        kb.import_file(data, name="synthetic")
    return time.monotonic() - start


def _serve(store: Path, port: int) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "kb.cli", "--store", str(store), "serve", "--port", str(port),
           "--timeout", "600", "--row-limit", str(ROWS), "--query-budget", "100000"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/sparql?query=ASK%7B%7D", timeout=5).read()
            return proc
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise SystemExit(f"ckb serve did not start: {proc.stderr.read().decode() if proc.stderr else ''}")


def _timed(fn) -> tuple[float, int]:
    start = time.perf_counter()
    body = fn()
    return time.perf_counter() - start, len(body)


def run(store: Path, repeat: int, port: int) -> dict:
    """Time every query three ways, interleaved; medians in seconds and the ratios to raw."""
    server = _serve(store, port)
    raw = ox.Store.read_only(str(store))
    results: dict[str, dict] = {}
    try:
        with KnowledgeBase.open(store, read_only=True, timeout=600, row_limit=ROWS) as kb:
            kb.query("ASK {}")  # start the worker: the first-query cost is reported elsewhere
            for name in QUERY_ORDER:
                text = QUERIES[name][1]
                ways = {
                    "raw": lambda t=text: raw.query(t, use_default_graph_as_union=True).serialize(
                        format=ox.QueryResultsFormat.JSON),
                    "kb_api": lambda t=text: kb.query(t, format="json").body,
                    "kb_http": lambda t=text: urllib.request.urlopen(urllib.request.Request(
                        f"http://127.0.0.1:{port}/sparql?" + urllib.parse.urlencode({"query": t}),
                        headers={"Accept": "application/sparql-results+json"}), timeout=600).read(),
                }
                times: dict[str, list[float]] = {w: [] for w in ways}
                sizes: dict[str, int] = {}
                for _ in range(repeat):
                    for way, fn in ways.items():
                        seconds, size = _timed(fn)
                        times[way].append(seconds)
                        sizes[way] = size
                medians = {w: statistics.median(t) for w, t in times.items()}
                results[name] = {
                    "median_s": medians,
                    "bytes": sizes,
                    "ratio_api": medians["kb_api"] / medians["raw"],
                    "ratio_http": medians["kb_http"] / medians["raw"],
                }
                print(json.dumps({name: results[name]}), flush=True)
    finally:
        server.terminate()
        server.wait(30)
    return results


def _table(report: dict) -> str:
    lines = [f"# Query path: kb against raw pyoxigraph, {report['triples']:,} generated triples + the bundle",
             "", f"Store built in {report['build_s']:.1f} s; medians of {report['repeat']} interleaved runs; "
             "every way writes SPARQL JSON.", "",
             "| query | raw pyoxigraph | kb API | kb HTTP | API / raw | HTTP / raw | JSON bytes |",
             "|---|---|---|---|---|---|---|"]
    for name, r in report["queries"].items():
        m = r["median_s"]
        lines.append(f"| {name} | {m['raw'] * 1000:.1f} ms | {m['kb_api'] * 1000:.1f} ms | "
                     f"{m['kb_http'] * 1000:.1f} ms | {r['ratio_api']:.2f} | {r['ratio_http']:.2f} | "
                     f"{r['bytes']['raw']:,} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    """Build the store, run the comparison, write JSON and Markdown."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--triples", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="ckb-bench-query-"))
    try:
        data = work / "synth.nt"
        with open(data, "w", encoding="utf-8") as out:
            generate.write(args.triples, out, seed=args.seed)
        store = work / "store"
        build_s = build(store, data)
        report = {"triples": args.triples, "repeat": args.repeat, "build_s": build_s,
                  "pyoxigraph": ox.__version__, "queries": run(store, args.repeat, _free_port())}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    args.out.mkdir(parents=True, exist_ok=True)
    label = f"{args.triples // 1_000_000}M" if args.triples >= 1_000_000 else f"{args.triples // 1000}k"
    (args.out / f"query-{label}.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    (args.out / f"query-{label}.md").write_text(_table(report), encoding="utf-8")
    print(_table(report))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    main()
