"""The serving benchmark: load, re-import, disk, open, kb vs raw, entity pages, mixed load.

python -m benchmarks.bench_serving --triples 1000000 --out benchmarks/results/

One run, side by side, on one generated file loaded beside the bundle (as a real store holds
it). Everything talks to 127.0.0.1 only. Writes serving-<size>.json and serving-<size>.md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from benchmarks import generate
from benchmarks.bench_store import _tree_rss_kib, stop_group
from benchmarks.load_clients import run_clients, sparql_path, summary
from benchmarks.queries import QUERIES, QUERY_ORDER
from benchmarks.report import machine, size_label
from benchmarks.serving_report import write_report

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
CKBR = "https://w3id.org/conflict-kb/id/"
HEAVY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
FIRST = "SELECT ?s WHERE { ?s ?p ?o } LIMIT 1"
COUNT_ALL = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"


def timed_child(cmd: list[str]) -> dict:
    """Run a command; return its wall time, exit status and peak RSS (that process alone)."""
    start = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    out = proc.stdout.read().decode() if proc.stdout else ""
    err = proc.stderr.read().decode() if proc.stderr else ""
    for stream in (proc.stdout, proc.stderr):
        if stream:
            stream.close()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}): {err.strip()[-500:]}")
    return {"seconds": round(time.monotonic() - start, 2), "peak_rss_mib": round(usage.ru_maxrss / 1024),
            "stdout": out.strip()[-300:]}


def du(path: Path) -> int:
    """Bytes on disk under ``path``."""
    return int(subprocess.check_output(["du", "-sb", str(path)]).split()[0])


def ckb(*args: str) -> list[str]:
    return [PY, "-m", "kb.cli", *args]


RAW_LOAD = ("import sys, pyoxigraph as ox; s = ox.Store(sys.argv[1]); g = sys.argv[3]; "
            "s.bulk_load(path=sys.argv[2], format=ox.RdfFormat.N_TRIPLES, "
            "to_graph=ox.DefaultGraph() if g == '-' else ox.NamedNode(g)); s.flush()")

OPEN_FIRST = """import json, sys, time
t0 = time.monotonic()
from kb import KnowledgeBase
t1 = time.monotonic()
k = KnowledgeBase.open(sys.argv[1])
k.graphs()
t2 = time.monotonic()
rows = k.query(sys.argv[2]).rows
t3 = time.monotonic()
k.close()
import pyoxigraph as ox
s = ox.Store.read_only(sys.argv[1])
t4 = time.monotonic()
list(s.query(sys.argv[3]))
t5 = time.monotonic()
print(json.dumps({"import_s": t1 - t0, "open_s": t2 - t1, "first_answer_s": t3 - t1, "rows": len(rows),
                  "count_all_s": t5 - t4}))
"""


def load_phase(data: str, work: Path, first_only: bool = False) -> dict:
    """Bundle, first import, re-import; raw stores of the same file; disk footprints."""
    store = work / "store"
    shutil.rmtree(store, ignore_errors=True)  # a kept work folder: the first import starts from nothing
    res: dict = {"bundle_load": timed_child(ckb("load", "--store", str(store)))}
    res["bundle_bytes"] = du(store)
    # An import leaves the claim index stale; it is built as its own step (it derives a summary
    # per claim; the engine's bulk_load, the raw baseline, does nothing of the kind).
    importing = ckb("import", data, "--name", "synthetic", "--store", str(store))
    res["import"] = timed_child(importing)
    res["import"]["store_bytes"] = du(store)
    res["index"] = timed_child(ckb("index", "--store", str(store)))
    res["index"]["store_bytes"] = du(store)
    if first_only:
        return res
    res["reimport"] = timed_child(importing)
    res["reimport"]["store_bytes"] = du(store)
    for name, graph in (("raw_default", "-"), ("raw_named", "https://w3id.org/conflict-kb/graph/import/x")):
        target = work / name
        shutil.rmtree(target, ignore_errors=True)
        res[name] = timed_child([PY, "-c", RAW_LOAD, str(target), data, graph])
        res[name]["store_bytes"] = du(target)
        shutil.rmtree(target, ignore_errors=True)
    return res


def open_phase(store: Path, repeat: int) -> dict:
    """Open-to-first-answer in a fresh process, and what counting every graph would cost instead."""
    runs = [json.loads(subprocess.check_output([PY, "-c", OPEN_FIRST, str(store), FIRST, COUNT_ALL],
                                               cwd=ROOT)) for _ in range(repeat)]
    keys = ("import_s", "open_s", "first_answer_s", "count_all_s")
    return {k: round(statistics.median(r[k] for r in runs), 3) for k in keys}


def query_phase(store: Path, repeat: int) -> dict:
    """The query set through kb and through raw pyoxigraph (union default graph), same store.

    Both sides end with every row as pyoxigraph terms (kb: ``QueryResult.values``; raw: the
    solutions iterated), runs interleaved; ``rdflib_s`` is what kb's ``.rows`` adds on top to
    turn those terms into rdflib ones.
    """
    import pyoxigraph as ox

    from kb import KnowledgeBase

    out: dict = {}
    # read_only: nothing here writes, so no writer compacts under the raw handle and the workers
    with KnowledgeBase.open(store, read_only=True, timeout=600, row_limit=10**9) as k:
        raw = ox.Store.read_only(str(store))
        k.query(FIRST)  # the worker is started before timing, as a server's is
        for name in QUERY_ORDER:
            sparql = QUERIES[name][1]
            kb_t, raw_t, conv_t, rows = [], [], [], set()
            for _ in range(repeat):
                t = time.monotonic()
                answer = k.query(sparql, limit=10**9)
                rows.add(len(answer.values))
                kb_t.append(time.monotonic() - t)
                t = time.monotonic()
                rows.add(len(answer.rows))
                conv_t.append(time.monotonic() - t)
                t = time.monotonic()
                solutions = raw.query(sparql, use_default_graph_as_union=True)
                rows.add(sum(1 for _ in (tuple(s) for s in solutions)))
                raw_t.append(time.monotonic() - t)
            kb_s, raw_s = statistics.median(kb_t), statistics.median(raw_t)
            out[name] = {"kb_s": round(kb_s, 3), "raw_s": round(raw_s, 3), "ratio": round(kb_s / raw_s, 2),
                         "kb_best_s": round(min(kb_t), 3), "raw_best_s": round(min(raw_t), 3),
                         "best_ratio": round(min(kb_t) / min(raw_t), 2),
                         "rdflib_s": round(statistics.median(conv_t), 3), "rows": sorted(rows)}
        del raw
    return out


def pick_entities(store: Path, seed: int) -> list[str]:
    """Actors, events, claims and backings to visit, the same ones for one seed."""
    import pyoxigraph as ox

    s = ox.Store.read_only(str(store))
    ckb_ns = "https://w3id.org/conflict-kb/ontology#"
    picks: list[str] = []
    rng = random.Random(seed)
    for cls, n in (("Report", 20), ("Backing", 10)):
        rdf_type = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
        found = [q.subject.value for q in s.quads_for_pattern(None, rdf_type, ox.NamedNode(ckb_ns + cls))]
        picks += rng.sample(sorted(set(found)), min(n, len(found)))
    actors = sorted({q.object.value for q in s.quads_for_pattern(
        None, ox.NamedNode(ckb_ns + "participationActor"), None)})
    events = sorted({q.subject.value for q in s.quads_for_pattern(
        None, ox.NamedNode(ckb_ns + "hasParticipation"), None)})
    picks += rng.sample(actors, min(20, len(actors))) + rng.sample(events, min(30, len(events)))
    rng.shuffle(picks)
    return [p for p in picks if p.startswith(CKBR)]


class Server:
    """``ckb serve`` on a free loopback port, its process tree's RSS sampled."""

    # no pages built ahead: each run times the pages it asks for, not a start-up warm; no claim
    # index rebuilt behind the measurements (the benchmark builds it as a step)
    QUIET = ("--trusted-proxy", "127.0.0.1", "--no-warm-pages", "--no-index")

    def __init__(self, store: Path, timeout: float, flags: tuple[str, ...] = QUIET) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.proc = subprocess.Popen(
            ckb("serve", "--store", str(store), "--port", str(self.port), "--timeout", str(timeout), *flags),
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        self.peak_kib = 0
        self._stop = threading.Event()
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/sparql?query=ASK%7B%7D&format=json"):
                    break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("ckb serve did not start") from None
                time.sleep(0.3)
        threading.Thread(target=self._sample, daemon=True).start()

    def _sample(self) -> None:
        while not self._stop.wait(0.5):
            self.peak_kib = max(self.peak_kib, _tree_rss_kib(self.proc.pid))

    def stop(self) -> None:
        self._stop.set()
        stop_group(self.proc)


def serve_phase(store: Path, entities: list[str], page_seconds: float, mixed_seconds: float,
                timeout: float) -> dict:
    """Entity pages with 8 and 32 clients, then 16 cheap + 2 heavy clients together."""
    pages = [("page", "/id/" + e[len(CKBR):]) for e in entities]
    selects = [("select", sparql_path(f"SELECT ?p ?o WHERE {{ <{e}> ?p ?o }} LIMIT 50")) for e in entities]
    cheap = [x for pair in zip(pages, selects, strict=True) for x in pair]
    server = Server(store, timeout)
    try:
        run_clients(server.port, [(4, "warm", lambda n: pages[n % len(pages)])], 10)  # workers and caches
        out: dict = {"entities": len(entities), "timeout_s": timeout, "page_seconds": page_seconds,
                     "mixed_seconds": mixed_seconds}
        for clients in (8, 32):
            run = run_clients(server.port, [(clients, "page", lambda n: pages[n % len(pages)])], page_seconds)
            out[f"pages_{clients}"] = summary(run.samples, run.seconds)
        run = run_clients(server.port, [(16, "cheap", lambda n: cheap[n % len(cheap)]),
                                        (2, "heavy", lambda n: ("heavy", sparql_path(HEAVY)))], mixed_seconds)
        light = [s for s in run.samples if s.kind != "heavy"]
        heavy = [s for s in run.samples if s.kind == "heavy"]
        out["mixed"] = {"cheap": summary(light, run.seconds),
                        "cheap_pages": summary([s for s in light if s.kind == "page"], run.seconds),
                        "cheap_selects": summary([s for s in light if s.kind == "select"], run.seconds),
                        "heavy": [{"status": s.status, "seconds": round(s.seconds, 2),
                                   "retry_after": s.retry_after} for s in heavy]}
        # The same, with the cheap clients sending small SELECTs only: the lanes without page cost.
        run = run_clients(server.port, [(16, "cheap", lambda n: selects[n % len(selects)]),
                                        (2, "heavy", lambda n: ("heavy", sparql_path(HEAVY)))], mixed_seconds)
        out["mixed_selects"] = {"cheap": summary([s for s in run.samples if s.kind != "heavy"], run.seconds),
                                "heavy": [{"status": s.status, "seconds": round(s.seconds, 2),
                                           "retry_after": s.retry_after} for s in run.samples
                                          if s.kind == "heavy"]}
        out["server_peak_rss_mib"] = round(server.peak_kib / 1024)
        return out
    finally:
        server.stop()


def main(argv: list[str] | None = None) -> int:
    """Command line: generate (or take) the data, run every phase, write JSON and Markdown."""
    ap = argparse.ArgumentParser(prog="python -m benchmarks.bench_serving", description=__doc__)
    ap.add_argument("--triples", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--data", help="an existing N-Triples file instead of generating one")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--page-seconds", type=float, default=20.0)
    ap.add_argument("--mixed-seconds", type=float, default=60.0)
    ap.add_argument("--timeout", type=float, default=10.0, help="the server's query time limit")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results"))
    ap.add_argument("--phases", default="load,open,queries,serve",
                    help="a subset of load,open,queries,serve; 'import' instead of 'load' does the first "
                         "import only (no re-import, no raw stores)")
    ap.add_argument("--work", help="a work folder to keep: its store/ is reused by later runs of other "
                                   "phases (--phases import --work W; then --phases open,queries --work W)")
    args = ap.parse_args(argv)
    phases = args.phases.split(",")
    tmp = ROOT / "benchmarks" / "results" / "tmp"
    work = Path(args.work) if args.work else tmp / f"serving-{os.getpid()}"
    work.mkdir(parents=True, exist_ok=True)
    if not {"load", "import"} & set(phases) and not (work / "store").is_dir():
        raise SystemExit(f"no store in {work}: run --phases import (or load) with --work {work} first")
    data = args.data
    if data is None:
        data = str(ROOT / "benchmarks" / "results" / "tmp" / f"synth-{args.triples}-seed{args.seed}.nt")
        if not Path(data).exists():
            Path(data).parent.mkdir(parents=True, exist_ok=True)
            with open(data, "w", encoding="utf-8", newline="\n") as fh:
                generate.write(args.triples, fh, args.seed)
    with open(data, "rb") as fh:
        triples = sum(1 for line in fh if line.strip())
    run: dict = {"triples": triples, "size": size_label(args.triples), "seed": args.seed,
                 "machine": machine(), "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                 "load_avg_start": os.getloadavg()}
    kept = work / "run.json"
    if args.work and kept.exists() and "load" not in phases and "import" not in phases:
        # Phases run separately on one kept store make one report: earlier phases are kept.
        earlier = json.loads(kept.read_text(encoding="utf-8"))
        run = {**{k: v for k, v in earlier.items() if k != "failed"}, **run,
               "started_first": earlier.get("started_first", earlier["started"])}
    run.setdefault("durations_s", {})
    try:
        for name, phase in (
            ("load", lambda: load_phase(data, work, first_only="load" not in phases)),
            ("open", lambda: open_phase(work / "store", args.repeat)),
            ("queries", lambda: query_phase(work / "store", args.repeat)),
            ("serve", lambda: serve_phase(work / "store", pick_entities(work / "store", args.seed),
                                          args.page_seconds, args.mixed_seconds, args.timeout)),
        ):
            if name not in phases and not (name == "load" and "import" in phases):
                continue
            t = time.monotonic()
            try:
                run[name] = phase()
            except (Exception, SystemExit) as err:  # keep what the other phases measured
                run.setdefault("failed", {})[name] = str(err)[:300]
                print(f"{name}: failed: {err}", flush=True)
                continue
            run["durations_s"][name] = round(time.monotonic() - t)
            print(f"{name}: {time.monotonic() - t:.0f} s {json.dumps(run[name])[:600]}", flush=True)
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)
    run["load_avg_end"] = os.getloadavg()
    if args.work:
        kept.write_text(json.dumps(run, indent=1) + "\n", encoding="utf-8")
    done = [p for p in ("load", "open", "queries", "serve") if p in run]
    partial = "" if done == ["load", "open", "queries", "serve"] else "-" + "-".join(done or phases)
    json_path, md_path = write_report(run, Path(args.out), partial)
    print(f"wrote {json_path} and {md_path}")
    print(md_path.read_text(encoding="utf-8"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
