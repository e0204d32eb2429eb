"""Pages through ``ckb serve --endpoint`` on Oxigraph server and Virtuoso, at 1M-10M triples (issue 23).

python -m benchmarks.bench_remote --engine virtuoso --triples 10000000 --work /tmp/r10M

The server is started on loopback with its data in ``--work/<engine>`` (kept, so a later run with
``--reuse`` measures the same data again). The bundle goes in with ``ckb --endpoint … load``; the
generated triples (benchmarks/generate.py, seed 7) go into the import graph ``synthetic`` with the
server's own bulk loader (Virtuoso: ``ld_dir`` + ``rdf_loader_run``; Oxigraph: ``oxigraph load``
while the server is stopped), then ``ckb index --counts`` writes the KB's graph registry. ``ckb
serve --endpoint`` then serves it (the claim index built beside the client first, unless current)
and closed-loop clients (``--clients``, default 1) ask each kind of page for ``--seconds``: ``ASK
{}`` on /sparql, entity, source and claims-explorer pages, home and timeline. ``--endpoint``
measures a server started elsewhere instead. Last, a 1M-triple file is imported through ``ckb
--endpoint … import`` into a graph of its own and the client's peak RSS is recorded. Writes
remote-<size>-<engine>.json and .md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

from benchmarks import generate
from benchmarks.bench_serving import ckb, timed_child
from benchmarks.bench_store import _tree_rss_kib, stop_group
from benchmarks.load_clients import run_clients, sparql_path, summary
from benchmarks.report import machine, size_label, write_result
from kb.namespaces import import_graph
from tests import engines

ROOT = Path(__file__).resolve().parent.parent
CKB = "https://w3id.org/conflict-kb/ontology#"
CKBR = "https://w3id.org/conflict-kb/id/"
GRAPH = import_graph("synthetic")
# issue 23's budgets, p95 in seconds
BUDGETS = {"ASK {}": 0.2, "entity page": 1.0, "source page": 1.0, "claims explorer": 1.0,
           "home": 2.0, "timeline": 2.0}
# Virtuoso's own guidance: about 85,000 buffers and 65,000 dirty ones per GB it may use; 4 GB here,
# as the rest of a query's memory comes on top (a 24 GiB machine shared with other work).
# MaxQueryMem bounds one query's memory (the explorer's anonymity view at 1M took Virtuoso past 10 GB).
VIRTUOSO_TUNING = {"NumberOfBuffers = 10000": "NumberOfBuffers = 340000\nMaxQueryMem = 2G",
                   "MaxDirtyBuffers = 6000": "MaxDirtyBuffers = 260000",
                   "ServerThreads = 10": "ServerThreads = 20",
                   "MaxClientConnections = 10": "MaxClientConnections = 20"}


def data_file(triples: int, work: Path) -> Path:
    """The generated N-Triples file of about ``triples`` triples (made once, kept in ``work``)."""
    path = work / f"synth-{size_label(triples)}.nt"
    if not path.exists():
        part = path.with_suffix(".part")
        with part.open("w", encoding="utf-8") as out:
            generate.write(triples, out, seed=7)
        part.rename(path)
    return path


@contextlib.contextmanager
def server(engine: str, folder: Path) -> Iterator[engines.Server]:
    """The engine on loopback with its data in ``folder`` (kept between runs)."""
    folder.mkdir(parents=True, exist_ok=True)
    if engine == "oxigraph":
        # as tests/engines.oxigraph_server, with time to open a 10M store (it waits 20 s)
        port = engines.free_port()
        proc = subprocess.Popen([engines.OXIGRAPH, "serve", "--location", str(folder), "--bind",
                                 f"127.0.0.1:{port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        try:
            engines._wait_http(base + "/query?query=ASK%7B%7D", proc, 600)
            yield engines.Server("oxigraph", base + "/query", base + "/update", proc.pid)
        finally:
            engines._stop(proc)
        return
    saved = engines.VIRTUOSO_INI
    tuned = saved
    for old, new in VIRTUOSO_TUNING.items():
        tuned = tuned.replace(old, new)
    engines.VIRTUOSO_INI = tuned  # the tests' settings, with the buffers of a big store
    try:
        with engines.virtuoso_server(folder) as s:
            yield s
    finally:
        engines.VIRTUOSO_INI = saved


def _sql_port(folder: Path) -> str:
    # the first ServerPort is [Parameters]' (SQL); the second is the HTTP server's
    return next(line.split("=")[1].strip() for line in (folder / "virtuoso.ini").read_text().splitlines()
                if line.startswith("ServerPort"))


def _endpoint(s: engines.Server) -> list[str]:
    return ["--endpoint", s.query, "--update-endpoint", s.update]


def bulk_load(engine: str, folder: Path, data: Path, s: engines.Server | None) -> dict[str, Any]:
    """The generated file into GRAPH with the engine's own loader; seconds taken."""
    start = time.monotonic()
    if engine == "oxigraph":  # the server must be stopped: one process holds the store
        subprocess.run([engines.OXIGRAPH, "load", "--location", str(folder), "--file", str(data),
                        "--graph", GRAPH], check=True, capture_output=True)
    else:
        link = folder / data.name
        if not link.exists():
            os.link(data, link)  # DirsAllowed is the server's folder
        sql = ["exec=ld_dir('.', '" + data.name + "', '" + GRAPH + "'); rdf_loader_run(); checkpoint;"]
        done = subprocess.run([engines.ISQL, _sql_port(folder), "dba", "dba", *sql],
                              check=True, capture_output=True, text=True, cwd=folder)
        failed = "exec=SELECT ll_file, ll_error FROM DB.DBA.LOAD_LIST WHERE ll_error IS NOT NULL;"
        errors = subprocess.run([engines.ISQL, _sql_port(folder), "dba", "dba", failed],
                                capture_output=True, text=True, cwd=folder).stdout
        if "ll_error" in errors and data.name in errors:
            raise SystemExit(f"Virtuoso's loader failed: {errors[-800:]} {done.stdout[-300:]}")
        link.unlink()
    return {"seconds": round(time.monotonic() - start, 1)}


def prepare(engine: str, triples: int, work: Path) -> dict[str, Any]:
    """Bundle by ``ckb load``, generated triples by the bulk loader, registry by ``ckb index --counts``."""
    folder = work / engine
    data = data_file(triples, work)
    steps: dict[str, Any] = {}
    with server(engine, folder) as s:
        steps["bundle_load"] = timed_child(ckb(*_endpoint(s), "load"))
        if engine == "virtuoso":
            steps["bulk_load"] = bulk_load(engine, folder, data, s)
    if engine == "oxigraph":
        steps["bulk_load"] = bulk_load(engine, folder, data, None)
    with server(engine, folder) as s:
        if engine == "virtuoso":
            steps["counts"] = virtuoso_counts(folder, s)
        else:
            steps["counts"] = timed_child(ckb(*_endpoint(s), "index", "--counts"))
    return steps


def virtuoso_counts(folder: Path, s: engines.Server) -> dict[str, Any]:
    """The KB's graph registry from Virtuoso's own count (isql). ``ckb index --counts`` sends the
    same GROUP BY over SPARQL HTTP, which at 10M did not finish within its 600 s limit on the
    loaded machine while isql counted in 2.5 s."""
    from kb import KnowledgeBase
    from kb.store import registry

    start = time.monotonic()
    count = "exec=SPARQL SELECT ?g COUNT(*) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g;"
    out = subprocess.run([engines.ISQL, _sql_port(folder), "dba", "dba", count], check=True,
                         capture_output=True, text=True, cwd=folder).stdout
    found = {g: int(n) for g, n in re.findall(r"^(\S+)\s+(\d+)\s*$", out, re.M)}
    with KnowledgeBase.open(endpoint=s.query, update_endpoint=s.update) as k:
        counts = {g: n for g, n in found.items() if k.backend.own(g)}
        k.backend._send_update(" ;\n".join(registry.rebuild(counts)))
    return {"seconds": round(time.monotonic() - start, 1), "triples": sum(counts.values()),
            "how": "isql count, registry written through the KB"}


class Serve:
    """``ckb serve --endpoint`` on a free loopback port, its process tree's RSS sampled."""

    def __init__(self, s: engines.Server, engine: str, timeout: float) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        # The budget of query seconds per client is raised: one client asking slow pages back to
        # back would otherwise measure 429s, not pages. Pages are not built ahead (each run times
        # what it asks for); a remote engine has no page cache.
        flags = ["--trusted-proxy", "127.0.0.1", "--no-warm-pages", "--query-budget", "100000",
                 "--timeout", str(timeout)]
        if engine == "oxigraph":
            flags.append("--allow-unbounded-queries")
        self.log = (Path(os.environ.get("TMPDIR", "/tmp")) / f"bench-remote-serve-{engine}.log").open("wb")
        self.proc = subprocess.Popen(ckb(*_endpoint(s), "serve", "--port", str(self.port), *flags), cwd=ROOT,
                                     stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        self.peak_kib = 0
        self._stop = threading.Event()
        with open(self.log.name, "rb") as log:
            engines.wait_serving(self.proc, log, lambda: _answers(self.port), 300)
        threading.Thread(target=self._sample, daemon=True).start()

    def _sample(self) -> None:
        while not self._stop.wait(0.5):
            self.peak_kib = max(self.peak_kib, _tree_rss_kib(self.proc.pid))

    def alive(self) -> bool:
        """Whether ``ckb serve`` still answers (its engine may have been stopped)."""
        try:
            return _answers(self.port)
        except OSError:
            return False

    def stop(self) -> None:
        """SIGTERM, then SIGKILL to the process group after 30 s."""
        self._stop.set()
        stop_group(self.proc)
        self.log.close()


def _answers(port: int) -> bool:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/sparql?query=ASK%7B%7D&format=json", timeout=60):
        return True


def _iris(kb: Any, where: str, limit: int) -> list[str]:
    rows = kb.query(f"SELECT DISTINCT ?x WHERE {{ {where} FILTER(STRSTARTS(STR(?x), \"{CKBR}\")) }} "
                    f"LIMIT {limit}", timeout=120).rows
    return sorted(str(r["x"]) for r in rows)


def pick(s: engines.Server, seed: int = 7) -> dict[str, list[tuple[str, str]]]:
    """The pages to visit, as pages_serve picks them: states and fighters, outlets, anonymous
    sources and analysts, explorer views; home, timeline and ASK {}."""
    from kb import KnowledgeBase

    rng = random.Random(seed)
    with KnowledgeBase.open(endpoint=s.query, timeout=120) as k:
        states = _iris(k, f"?x a <{CKB}State> .", 5)
        fighters = _iris(k, f"?p <{CKB}participationActor> ?x .", 400)
        outlets = _iris(k, f"?x a <{CKB}MediaOutlet> .", 10)
        unnamed = _iris(k, f"?x a <{CKB}UnnamedAgent> .", 400)
        analysts = _iris(k, f"?x a <{CKB}Analyst> .", 10)
    actors = states + rng.sample(fighters, min(35, len(fighters)))
    sources = outlets + rng.sample(unnamed, min(20, len(unnamed))) + analysts
    claims = ["/claims", "/claims?anonymity=anonymous", "/claims?q=reportedly", "/claims?kind=report"]
    claims += [f"/claims?speaker={quote(a, safe='')}" for a in unnamed[:3]]
    return {
        "ASK {}": [("select", sparql_path("ASK {}"))],
        "entity page": [("page", "/id/" + a[len(CKBR):]) for a in actors],
        "source page": [("page", "/source?iri=" + quote(a, safe="")) for a in sources],
        "claims explorer": [("page", c) for c in claims],
        "home": [("page", "/")],
        "timeline": [("page", "/timeline")],
    }


def measure(srv: Serve, pages: dict[str, list[tuple[str, str]]], seconds: float, clients: int,
            timeout: float) -> dict[str, Any]:
    """Each kind of page for ``seconds`` with ``clients`` closed-loop clients, after one warm-up pass."""
    out: dict[str, Any] = {}
    for urls in pages.values():  # one visit each: the server's first-use costs are not measured
        path = urls[0][1]
        with contextlib.suppress(OSError):
            urllib.request.urlopen(f"http://127.0.0.1:{srv.port}{path}", timeout=timeout + 30).close()
    for name, urls in pages.items():
        if not srv.alive():
            out[name] = {"skipped": "the engine had stopped"}
            continue
        run = run_clients(srv.port, [(clients, name, lambda n, u=urls: u[n % len(u)])], seconds,
                          timeout=timeout + 30)
        out[name] = summary(run.samples, run.seconds)
        out[name]["urls"] = len(urls)
        print(name, json.dumps(out[name]), flush=True)
    return out


def _engine_peak_mib(pid: int) -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as fh:
        return next(int(line.split()[1]) // 1024 for line in fh if line.startswith("VmHWM"))


def claim_index(s: engines.Server) -> dict[str, Any]:
    """The KB's claim index beside the client (kb.derived.remoteindex), built unless current: the
    source pages and the explorer read it. Built here, before ``ckb serve`` starts, so that its
    build does not run in the background while pages are measured. Its folder is named by the
    endpoint's URL, so a server started on another port builds it again."""
    from kb import KnowledgeBase
    from kb.derived import claimindex

    with KnowledgeBase.open(endpoint=s.query, update_endpoint=s.update) as k:
        if claimindex.current(k):
            return {"seconds": 0.0, "how": "current already"}
    done = timed_child(ckb(*_endpoint(s), "index"))
    return {**done, "how": "ckb --endpoint … index"}


@contextlib.contextmanager
def running(engine: str, endpoint: str, update: str | None, pid: int | None) -> Iterator[engines.Server]:
    """A server started elsewhere (``--endpoint``), its data loaded: measured as it is."""
    yield engines.Server(engine, endpoint, update or endpoint, pid or 0)


def run(engine: str, triples: int, work: Path, reuse: bool, seconds: float, clients: int,
        timeout: float, import_triples: int, prepare_only: bool = False,
        kinds: tuple[str, ...] = (), endpoint: str = "", update: str | None = None,
        engine_pid: int | None = None, index: bool = True, ready_wait: float = 0.0) -> dict[str, Any]:
    """Prepare (unless ``reuse`` or ``endpoint``), serve, measure, import; the record."""
    result: dict[str, Any] = {"engine": engine, "triples": triples, "clients": clients, "seconds": seconds,
                              "timeout_s": timeout, "machine": machine(), "loadavg_start": os.getloadavg(),
                              "budgets_p95_s": BUDGETS, "commit": _commit()}
    if not reuse and not endpoint:
        result["prepare"] = prepare(engine, triples, work)
        if prepare_only:
            return result
    with (running(engine, endpoint, update, engine_pid) if endpoint else server(engine, work / engine)) as s:
        from kb import KnowledgeBase

        with KnowledgeBase.open(endpoint=s.query) as k:
            result["graphs"] = k.graphs()
        skipped = {"seconds": 0.0, "how": "not built (--no-claim-index)"}
        result["claim_index"] = claim_index(s) if index else skipped
        result["loadavg_measured"] = os.getloadavg()
        pages = {k: v for k, v in pick(s).items() if not kinds or k in kinds}
        srv = Serve(s, engine, timeout)
        try:
            if ready_wait:  # measure a server that has read its derived state, as a user's would be
                from benchmarks.sweep_remote import ready

                result["ready_seconds"] = ready(f"http://127.0.0.1:{srv.port}", ready_wait, claims=index)
            result["pages"] = measure(srv, pages, seconds, clients, timeout)
        finally:
            srv.stop()
        result["serve_peak_rss_mib"] = srv.peak_kib // 1024
        if import_triples:
            small = data_file(import_triples, work)
            try:
                result["import"] = timed_child(ckb(*_endpoint(s), "import", str(small), "--name",
                                                   f"import-{size_label(import_triples)}"))
            except SystemExit as err:
                result["import"] = {"failed": str(err)[-300:]}
            result["import"]["triples"] = import_triples
        with contextlib.suppress(OSError, StopIteration):
            if s.pid:
                result["engine_peak_rss_mib"] = _engine_peak_mib(s.pid)
    result["loadavg_end"] = os.getloadavg()
    return result


def _commit() -> str:
    done = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                          capture_output=True, text=True)
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "kb", "webui"],
                           capture_output=True, text=True).stdout.strip()
    return done.stdout.strip() + (" (kb/ or webui/ changed since)" if dirty else "")


def markdown(r: dict[str, Any]) -> str:
    """One run as a Markdown table, budgets beside the figures."""
    total = sum(r["graphs"].values())
    lines = [f"## {r['engine']}: {total:,} triples in the KB's graphs ({r['triples']:,} generated)", "",
             f"{r['clients']} closed-loop client(s), {r['seconds']} s per kind of page; `ckb serve "
             f"--endpoint` time limit {r['timeout_s']} s; load average {r['loadavg_start'][0]:.2f} at the "
             f"start, {_load(r, 'loadavg_measured')} when the pages were first asked for, "
             f"{r['loadavg_end'][0]:.2f} at the end; commit {r.get('commit', '?')}.", ""]
    if "prepare" in r:
        lines += ["Preparation: " + ", ".join(f"{k} {v['seconds']} s" for k, v in r["prepare"].items()), ""]
    if "claim_index" in r:
        lines += [f"Claim index beside the client: {r['claim_index'].get('how')}, "
                  f"{r['claim_index'].get('seconds')} s.", ""]
    if "ready_seconds" in r:
        lines += ["`ckb serve` read the event index, class counts and claim bitmaps "
                  + (f"{r['ready_seconds']} s after start." if r["ready_seconds"] is not None
                     else "not within --ready-wait (measured anyway)."), ""]
    lines += ["| page | URLs | answers | p50 ms | p95 ms | p99 ms | max ms | budget (p95) | met | errors |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    for name, s in r["pages"].items():
        budget = BUDGETS[name]
        if "skipped" in s:
            lines.append(f"| {name} | | | | | | | {budget * 1000:.0f} ms | **not measured** "
                         f"| {s['skipped']} |")
            continue
        met = s["p95_ms"] is not None and s["p95_ms"] <= budget * 1000 and not s["errors"]
        said = "; ".join(_said(e) for e in s["error_examples"])[:200]
        lines.append(f"| {name} | {s['urls']} | {s['ok']} | {s['p50_ms']} | {s['p95_ms']} | {s['p99_ms']} | "
                     f"{s['max_ms']} | {budget * 1000:.0f} ms | {'yes' if met else '**no**'} | "
                     f"{s['errors'] or '-'} {said} |")
    lines += ["", f"`ckb serve` peak RSS {r['serve_peak_rss_mib']} MiB; engine peak RSS "
              f"{r.get('engine_peak_rss_mib', '(engine stopped)')} MiB."]
    i = r.get("import")
    if i and "failed" in i:
        lines.append(f"`ckb --endpoint … import` of {i['triples']:,} generated triples failed: {i['failed']}")
    elif i:
        lines.append(f"`ckb --endpoint … import` of {i['triples']:,} generated triples: {i['seconds']} s, "
                     f"client peak RSS **{i['peak_rss_mib']} MiB** (bound 1,024 MiB).")
    return "\n".join(lines) + "\n"


def _load(r: dict[str, Any], key: str) -> str:
    return f"{r[key][0]:.2f}" if key in r else "?"


def _said(example: str) -> str:
    """An error example without its HTML: status and the page's own words."""
    status, _, body = example.partition(" ")
    return status + " " + " ".join(body.split("<title>")[-1].split("</title>")[0].split())


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark on one engine and write the record."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--engine", choices=("virtuoso", "oxigraph"), required=True)
    ap.add_argument("--triples", type=int, default=1_000_000)
    ap.add_argument("--work", type=Path, required=True, help="the servers' data and the generated files")
    ap.add_argument("--reuse", action="store_true", help="the server in --work already holds the data")
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--clients", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=30)
    ap.add_argument("--import-triples", type=int, default=1_000_000, help="0: no import step")
    ap.add_argument("--kinds", default="", help="comma-separated page kinds to measure (default: all)")
    ap.add_argument("--tag", default="", help="appended to the result files' name")
    ap.add_argument("--prepare-only", action="store_true", help="load the server, measure nothing")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    ap.add_argument("--endpoint", default="", help="measure this running server (its data loaded) instead")
    ap.add_argument("--update-endpoint", default=None)
    ap.add_argument("--engine-pid", type=int, default=None, help="with --endpoint: its process, for its RSS")
    ap.add_argument("--no-claim-index", action="store_true",
                    help="measure without the claim index (source pages then walk the chains themselves)")
    ap.add_argument("--ready-wait", type=float, default=0, metavar="SECONDS",
                    help="before measuring, wait up to this long for `ckb serve` to read the server's "
                         "event index, class counts and (unless --no-claim-index) claim bitmaps")
    args = ap.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    r = run(args.engine, args.triples, args.work, args.reuse, args.seconds, args.clients, args.timeout,
            args.import_triples, args.prepare_only, tuple(k for k in args.kinds.split(",") if k),
            args.endpoint, args.update_endpoint, args.engine_pid, not args.no_claim_index, args.ready_wait)
    if args.prepare_only:
        print(json.dumps(r["prepare"]))
        return 0
    name = f"remote-{size_label(args.triples)}-{args.engine}{args.tag}"
    write_result(args.out, name, r, markdown(r))
    return 0


if __name__ == "__main__":
    sys.exit(main())
