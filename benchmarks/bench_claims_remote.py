"""The claims explorer through ``ckb serve --endpoint``, without and with the remote claim index (issue 23).

python -m benchmarks.bench_claims_remote --engine oxigraph --work /tmp/claims-r1M --triples 1000000

Uses a server folder prepared by benchmarks.bench_remote (``--work/<engine>``). Each explorer view
(the bare listing, the top value of every facet, a word search) is asked once with no claim index
(``ckb serve --no-index``: what a KB whose index is missing or stale serves), then the remote claim
index is built with ``ckb --endpoint … index`` (timed), and each view is asked ``--repeat`` times
from a fresh ``ckb serve``. The views' values come from the embedded store's claim index of the
same data (``--work/embedded-store.derived/claim-index.nt``), the most frequent value per facet.
The load average is recorded beside every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import quote

from benchmarks.bench_remote import _endpoint, server
from benchmarks.bench_serving import ckb
from benchmarks.bench_store import stop_group
from benchmarks.report import machine, size_label, write_result
from tests import engines

ROOT = Path(__file__).resolve().parent.parent
CKB = "https://w3id.org/conflict-kb/ontology#"
FACETS = {"source": "restsOn", "via": "accordingTo", "speaker": "firstSpeaker", "event": "concernsEventType",
          "actor": "concernsActor", "hedge": "hedgedAs", "coding": "coderJudged", "document": "fromDocument"}


def views(index: Path) -> list[str]:
    """The explorer views: bare, each anonymity and kind, the top value of each IRI facet, a word."""
    top: dict[str, Counter[str]] = {p: Counter() for p in FACETS.values()}
    with index.open(encoding="utf-8") as fh:
        for line in fh:
            parts = line.split(" ", 2)
            if len(parts) == 3 and parts[1][1:-1].startswith(CKB) and parts[1][1:-1][len(CKB):] in top:
                top[parts[1][1 + len(CKB):-1]][parts[2].rstrip(" .\n")] += 1
    out = ["/claims", "/claims?page=2", "/claims?q=reportedly"]
    out += [f"/claims?anonymity={quote(a)}" for a in ("anonymous", "named", "own voice")]
    out += [f"/claims?kind={k}" for k in ("report", "assessment", "forecast", "characterisation")]
    for name, prop in FACETS.items():
        if top[prop]:
            value = top[prop].most_common(1)[0][0].strip("<>")
            out.append(f"/claims?{name}={quote(value, safe='')}")
    out.append("/claims?anonymity=anonymous&kind=report")
    return out


def serve(s: engines.Server, env: dict[str, str], index: bool, log: Path) -> tuple[subprocess.Popen, int]:
    """``ckb serve --endpoint`` on a free port (``index``: with its claim index keeper)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    flags = ["--trusted-proxy", "127.0.0.1", "--no-warm-pages", "--query-budget", "100000", "--timeout", "30"]
    if s.name == "oxigraph":
        flags.append("--allow-unbounded-queries")
    if not index:
        flags.append("--no-index")
    out = log.open("ab")
    proc = subprocess.Popen(ckb(*_endpoint(s), "serve", "--port", str(port), *flags), cwd=ROOT, env=env,
                            stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    with log.open("rb") as fh:
        ask_ok = lambda: _get(port, "/sparql?query=ASK%7B%7D&format=json")[0] == 200  # noqa: E731
        engines.wait_serving(proc, fh, ask_ok, 300)
    return proc, port


def _get(port: int, path: str, timeout: float = 90) -> tuple[int, float, str]:
    """Status, seconds, and the page's notice of a stale index (if any) with its count of claims."""
    start = time.monotonic()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as r:
            body = r.read().decode("utf-8", "replace")
            status = r.status
    except urllib.error.HTTPError as err:
        body, status = err.read().decode("utf-8", "replace"), err.code
    seconds = time.monotonic() - start
    note = "index-notice" if 'id="index-notice"' in body else ""
    found = re.search(r'id="claims-count" class="count-line">(at least )?<strong>(\d+)</strong>', body)
    count = f" {found.group(1) or ''}{found.group(2)} claims" if found else ""
    return status, round(seconds, 3), note + count


def _rss_mib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            return next(int(line.split()[1]) // 1024 for line in fh if line.startswith("VmRSS"))
    except (OSError, StopIteration):
        return -1


def ask(port: int, paths: list[str], repeat: int, engine_pid: int) -> dict[str, Any]:
    """Each view ``repeat`` times: statuses, seconds, load average, the engine's RSS after."""
    out = {}
    for path in paths:
        runs = [_get(port, path) for _ in range(repeat)]
        secs = sorted(r[1] for r in runs)
        out[path] = {"status": sorted({r[0] for r in runs}), "seconds": secs,
                     "p95_s": secs[min(len(secs) - 1, int(0.95 * len(secs)))],
                     "notice": runs[-1][2], "loadavg": [round(x, 2) for x in os.getloadavg()],
                     "engine_rss_mib": _rss_mib(engine_pid)}
        print(path, json.dumps(out[path]), flush=True)
    return out


def run(engine: str, work: Path, repeat: int, phases: tuple[str, ...]) -> dict[str, Any]:
    """No index, build, with index: the record."""
    paths = views(work / "embedded-store.derived" / "claim-index.nt")
    result: dict[str, Any] = {"engine": engine, "machine": machine(), "views": paths, "repeat": repeat}
    log = Path(tempfile.gettempdir()) / f"bench-claims-serve-{engine}.log"
    with (tempfile.TemporaryDirectory(prefix="ckb-claims-derived-") as derived,
          server(engine, work / engine) as s):
        env = {**os.environ, "CKB_DERIVED_DIR": derived}
        if "none" in phases:
            proc, port = serve(s, env, False, log)
            try:
                result["no_index"] = ask(port, paths, 1, s.pid)
            finally:
                stop_group(proc)
        if "build" in phases:
            load = os.getloadavg()
            start = time.monotonic()
            done = subprocess.run(ckb(*_endpoint(s), "index"), cwd=ROOT, env=env,
                                  capture_output=True, text=True)
            result["index_build"] = {"seconds": round(time.monotonic() - start, 1), "rc": done.returncode,
                                     "out": (done.stdout + done.stderr).strip()[-400:],
                                     "loadavg_before": [round(x, 2) for x in load],
                                     "loadavg_after": [round(x, 2) for x in os.getloadavg()]}
            print("index build", json.dumps(result["index_build"]), flush=True)
        if "index" in phases:
            proc, port = serve(s, env, True, log)
            try:
                _get(port, "/claims")  # the bitmaps are read once per process
                result["with_index"] = ask(port, paths, repeat, s.pid)
            finally:
                stop_group(proc)
    return result


def markdown(r: dict[str, Any]) -> str:
    """The record as a table per phase."""
    lines = [f"# Claims explorer, {r['engine']}, {r.get('size', '')}", ""]
    if "index_build" in r:
        b = r["index_build"]
        lines += [f"Index build (`ckb --endpoint … index`): {b['seconds']} s, rc {b['rc']}, "
                  f"load {b['loadavg_before']} → {b['loadavg_after']}; {b['out'][-120:]}", ""]
    for phase in ("no_index", "with_index"):
        if phase not in r:
            continue
        lines += [f"## {phase.replace('_', ' ')}", "",
                  "| view | status | p95 s | notice, claims | load 1/5/15 | engine RSS MiB |",
                  "|---|---|---|---|---|---|"]
        for path, v in r[phase].items():
            lines.append(f"| `{path[:90]}` | {v['status']} | {v['p95_s']} | {v['notice']} | {v['loadavg']} "
                         f"| {v['engine_rss_mib']} |")
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Measure one engine and write the record."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--engine", choices=("virtuoso", "oxigraph"), required=True)
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("--triples", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--phases", default="none,build,index", help="comma-separated: none, build, index")
    ap.add_argument("--tag", default="")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = ap.parse_args(argv)
    r = run(args.engine, args.work, args.repeat, tuple(args.phases.split(",")))
    r["size"] = size_label(args.triples)
    name = f"claims-{size_label(args.triples)}-{args.engine}{args.tag}"
    write_result(args.out, name, r, markdown(r))
    return 0


if __name__ == "__main__":
    sys.exit(main())
