"""Benchmark rdflib against the project's store, side by side, on one generated file.

python -m benchmarks.bench_store --triples 1000000 --repeat 3 --out benchmarks/results/
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import queue
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from benchmarks import generate
from benchmarks.queries import QUERIES, QUERY_ORDER
from benchmarks.report import machine, write_reports
from benchmarks.stores import STORES

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_STORES = ("rdflib", "kb-disk", "kb-memory", "oxigraph-memory", "oxigraph-disk")


def stop_group(proc: subprocess.Popen, grace: float = 30) -> None:
    """SIGTERM ``proc``; after ``grace`` seconds, SIGKILL its whole process group (its workers too)."""
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def _tree_rss_kib(session: int) -> int:
    """Sum VmRSS over every process in ``session`` (the worker and any process it started)."""
    total = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            if int(fields[3]) != session:  # fields[3] is the session id
                continue
            with open(f"/proc/{pid}/statm", encoding="ascii") as fh:
                total += int(fh.read().split()[1]) * (os.sysconf("SC_PAGE_SIZE") // 1024)
        except (OSError, IndexError, ValueError):
            continue  # the process ended while we looked
    return total


class _Child:
    """One worker process, its stdout as a queue of events, its tree's RSS sampled at 10 Hz."""

    def __init__(self, store: str, data: str, ops: list[str], repeat: int, timeout: float):
        cmd = [sys.executable, "-m", "benchmarks.worker", store, data, ",".join(ops),
               str(repeat), str(timeout)]
        self.proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True,
                                     start_new_session=True)
        self.events: queue.Queue[dict | None] = queue.Queue()
        self.peak_tree_kib = 0
        self.op_peak_kib = 0  # reset when an operation starts
        self._done = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._sample, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith("{"):
                self.events.put(json.loads(line))
        self.events.put(None)

    def _sample(self) -> None:
        while not self._done.wait(0.1):
            self.note_rss()

    def note_rss(self) -> None:
        """Sample the tree's RSS now into both high-water marks."""
        rss = _tree_rss_kib(self.proc.pid)
        self.peak_tree_kib = max(self.peak_tree_kib, rss)
        self.op_peak_kib = max(self.op_peak_kib, rss)

    def kill(self) -> None:
        self._done.set()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)  # the whole group: kb's query workers too
        self.proc.wait()


def bench_store(name: str, data: str, repeat: int, timeout: float) -> dict:
    """Run every operation on one store in its own process; a timeout kills it and skips the op."""
    pending = ["first", *QUERY_ORDER, "serialise"]
    if name != "rdflib" and not name.endswith("memory"):
        pending.append("reopen")
    res: dict = {"label": STORES[name][0], "ops": {}, "peak_rss_kib": 0,
                 "peak_tree_rss_kib": 0, "baseline_rss_kib": None, "reloads": 0}
    while True:
        child = _Child(name, data, ["load", *pending], repeat, timeout)
        reload = "load" in res["ops"]  # after a kill the new process must load the file again
        res["reloads"] += reload
        timed_out = _follow(child, name, res, pending, repeat, timeout, reload)
        child.kill()
        res["peak_tree_rss_kib"] = max(res["peak_tree_rss_kib"], child.peak_tree_kib)
        if timed_out == "load" or not pending:
            break
        if timed_out is None:  # the worker ended without finishing: say so, don't loop
            for op in pending:
                res["ops"].setdefault(op, {"samples": []})["status"] = "worker exited"
            break
    for op in pending:
        res["ops"].setdefault(op, {"samples": []}).setdefault("status", "not run")
    for op in res["ops"].values():
        ok = op["status"] == "ok" and op["samples"]
        op["median"] = statistics.median(op["samples"]) if ok else None
    return res


def _follow(child: _Child, name: str, res: dict, pending: list[str], repeat: int,
            timeout: float, reload: bool) -> str | None:
    """Consume one worker's events into ``res``; return the op that timed out, if any."""
    current, deadline = None, time.monotonic() + 120
    while True:
        try:
            ev = child.events.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            op = current or "load"
            if not (reload and op == "load"):
                res["ops"].setdefault(op, {"samples": []})["status"] = "timeout"
            if op in pending:
                pending.remove(op)
            print(f"  {name}: {op} timed out after {timeout:.0f} s", flush=True)
            return op
        if ev is None:
            return None
        kind, op = ev["ev"], ev.get("op")
        if kind == "ready" and res["baseline_rss_kib"] is None:
            res["baseline_rss_kib"] = ev["rss_kib"]
        elif kind == "start":
            current, deadline = op, time.monotonic() + timeout
            child.op_peak_kib = 0
            if not (reload and op == "load"):
                res["ops"].setdefault(op, {"samples": [], "status": "ok"})
        elif kind == "sample":
            current, deadline = None, time.monotonic() + 120
            if reload and op == "load":
                continue
            entry = res["ops"][op]
            child.note_rss()  # catches operations shorter than the sampling period
            entry["tree_rss_kib"] = max(entry.get("tree_rss_kib", 0), child.op_peak_kib)
            entry["samples"].append(ev["seconds"])
            entry["size"] = ev["size"]
            if op in pending and len(entry["samples"]) == (repeat if op in QUERIES else 1):
                pending.remove(op)
            if op not in pending:
                print(f"  {name}: {op} {statistics.median(entry['samples']):.3f} s", flush=True)
        elif kind == "error":
            res["ops"].setdefault(op, {"samples": []})["status"] = "error: " + ev["message"]
            if op in pending:
                pending.remove(op)
            print(f"  {name}: {op} failed: {ev['message']}", flush=True)
            if op == "load":
                for rest in list(pending):
                    res["ops"][rest] = {"samples": [], "status": "not run (load failed)"}
                    pending.remove(rest)
        elif kind == "mem":
            res["peak_rss_kib"] = max(res["peak_rss_kib"], ev["self_kib"], ev["children_kib"])


def main(argv: list[str] | None = None) -> int:
    """Command line: generate the data once, benchmark every store on it, write JSON + Markdown."""
    ap = argparse.ArgumentParser(prog="python -m benchmarks.bench_store", description=__doc__)
    ap.add_argument("--triples", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3, help="runs per query; the median is shown")
    ap.add_argument("--timeout", type=float, default=300.0, help="seconds allowed per operation")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--stores", default=",".join(DEFAULT_STORES),
                    help=f"comma-separated subset of {','.join(STORES)}")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results"))
    ap.add_argument("--data", help="use this N-Triples file instead of generating one")
    args = ap.parse_args(argv)
    stores = [s.strip() for s in args.stores.split(",") if s.strip()]
    unknown = [s for s in stores if s not in STORES]
    if unknown:
        ap.error(f"unknown store(s): {', '.join(unknown)}; choose from {', '.join(STORES)}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    data = args.data
    if data is None:
        tmp = ROOT / "benchmarks" / "results" / "tmp"
        tmp.mkdir(parents=True, exist_ok=True)
        data = str(tmp / f"synth-{args.triples}-seed{args.seed}.nt")
        t0 = time.perf_counter()
        with open(data, "w", encoding="utf-8", newline="\n") as fh:
            n = generate.write(args.triples, fh, args.seed)
        print(f"generated {n} triples in {time.perf_counter() - t0:.1f} s -> {data}", flush=True)
    with open(data, "rb") as fh:
        n = sum(1 for line in fh if line.strip() and not line.startswith(b"#"))
    run = {"triples": n, "requested_triples": args.triples, "seed": args.seed,
           "data_file": data, "data_bytes": os.path.getsize(data), "repeat": args.repeat,
           "timeout_s": args.timeout, "machine": machine(),
           "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
           "queries": {k: {"description": d, "sparql": q} for k, (d, q) in QUERIES.items()},
           "stores": {}}
    for name in stores:
        print(f"{name}: {STORES[name][0]}", flush=True)
        run["stores"][name] = bench_store(name, data, args.repeat, args.timeout)
    json_path, md_path = write_reports(run, out)
    print(f"wrote {json_path} and {md_path}")
    print(md_path.read_text(encoding="utf-8"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
