"""Entity, source and claims-explorer pages through a real ``ckb serve``, before and after.

python -m benchmarks.pages_serve --triples 1000000 --seconds 20 --out benchmarks/results/

One generated file is imported beside the bundle by the CLI (as a real store holds it; an
import leaves the claim index stale). The same store is then served twice: "before" without a
current claim index (pages follow each claim's chain of sources, as they do after a write until
the index is rebuilt) and "after" ``ckb index`` built it (kb.derived.claimindex). Each page type runs with 1,
8 and 32 closed-loop clients for ``--seconds``; every request builds its page (the page cache
is bypassed). Writes pages-<size>.json and pages-<size>.md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pyoxigraph as ox

from benchmarks import generate
from benchmarks.bench_serving import Server, ckb, du, timed_child
from benchmarks.load_clients import run_clients, summary
from benchmarks.report import machine, size_label

CKB = "https://w3id.org/conflict-kb/ontology#"
CKBR = "https://w3id.org/conflict-kb/id/"
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")


def build(triples: int, work: Path) -> tuple[Path, dict[str, Any]]:
    """Generate the file, load the bundle, import the file: times and peak memory."""
    data = work / f"synth-{triples}.nt"
    with data.open("w", encoding="utf-8") as fh:
        written = generate.write(triples, fh, seed=7)
    store = work / "store"
    out: dict[str, Any] = {"triples_written": written,
                           "bundle_load": timed_child(ckb("load", "--store", str(store))),
                           "import": timed_child(ckb("import", str(data), "--name", "synthetic",
                                                     "--store", str(store)))}
    out["store_bytes"] = du(store)
    data.unlink()
    return store, out


def _typed(s: ox.Store, cls: str) -> list[str]:
    return sorted({q.subject.value for q in s.quads_for_pattern(None, RDF_TYPE, ox.NamedNode(CKB + cls))
                   if isinstance(q.subject, ox.NamedNode) and q.subject.value.startswith(CKBR)})


def pick(store: Path, seed: int = 7) -> dict[str, list[tuple[str, str]]]:
    """The pages to visit: actors (states, fighters), sources (outlets, anonymous, people)."""
    s = ox.Store.read_only(str(store))
    rng = random.Random(seed)
    fighters = sorted({q.object.value for q in s.quads_for_pattern(
        None, ox.NamedNode(CKB + "participationActor"), None) if q.object.value.startswith(CKBR)})
    actors = _typed(s, "State")[:5] + rng.sample(fighters, min(35, len(fighters)))
    sources = (_typed(s, "MediaOutlet")[:10] + rng.sample(_typed(s, "UnnamedAgent"), 20)
               + _typed(s, "Analyst")[:10])
    anonymous = _typed(s, "UnnamedAgent")[:3]
    del s
    claims = ["/claims", "/claims?anonymity=anonymous", "/claims?q=reportedly",
              "/claims?kind=report"] + [f"/claims?speaker={quote(a, safe='')}" for a in anonymous]
    return {
        "entity page": [("page", "/id/" + a[len(CKBR):]) for a in actors],
        "source page": [("page", "/source?iri=" + quote(a, safe="")) for a in sources],
        "claims explorer": [("page", c) for c in claims],
    }


def _cold(urls: list[tuple[str, str]]) -> Any:
    """Request n: the n-th URL with a query parameter no page reads, so that the server's
    page cache (webui.pagecache) never answers and every request builds its page."""
    def make(n: int) -> tuple[str, str]:
        kind, url = urls[n % len(urls)]
        return kind, f"{url}{'&' if '?' in url else '?'}bench={n}"
    return make


WARM_SECONDS = 45.0


def serve(store: Path, pages: dict[str, list[tuple[str, str]]], seconds: float,
          timeout: float, cached: bool = False) -> dict[str, Any]:
    """One server, every page type with 1, 8 then 32 clients (uncached unless ``cached``)."""
    server = Server(store, timeout)
    try:
        warm = [p for ps in pages.values() for p in ps]
        # 45 s: time for the server to read a current claim index into bitmaps (6.5 s at 1M
        # alone; the warm-up's own requests share the GIL with it)
        run_clients(server.port, [(4, "warm", lambda n: warm[n % len(warm)])], WARM_SECONDS)
        out: dict[str, Any] = {}
        for name, urls in pages.items():
            for clients in (1, 8, 32):
                maker = (lambda n, u=urls: u[n % len(u)]) if cached else _cold(urls)
                run = run_clients(server.port, [(clients, "page", maker)], seconds, timeout=timeout + 30)
                out[f"{name} / {clients} clients"] = summary(run.samples, run.seconds)
        out["server_peak_rss_mib"] = round(server.peak_kib / 1024)
        return out
    finally:
        server.stop()


def markdown(result: dict[str, Any]) -> str:
    """The figures side by side as Markdown."""
    b = result["build"]
    lines = [f"## Pages through `ckb serve` at {result['size']} generated triples "
             f"(store {b['store_bytes'] / 2**20:.0f} MiB; bundle load {b['bundle_load']['seconds']} s, "
             f"import {b['import']['seconds']} s, peak {b['import']['peak_rss_mib']} MiB; "
             f"load average at start {' / '.join(f'{x:.2f}' for x in result['loadavg'])})", "",
             f"{result['seconds']} s per row, closed-loop clients on 127.0.0.1, time limit "
             f"{result['timeout_s']} s, every page built afresh. *before*: no current claim index "
             "(pages follow the chains of sources); *after*: `ckb index` built it in "
             f"{b['index']['seconds']} s (peak {b['index']['peak_rss_mib']} MiB).", "",
             "| page / clients | path | pages/s | p50 ms | p95 ms | p99 ms | max ms | errors |",
             "|---|---|---|---|---|---|---|---|"]
    for key in result["after"]:
        if key == "server_peak_rss_mib":
            continue
        for path in ("before", "after"):
            r = result[path].get(key)
            if r:
                lines.append(f"| {key} | {path} | {r['per_second']} | {r['p50_ms']} | {r['p95_ms']} | "
                             f"{r['p99_ms']} | {r['max_ms']} | {sum(r['errors'].values())} |")
    rss = {k: result[k].get("server_peak_rss_mib") for k in ("before", "after")}
    said = {k: "not run" if v is None else f"{v} MiB" for k, v in rss.items()}
    lines += ["", f"Server peak RSS (process tree): before {said['before']}, after {said['after']}."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Command line."""
    ap = argparse.ArgumentParser(prog="python -m benchmarks.pages_serve", description=__doc__)
    ap.add_argument("--triples", type=int, default=1_000_000)
    ap.add_argument("--seconds", type=float, default=20.0, help="per page type and client count")
    ap.add_argument("--timeout", type=float, default=10.0, help="the server's query time limit")
    ap.add_argument("--skip-before", action="store_true", help="serve with the claim index only")
    ap.add_argument("--cached", action="store_true",
                    help="repeat the same URLs, so the page cache answers after the first visit")
    ap.add_argument("--out", default="benchmarks/results/")
    args = ap.parse_args(argv)
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="ckb-pages-serve-"))
    try:
        store, built = build(args.triples, work)
        pages = pick(store)
        result: dict[str, Any] = {"size": size_label(args.triples), "seconds": args.seconds,
                                  "timeout_s": args.timeout, "loadavg": os.getloadavg(),
                                  "machine": machine(), "build": built,
                                  "urls": {k: len(v) for k, v in pages.items()}}
        result["cached"] = args.cached
        result["before"] = {} if args.skip_before else serve(store, pages, args.seconds, args.timeout,
                                                             args.cached)
        built["index"] = timed_child(ckb("index", "--store", str(store)))
        result["after"] = serve(store, pages, args.seconds, args.timeout, args.cached)
        result["wall_seconds"] = round(time.monotonic() - started)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    name = f"pages-{size_label(args.triples)}"
    (out / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    (out / f"{name}.md").write_text(markdown(result), encoding="utf-8")
    print(markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
