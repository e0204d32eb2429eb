"""Every page linked from the home page, in chromium, with real datasets imported (issue 20).

python -m benchmarks.sweep_pages --events 300000 --out benchmarks/results/

The bundle is loaded, the 601 Bangladesh GED rows and a generated GED file of ``--events``
events are imported, and ``ckb serve`` serves the store. Debian's chromium (never a downloaded
browser) opens the home page at desktop (1366x900) and phone (390x844) size, follows every link
on it to this server, and records for each page: the HTTP status, console and page errors,
whether it is wider than the viewport, its height and its load time. Writes sweep-<size>.json
and sweep-<size>.md; exits 1 if any page fails (status, errors or width).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from benchmarks.bench_serving import Server, ckb, timed_child
from benchmarks.report import machine, size_label

ROOT = Path(__file__).resolve().parents[1]
# The shared UCDP rows: beside the checkout, else where CI keeps them (as tests/conftest.py).
_NEAR = ROOT.parent / "shared"
SHARED = _NEAR if _NEAR.is_dir() else Path("/work/shared")
GED = SHARED / "data" / "ucdp-ged-19.1-bangladesh.csv"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SETTLE_MS = 60_000  # a page's fetches after load must be answered within this (a failure if not)
VIEWPORTS = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}


def build(events: int, work: Path, ged: Path) -> dict[str, Any]:
    """Load the bundle and import both GED files into a store under ``work``."""
    store = work / "store"
    generated = work / f"ged-{events}.csv"
    at = ("--store", str(store))
    steps = {"generate": timed_child([sys.executable, "-m", "benchmarks.generate_ged",
                                      "--events", str(events), "-o", str(generated)]),
             "load": timed_child(ckb("load", *at)),
             "import_bangladesh": timed_child(ckb("import", "--format", "ucdp-ged", str(ged), *at)),
             "import_generated": timed_child(ckb("import", "--format", "ucdp-ged", str(generated), *at)),
             "index": timed_child(ckb("index", *at))}
    generated.unlink()
    return steps


def prepared(store: Path, ged: Path) -> dict[str, Any]:
    """An existing store (say, one a benchmark built at 300k) with the real GED rows imported,
    its claim index rebuilt only if stale (a forced rebuild costs minutes at 300k, and makes the
    server read the event index again from the store instead of the file it kept)."""
    at = ("--store", str(store))
    steps = {"import_bangladesh": timed_child(ckb("import", "--format", "ucdp-ged", str(ged), *at))}
    if "stale" in steps["import_bangladesh"].get("stdout", ""):
        steps["index"] = timed_child(ckb("index", *at))
    return steps


def wait_ready(base: str, seconds: float) -> float:
    """Wait until the pages that stand on derived indexes answer 200 (they answer 503 while the
    indexes are built after start), and the home page and the landing views the server builds
    ahead after start (webui.warm) have answered once; the seconds waited."""
    from webui.warm import LANDING

    start = time.monotonic()
    for path in ("/events", "/", *LANDING):
        while True:
            try:
                with urllib.request.urlopen(base + path, timeout=300) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() - start > seconds:
                raise SystemExit(f"{path} did not answer 200 within {seconds:.0f} s")
            time.sleep(5)
    return round(time.monotonic() - start, 1)


def sweep(base: str) -> list[dict[str, Any]]:
    """Open the home page and every same-server page it links to, at each viewport size."""
    from playwright.sync_api import sync_playwright

    rows: list[dict[str, Any]] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for size, viewport in VIEWPORTS.items():
            context = browser.new_context(viewport=viewport)
            page = context.new_page()
            page.goto(base + "/", wait_until="load", timeout=120_000)
            links = page.eval_on_selector_all("main a[href], header a[href]", "els => els.map(e => e.href)")
            wanted = ["/", *sorted({_local(u) for u in links if u.startswith(base) and "/export/" not in u
                                    and not urlsplit(u).path.startswith("/static/")})]
            for path in dict.fromkeys(wanted):
                rows.append(_visit(context, base, path, size))
            context.close()
        browser.close()
    return rows


def _local(url: str) -> str:
    """A URL's path and query."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _visit(context: Any, base: str, path: str, size: str) -> dict[str, Any]:
    """One page: status, errors (its fetches' too), overflow, height, time to its load event and
    until its network is idle."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    retried = 0
    while True:
        errors.clear()
        start = time.monotonic()
        try:
            response = page.goto(base + path, wait_until="load", timeout=120_000)
        except PlaywrightTimeout:  # a failure of this page, recorded; the sweep goes on
            page.close()
            row = {"size": size, "path": path, "status": 0, "retried_429": retried,
                   "errors": ["no load event within 120 s"], "wider_px": 0, "height_px": 0,
                   "load_s": 120.0, "settled_s": 120.0, "settled": False, "ok": False}
            print(json.dumps(row), flush=True)
            return row
        elapsed = time.monotonic() - start
        # A 429 says when to come back (the client spent its query budget): a reader would wait.
        if response is None or response.status != 429 or retried == 3:
            break
        retried += 1
        time.sleep(float(response.headers.get("retry-after") or 5))
    # Wait for what the page fetches after load (the neighbourhood graph, a /query example's
    # results) to answer, so their errors are counted with the page that made them, and the
    # next page does not start while they still run on the server.
    settled = True
    try:
        page.wait_for_load_state("networkidle", timeout=SETTLE_MS)
    except PlaywrightTimeout:
        settled = False
    settle = time.monotonic() - start
    page.wait_for_timeout(300)  # scripts that draw after load (timeline, map, graphs)
    wider = int(page.evaluate("document.documentElement.scrollWidth - window.innerWidth"))
    height = int(page.evaluate("document.documentElement.scrollHeight"))
    page.close()
    status = response.status if response else 0
    row = {"size": size, "path": path, "status": status, "retried_429": retried, "errors": errors[:5],
            "wider_px": max(wider, 0),
            "height_px": height, "load_s": round(elapsed, 2), "settled_s": round(settle, 2),
            "settled": settled, "ok": status == 200 and not errors and wider <= 0 and settled}
    print(json.dumps(row), flush=True)  # progress, in the log of a run that takes many minutes
    return row


def report(rows: list[dict[str, Any]], meta: dict[str, Any]) -> str:
    """The sweep as a markdown table."""
    lines = [f"# Every page linked from the home page, {meta['events']:,} generated GED events + 601 real",
             "", f"Machine: {meta['machine']}. Store build: " + ", ".join(
                 f"{k} {v['seconds']:.0f} s" for k, v in meta["build"].items() if "seconds" in v), "",
             "| size | page | status | 429s waited out | console errors | wider than viewport | height px "
             "| load s | network idle s |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        idle = r["settled_s"] if r["settled"] else f"not within {SETTLE_MS // 1000} s"
        lines.append(f"| {r['size']} | `{r['path'][:70]}` | {r['status']} | {r['retried_429']} | "
                     f"{len(r['errors'])} | "
                     f"{r['wider_px'] or '-'} | {r['height_px']:,} | {r['load_s']} | {idle} |")
    bad = [r for r in rows if not r["ok"]]
    lines += ["", f"{len(rows) - len(bad)} of {len(rows)} page views pass (200, no console error, fits, "
              "its fetches answered)."]
    lines += [f"- {r['size']} `{r['path']}`: {'; '.join(r['errors']) or 'not settled'}" for r in bad]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Build the store, serve it, sweep the pages, write the report."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=300_000)
    ap.add_argument("--ged", type=Path, default=GED, help="the real GED rows imported beside")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    ap.add_argument("--work", type=Path, help="keep the store here (default: a temporary folder)")
    ap.add_argument("--store", type=Path, help="serve this store (already holding --events generated "
                                                "events); only the real GED rows are imported into it")
    ap.add_argument("--ready-timeout", type=float, default=1800, help="seconds to wait for the indexes")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="ckb-sweep-") as tmp:
        work = args.work or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        store = args.store or work / "store"
        meta: dict[str, Any] = {"events": args.events, "machine": machine(),
                                "build": prepared(store, args.ged) if args.store
                                else build(args.events, work, args.ged)}
        server = Server(store, timeout=30, flags=())  # as a user serves it: indexes kept, pages warmed
        try:
            meta["ready_wait_s"] = wait_ready(f"http://127.0.0.1:{server.port}", args.ready_timeout)
            rows = sweep(f"http://127.0.0.1:{server.port}")
        finally:
            server.stop()
        meta["server_peak_mib"] = server.peak_kib // 1024
    name = f"sweep-{size_label(args.events)}"
    args.out.mkdir(parents=True, exist_ok=True)
    record = json.dumps({"meta": meta, "rows": rows}, indent=1)
    (args.out / f"{name}.json").write_text(record, encoding="utf-8")
    (args.out / f"{name}.md").write_text(report(rows, meta), encoding="utf-8")
    print(report(rows, meta))
    return 0 if all(r["ok"] for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
