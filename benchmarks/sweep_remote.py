"""Every page linked from the home page, over HTTP, on the three engines at one size (issue 23).

python -m benchmarks.sweep_remote --triples 1000000 --work /tmp/r1M --out benchmarks/results/

The same generated file (benchmarks/generate.py, seed 7) beside the bundle on each engine: the
embedded store (``ckb load`` + ``ckb import`` + ``ckb index``), and Oxigraph server and Virtuoso
as benchmarks/bench_remote.py prepares them in ``--work`` (bulk loader + ``ckb index --counts``).
``ckb serve`` (with ``--endpoint`` for the servers) serves each; the home page is fetched and
every same-server link in its header and main part is fetched once, in order, as a reader
clicking through would (a 429 is waited out as its Retry-After asks). No browser: this checks
statuses and times; benchmarks/sweep_pages.py checks layout in chromium. ``--index`` first runs
``ckb --endpoint … index`` on each server (the derived state a deployment builds ahead: class
counts, event index, claim index), timed; ``--ready-wait`` instead waits until the server's
``ckb serve`` has read its event index and class counts itself (/events answers 200, the home
page lists the classes), as benchmarks/sweep_pages.py waits for the embedded event index. Each
row keeps the 1-minute load average after it (the machine is shared: times are noisy). Writes
remote-<size>-sweep.json and .md with the commit swept; exits 1 if any page is not 200.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from benchmarks.bench_remote import Serve, _endpoint, data_file, prepare, server
from benchmarks.bench_serving import Server, ckb, timed_child
from benchmarks.report import machine, size_label
from benchmarks.sweep_pages import _local

ROOT = Path(__file__).resolve().parents[1]
ENGINES = ("embedded", "oxigraph", "virtuoso")


class _Links(HTMLParser):
    """The hrefs of links inside <header> and <main> (as sweep_pages' selector takes them)."""

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("header", "main"):
            self.depth += 1
        elif tag == "a" and self.depth:
            href = dict(attrs).get("href")
            if href:
                self.hrefs.append(href)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("header", "main") and self.depth:
            self.depth -= 1


def _get(url: str, timeout: float) -> tuple[int, bytes, dict[str, str]]:
    request = urllib.request.Request(url, headers={"Accept": "text/html"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as r:
            return r.status, r.read(), dict(r.headers)
    except urllib.error.HTTPError as err:
        return err.code, err.read(), dict(err.headers)
    except OSError as err:
        return 0, str(err).encode(), {}


def _message(body: bytes) -> str:
    """The readable part of an error page: the text of its <main>, squeezed."""
    text = body.decode("utf-8", "replace")
    main = text.split("<main", 1)[-1].split("</main>", 1)[0]
    parts, inside = [], False
    for ch in main:
        if ch == "<":
            inside = True
        elif ch == ">":
            inside = False
            parts.append(" ")
        elif not inside:
            parts.append(ch)
    return " ".join("".join(parts).split())[:200]


COUNTING = b"being counted in the background"  # the home page's note while a server's classes are counted
NOTICE = b'id="index-notice"'  # the explorer's note while it reads claims without the index's bitmaps


def ready(base: str, wait: float, claims: bool = False) -> float | None:
    """Seconds until the server's derived state is read (the event index: /events answers 200; the
    class counts: the home page no longer says they are being counted; with ``claims``, the claim
    index's bitmaps: the explorer shows no index notice); None if not within ``wait``."""
    start = time.monotonic()
    while time.monotonic() - start < wait:
        events, _, _ = _get(base + "/events", 60)
        home, body, _ = _get(base + "/", 60)
        explorer, page, _ = _get(base + "/claims", 60) if claims else (200, b"", None)
        if events == 200 and home == 200 and COUNTING not in body and explorer == 200 \
                and NOTICE not in page:
            return round(time.monotonic() - start, 1)
        time.sleep(5)
    return None


def sweep(base: str, timeout: float, skip: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """Fetch the home page and each same-server page it links to, one after another (``skip``:
    paths recorded as not asked, with status 0)."""
    status, body, _ = _get(base + "/", timeout)
    links = _Links()
    links.feed(body.decode("utf-8", "replace"))
    urls = [urljoin(base + "/", h) for h in links.hrefs]
    wanted = ["/", *sorted({_local(u) for u in urls if u.startswith(base) and "/export/" not in u
                            and not urlsplit(u).path.startswith("/static/")})]
    rows = []
    for path in dict.fromkeys(wanted):
        if path in skip:
            rows.append({"path": path, "status": 0, "seconds": 0, "retried_429": 0, "bytes": 0,
                         "message": "not asked (--skip)"})
            continue
        waited = 0
        while True:
            start = time.monotonic()
            status, body, headers = _get(base + path, timeout)
            elapsed = time.monotonic() - start
            if status != 429 or waited == 3:
                break
            waited += 1
            time.sleep(float(headers.get("Retry-After") or 5))
        rows.append({"path": path, "status": status, "seconds": round(elapsed, 2), "retried_429": waited,
                     "bytes": len(body), "message": "" if status == 200 else _message(body),
                     "load": round(os.getloadavg()[0], 1)})
        print(json.dumps(rows[-1]), flush=True)
    return rows


def embedded_store(triples: int, work: Path) -> tuple[Path, dict[str, Any]]:
    """The bundle and the generated file in an embedded store under ``work`` (built once)."""
    store = work / "embedded-store"
    if (store / ".built").exists():
        return store, {}
    at = ("--store", str(store))
    steps = {"load": timed_child(ckb("load", *at)),
             "import": timed_child(ckb("import", str(data_file(triples, work)), "--name", "synthetic", *at)),
             "index": timed_child(ckb("index", *at))}
    (store / ".built").write_text("", encoding="utf-8")
    return store, steps


def commit() -> str:
    """The swept code's commit (short hash, "+" when the work tree has changes)."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    changed = git("status", "--porcelain", "--untracked-files=no")
    return git("rev-parse", "--short", "HEAD") + ("+" if changed else "")


def run(engine: str, triples: int, work: Path, timeout: float, skip: tuple[str, ...] = (),
        index: bool = False, wait: float = 0) -> dict[str, Any]:
    """Prepare the engine's data if need be, serve it, sweep it."""
    out: dict[str, Any] = {"engine": engine, "commit": commit(), "loadavg_start": os.getloadavg()}
    if engine == "embedded":
        store, out["build"] = embedded_store(triples, work)
        srv = Server(store, timeout, flags=("--trusted-proxy", "127.0.0.1", "--query-budget", "100000"))
        try:
            out["rows"] = sweep(f"http://127.0.0.1:{srv.port}", timeout + 60)
        finally:
            srv.stop()
        out["loadavg_end"] = os.getloadavg()
        return out
    if not (work / engine / ".prepared").exists():
        out["build"] = prepare(engine, triples, work)
        (work / engine / ".prepared").write_text("", encoding="utf-8")
    with server(engine, work / engine) as s:
        if index:
            out["index"] = timed_child(ckb(*_endpoint(s), "index"))
        remote = Serve(s, engine, timeout)
        try:
            if wait:
                out["ready_seconds"] = ready(f"http://127.0.0.1:{remote.port}", wait)
            out["rows"] = sweep(f"http://127.0.0.1:{remote.port}", timeout + 60, skip)
        finally:
            remote.stop()
    out["loadavg_end"] = os.getloadavg()
    return out


def markdown(runs: list[dict[str, Any]], triples: int) -> str:
    """The three sweeps side by side."""
    lines = [f"# Every page linked from the home page, {triples:,} generated triples beside the bundle", "",
             f"Machine: {machine()['cpu']}, {os.cpu_count()} cores (shared with other work). One request at "
             "a time, over HTTP (no browser), each page's first visit; `ckb serve` with its defaults apart "
             "from a raised query budget (`--query-budget 100000`, so one client is never told to wait). "
             "Embedded: the default page cache and its landing pages built ahead after start; servers: "
             "`--no-warm-pages` (a server's KB has no page cache).", ""]
    paths = list(dict.fromkeys(r["path"] for run in runs for r in run["rows"]))
    lines += ["| page | " + " | ".join(run["engine"] for run in runs) + " |",
              "|---|" + "---|" * len(runs)]
    for path in paths:
        cells = []
        for run in runs:
            row = next((r for r in run["rows"] if r["path"] == path), None)
            cells.append("-" if row is None else f"{row['status']}, {row['seconds']} s"
                         + (f" ({row['message'][:80]})" if row["message"] else ""))
        lines.append(f"| `{path[:100]}` | " + " | ".join(cells) + " |")
    lines.append("")
    for run in runs:
        ok = sum(r["status"] == 200 for r in run["rows"])
        slow = max(run["rows"], key=lambda r: r["seconds"])
        end = f", {run['loadavg_end'][0]:.1f} at the end" if run.get("loadavg_end") else ""
        index = (f"; `ckb --endpoint … index` first, {run['index']['seconds']:.0f} s"
                 if run.get("index") else "")
        if "ready_seconds" in run:
            index += ("; swept once the event index and class counts were read, "
                      f"{run['ready_seconds']} s after start" if run["ready_seconds"] is not None
                      else "; the event index or class counts were not read within --ready-wait")
        lines.append(f"- {run['engine']} (commit {run.get('commit', '?')}): {ok} of {len(run['rows'])} pages "
                     f"answered 200 (load average {run['loadavg_start'][0]:.1f} at the start{end}); slowest "
                     f"`{slow['path'][:60]}` {slow['seconds']} s{index}.")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Sweep each engine in turn and write the report."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--triples", type=int, default=1_000_000)
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("--engine", action="append", choices=ENGINES, help="default: all three")
    ap.add_argument("--timeout", type=float, default=30, help="ckb serve's query time limit")
    ap.add_argument("--skip", action="append", default=[], metavar="PATH",
                    help="a page not to ask for on the servers (say, one that stops the engine)")
    ap.add_argument("--index", action="store_true",
                    help="run `ckb --endpoint … index` on each server before serving it")
    ap.add_argument("--ready-wait", type=float, default=0, metavar="SECONDS",
                    help="on a server, first wait up to this long for the event index and class counts "
                         "that `ckb serve` reads at start (else the first minutes answer 503)")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = ap.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    # a server's derived files (kb.derived.sidecar.remote_folder) under --work, not the user's cache
    os.environ.setdefault("CKB_DERIVED_DIR", str(args.work.resolve() / "derived"))
    name = f"remote-{size_label(args.triples)}-sweep"
    args.out.mkdir(parents=True, exist_ok=True)
    record = args.out / f"{name}.json"
    # one engine at a time may be (re)run: the record keeps the others' last sweeps
    runs = {r["engine"]: r for r in json.loads(record.read_text("utf-8"))} if record.exists() else {}
    for engine in args.engine or ENGINES:
        runs[engine] = run(engine, args.triples, args.work, args.timeout, tuple(args.skip), args.index,
                           args.ready_wait)
        ordered = [runs[e] for e in ENGINES if e in runs]
        record.write_text(json.dumps(ordered, indent=1) + "\n", encoding="utf-8")
        (args.out / f"{name}.md").write_text(markdown(ordered, args.triples), encoding="utf-8")
    print(markdown(ordered, args.triples))
    return 0 if all(r["status"] == 200 for run in ordered for r in run["rows"]) else 1


if __name__ == "__main__":
    sys.exit(main())
