"""The events table (/events) at a GED-shaped import, through a real ``ckb serve``.

python -m benchmarks.bench_eventviews --events 300000 --seconds 20 --out benchmarks/results/
python -m benchmarks.bench_eventviews --store /tmp/ged-store ...   (a store that holds the import)

The GED-shaped file (benchmarks.generate_ged) is imported beside the bundle by the CLI. The
store is served (no claim index rebuilt behind the measurements, no pages built ahead); the
first /events answers 503 while the event index is read from the store, and the time until it
answers 200 is reported. Then each view (unfaceted, and one value of each facet taken from the
page's own facet links, a date range, a fatalities range, another sort) runs with one
closed-loop client for ``--seconds``, every request with a parameter no page reads, so that the
page cache never answers and every request builds its page. The page's height at 1366x900 is
measured in chromium when /usr/bin/chromium and playwright are there.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import urllib.request
from html import unescape
from pathlib import Path
from typing import Any

from benchmarks import generate_ged
from benchmarks.bench_serving import Server, ckb, du, timed_child
from benchmarks.load_clients import run_clients, summary
from benchmarks.report import machine, size_label

CHROMIUM = Path("/usr/bin/chromium")


def build(events: int, work: Path) -> tuple[Path, dict[str, Any]]:
    """Generate the GED file, load the bundle, import the file: times and peak memory."""
    data = generate_ged.write(work / f"ged-{events}.csv", events, seed=7)
    store = work / "store"
    out = {"bundle_load": timed_child(ckb("load", "--store", str(store))),
           "import": timed_child(ckb("import", "--format", "ucdp-ged", str(data), "--store", str(store)))}
    out["store_bytes"] = du(store)
    data.unlink()
    return store, out


def _get(port: int, path: str, timeout: float = 120) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as r:
            return r.status, r.read().decode("utf-8")
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode("utf-8", "replace")


def wait_ready(port: int, limit: float) -> float:
    """Seconds until /events answers 200 (503 while the event index is read)."""
    start = time.monotonic()
    while time.monotonic() - start < limit:
        status, _body = _get(port, "/events?bench=ready")
        if status == 200:
            return round(time.monotonic() - start, 1)
        if status != 503:
            raise SystemExit(f"/events answered {status}")
        time.sleep(2)
    raise SystemExit(f"/events not ready after {limit} s")


def views(port: int) -> dict[str, str]:
    """The views to time: the top value of each facet, as the page links it, and the rest."""
    _status, html = _get(port, "/events")
    out = {"unfaceted": "/events"}
    for href, name in re.findall(r'<a href="([^"]+)" data-facet="([^"]+)"', html):
        out.setdefault(f"facet {name}", unescape(href))  # the first value listed: the largest
    out |= {"date range (one year)": "/events?from=2000-01-01&to=2000-12-31",
            "deaths 10 to 20": "/events?fat_min=10&fat_max=20",
            "sorted by deaths": "/events?sort=-fatalities",
            "page 20": "/events?page=20"}
    return out | timemap_views(out.get("facet country", ""))


def timemap_views(country_link: str) -> dict[str, str]:
    """/timeline and /map (webui/timeline.py, webui/map.py) unfiltered and for the same country,
    and the map's own data requests: its clusters over the world and the events in a box."""
    country = country_link.partition("?")[2]
    out = {"timeline": "/timeline", "map": "/map",
           "map clusters, world": "/api/map/clusters?zoom=2&bbox=-60,-180,75,180",
           "map events in a box": "/api/map?zoom=5&bbox=25,30,45,50"}
    if country:
        out |= {"timeline, one country": f"/timeline?{country}", "map, one country": f"/map?{country}"}
    return out


def heights(port: int, paths: dict[str, str]) -> dict[str, int] | str:
    """Each page's height in px at 1366x900 in chromium, or why it was not measured."""
    if not CHROMIUM.exists():
        return "chromium not installed"
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return "playwright not installed"
    out = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=["--headless=new", "--no-sandbox"])
        page = browser.new_page(viewport={"width": 1366, "height": 900})
        for name, path in paths.items():
            page.goto(f"http://127.0.0.1:{port}{path}", timeout=120_000)
            out[name] = int(page.evaluate("document.documentElement.scrollHeight"))
        browser.close()
    return out


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


def serve(store: Path, seconds: float, timeout: float) -> dict[str, Any]:
    """One server: time to the index, then every view alone with one client, uncached."""
    server = Server(store, timeout)
    try:
        out: dict[str, Any] = {"index_ready_s": wait_ready(server.port, 1800)}
        paths = views(server.port)
        for name, path in paths.items():
            def maker(n: int, p: str = path) -> tuple[str, str]:
                return "page", f"{p}{'&' if '?' in p else '?'}bench={n}"
            run = run_clients(server.port, [(1, "events", maker)], seconds, timeout=timeout + 30)
            out[name] = summary(run.samples, run.seconds) | {"path": path}
        out["heights_px"] = heights(server.port, {k: paths[k] for k in (
            "unfaceted", "facet actor", "facet country", "sorted by deaths", "timeline", "map",
            "timeline, one country", "map, one country") if k in paths})
        out["server_peak_rss_mib"] = round(server.peak_kib / 1024)
        return out
    finally:
        server.stop()


def markdown(result: dict[str, Any]) -> str:
    """The figures as Markdown."""
    s = result["serve"]
    lines = [f"## /events at {result['size']} GED-shaped events through `ckb serve`", "",
             f"`{result['uptime_before']}` (before) / `{result['uptime_after']}` (after); the machine is "
             "shared with other jobs. One closed-loop client per view for "
             f"{result['seconds']} s, every request built afresh (page cache bypassed). The event index "
             f"was read from the store in {s['index_ready_s']} s after start (503 until then); server "
             f"peak RSS {s['server_peak_rss_mib']} MiB.", "",
             "| view | path | pages/s | p50 ms | p95 ms | p99 ms | max ms | errors |",
             "|---|---|---|---|---|---|---|---|"]
    for name, r in s.items():
        if isinstance(r, dict) and "p50_ms" in r:
            lines.append(f"| {name} | `{r['path'][:70]}` | {r['per_second']} | {r['p50_ms']} | "
                         f"{r['p95_ms']} | {r['p99_ms']} | {r['max_ms']} | {sum(r['errors'].values())} |")
    lines += ["", f"Page height at 1366x900 (px): {s['heights_px']}."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Command line."""
    ap = argparse.ArgumentParser(prog="python -m benchmarks.bench_eventviews", description=__doc__)
    ap.add_argument("--events", type=int, default=300_000)
    ap.add_argument("--store", type=Path, help="a store holding the import already (not built here)")
    ap.add_argument("--seconds", type=float, default=20.0, help="per view")
    ap.add_argument("--timeout", type=float, default=10.0, help="the server's query time limit")
    ap.add_argument("--out", default="benchmarks/results/")
    args = ap.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="ckb-eventviews-"))
    result: dict[str, Any] = {"size": size_label(args.events), "seconds": args.seconds,
                              "uptime_before": uptime(), "loadavg": os.getloadavg(), "machine": machine()}
    try:
        store, result["build"] = (args.store, {"store": "given"}) if args.store else build(args.events, work)
        result["serve"] = serve(store, args.seconds, args.timeout)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    result["uptime_after"] = uptime()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    name = f"eventviews-{size_label(args.events)}"
    (out / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    (out / f"{name}.md").write_text(markdown(result), encoding="utf-8")
    print(markdown(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
