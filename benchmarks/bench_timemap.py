"""/timeline and /map at a whole dataset: time per request with the page cache bypassed, and page heights.

python -m benchmarks.bench_timemap --store /tmp/ged-store --requests 40 --out benchmarks/results/
python -m benchmarks.bench_timemap --events 300000 --out benchmarks/results/   # generates and imports first

The store holds the bundle and a GED-shaped import (benchmarks.generate_ged; ``ckb import
--format ucdp-ged``). Requests go through the Flask app in-process, one at a time, so the
figures are the server's own time per request (no network, no queueing). Every request carries
a parameter no page reads (``_n=<counter>``), so the page cache never answers; the event index,
the per-zoom cluster grid and the memos are in play, as in any running server, and warm after
the first request of each URL (that first request is reported on its own). The page heights are
measured in chromium (/usr/bin/chromium) at 1366x900, with the page's scripts run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

CKB = "https://w3id.org/conflict-kb/ontology#"
TARGET_MS, MAX_HEIGHT = 200.0, 5000


def percentiles(times: list[float]) -> dict[str, float]:
    """p50/p95/max in milliseconds."""
    ms = sorted(t * 1000 for t in times)
    pick = lambda q: ms[min(len(ms) - 1, round(q * (len(ms) - 1)))]  # noqa: E731
    return {"n": len(ms), "p50": pick(.5), "p95": pick(.95), "max": ms[-1], "mean": statistics.fmean(ms)}


def _uptime() -> str:
    """The machine's load when the run starts and ends (it is shared)."""
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def urls(index: Any) -> list[str]:
    """The pages and the map's data requests, unfiltered and with one facet each."""
    country = index.facets(index.every, 1, ("country",))["country"][0][0]
    kind = quote(CKB + "OneSidedViolence", safe="")
    c = quote(country, safe="")
    return ["/timeline", f"/timeline?country={c}", f"/timeline?type={kind}",
            "/timeline?from=2001-03-01&to=2001-03-31", "/timeline?from=2001-03-01&to=2001-03-03",
            "/map", f"/map?country={c}", f"/map?type={kind}",
            "/api/map/clusters?zoom=2&bbox=-60,-180,75,180", "/api/map/clusters?zoom=5&bbox=25,30,45,50",
            f"/api/map/clusters?zoom=5&bbox=25,30,45,50&country={c}",
            "/api/map/clusters?zoom=9&bbox=34,37,35,38.5",
            "/api/map?zoom=5&bbox=25,30,45,50", f"/api/map?zoom=5&bbox=25,30,45,50&type={kind}"]


def heights(base: str, pages: list[str]) -> dict[str, int]:
    """Each page's full height in chromium at 1366x900, once its scripts have drawn it."""
    from playwright.sync_api import sync_playwright

    out = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium",
                                     args=["--headless=new", "--no-sandbox"])
        page = browser.new_page(viewport={"width": 1366, "height": 900})
        for url in pages:
            page.goto(base + url, timeout=120_000)
            page.wait_for_load_state("load")
            if url.startswith("/map"):
                page.wait_for_selector("#map[data-ready]", timeout=120_000)
            out[url] = int(page.evaluate("document.documentElement.scrollHeight"))
        browser.close()
    return out


def run(store: Path, requests: int) -> dict[str, Any]:
    """Open the store, build the event index, time every URL ``requests`` times."""
    import waitress

    from kb import KnowledgeBase
    from kb.derived import eventbuild
    from webui import create_app

    result: dict[str, Any] = {"store": str(store), "requests": requests, "uptime_start": _uptime()}
    kb = KnowledgeBase.open(store, timeout=30.0)
    started = time.perf_counter()
    index = eventbuild.ready(kb, wait=True)
    result["index_seconds"] = round(time.perf_counter() - started, 2)
    result["events"] = index.size
    app = create_app({"KB": kb})
    client = app.test_client()
    counter = iter(range(10**9))
    table: dict[str, Any] = {}
    for url in urls(index):
        sep = "&" if "?" in url else "?"
        t0 = time.perf_counter()
        first = client.get(f"{url}{sep}_n={next(counter)}", headers={"Accept": "text/html"})
        first_s = time.perf_counter() - t0
        assert first.status_code == 200, (url, first.status_code, first.data[:300])
        times = []
        for _ in range(requests):
            t0 = time.perf_counter()
            r = client.get(f"{url}{sep}_n={next(counter)}", headers={"Accept": "text/html"})
            times.append(time.perf_counter() - t0)
            assert r.status_code == 200, (url, r.status_code)
        table[url] = {"first_ms": round(first_s * 1000, 1), "bytes": len(r.data), **percentiles(times)}
        print(f"{url}: first {first_s * 1000:.0f} ms, p50 {table[url]['p50']:.1f}, "
              f"p95 {table[url]['p95']:.1f}", flush=True)
    result["urls"] = table
    srv = waitress.create_server(app, host="127.0.0.1", port=0, threads=4)
    threading.Thread(target=srv.run, daemon=True).start()
    try:
        result["heights"] = heights(f"http://127.0.0.1:{srv.effective_port}",
                                    [u for u in table if not u.startswith("/api/")])
    except Exception as err:  # no chromium here: the timings stand alone
        result["heights_error"] = str(err)
    finally:
        srv.close()
    result["uptime_end"] = _uptime()
    kb.close()
    return result


def markdown(result: dict[str, Any]) -> str:
    """The result as a table: per URL, first request, p50, p95, max, size and height."""
    lines = [f"# /timeline and /map at {result['events']:,} events (page cache bypassed)", "",
             f"Store `{result['store']}`; event index ready in {result['index_seconds']} s "
             f"(read from the sidecar, or built); {result['requests']} requests per URL after a first one.",
             "",
             f"- start: `{result['uptime_start']}`", f"- end: `{result['uptime_end']}`", "",
             "| URL | first ms | p50 ms | p95 ms | max ms | KiB | desktop height px | p95 <= 200 ms |",
             "|---|---|---|---|---|---|---|---|"]
    for url, r in result["urls"].items():
        h = result.get("heights", {}).get(url)
        lines.append(f"| `{url}` | {r['first_ms']:.0f} | {r['p50']:.1f} | {r['p95']:.1f} | {r['max']:.1f} | "
                     f"{r['bytes'] / 1024:.0f} | {h if h is not None else '—'} | "
                     f"{'yes' if r['p95'] <= TARGET_MS else 'no'} |")
    if "heights_error" in result:
        lines += ["", f"Heights not measured: {result['heights_error']}"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; write timemap-<size>.json and .md into --out."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--store", type=Path, help="a store holding a GED import (else one is made)")
    ap.add_argument("--events", type=int, default=300_000, help="rows to generate when no --store is given")
    ap.add_argument("--requests", type=int, default=40)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = ap.parse_args(argv)
    store = args.store
    if store is None:
        from benchmarks import generate_ged

        work = ROOT / "benchmarks" / "results" / "tmp"
        work.mkdir(parents=True, exist_ok=True)
        csv_path, store = work / f"ged{args.events}.csv", work / f"timemap-store-{args.events}"
        generate_ged.write(csv_path, args.events)
        subprocess.run([sys.executable, "-m", "kb.cli", "--store", str(store), "import", "--format",
                        "ucdp-ged", str(csv_path)], check=True)
    result = run(store, args.requests)
    size = f"{result['events'] // 1000}k" if result["events"] >= 1000 else str(result["events"])
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"timemap-{size}.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    (args.out / f"timemap-{size}.md").write_text(markdown(result), encoding="utf-8")
    print(markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
