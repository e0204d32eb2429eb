"""Page benchmark: entity, source and claims-explorer pages on a generated store, side by side
with the provenance walk of the pages before issue 8 (main's kb/provenance.claims_about).

python -m benchmarks.bench_pages --triples 100000 --requests 30 --out benchmarks/results/

The store is a real on-disk KnowledgeBase holding the bundle plus the generated file as an
import graph. Requests go through the Flask app in-process, one at a time, so the figures are
the server's own time per page (no network, no queueing). For the same pages through a real
``ckb serve`` with 8 and 32 clients, before (bounded queries in the workers) and after (pattern
lookups), at 1M triples: ``python -m benchmarks.pages_serve`` (results in pages-1M.md).
"""

from __future__ import annotations

import argparse
import importlib.util
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import generate  # noqa: E402
from benchmarks.report import size_label, write_result  # noqa: E402

CKB = "https://w3id.org/conflict-kb/ontology#"
PROV = "http://www.w3.org/ns/prov#"


def percentiles(times: list[float]) -> dict[str, float]:
    """p50/p95/p99/max in milliseconds."""
    ms = sorted(t * 1000 for t in times)
    if not ms:
        return {}
    pick = lambda q: ms[min(len(ms) - 1, round(q * (len(ms) - 1)))]  # noqa: E731
    return {"n": len(ms), "p50": pick(.5), "p95": pick(.95), "p99": pick(.99), "max": ms[-1],
            "mean": statistics.fmean(ms)}


def old_provenance() -> Any:
    """main's kb/views/provenance.py before this change (the unbounded property-path walk)."""
    text = subprocess.run(["git", "-C", str(ROOT), "show", "46235df:kb/provenance.py"],
                          capture_output=True, text=True, check=True).stdout
    spec = importlib.util.spec_from_loader("old_provenance", loader=None)
    module = importlib.util.module_from_spec(spec)
    sys.modules["old_provenance"] = module  # dataclasses look their module up there
    exec(compile(text, "old_provenance.py", "exec"), module.__dict__)
    return module


def samples(kb: Any, n: int) -> dict[str, list[str]]:
    """Entities to request: heavy and ordinary actors, outlets, people and anonymous sources."""
    def iris(sparql: str) -> list[str]:
        return [str(r["x"]) for r in kb.query(sparql, limit=n).rows]

    synth = "https://w3id.org/conflict-kb/id/"

    def typed(cls: str, prefix: str) -> list[str]:
        return iris(f"SELECT ?x WHERE {{ ?x a <{CKB}{cls}> "
                    f"FILTER(STRSTARTS(STR(?x), '{synth}{prefix}')) }}")

    fighters = iris(f"SELECT DISTINCT ?x WHERE {{ ?p <{CKB}participationActor> ?x }} ORDER BY ?x")
    return {
        "actor": typed("State", "state")[:n // 2] + fighters[: n - n // 2],
        "source": typed("MediaOutlet", "outlet")[:3] + typed("UnnamedAgent", "anonymous")[: n // 2]
        + typed("Analyst", "person")[:3],
    }


def run(triples: int, requests: int, workdir: Path, old_limit: int) -> dict[str, Any]:
    """Generate, load, and time each page type; return the figures."""
    from kb import KnowledgeBase
    from kb.views.facts import key_facts
    from kb.views.provenance import claims_page
    from webui import create_app

    data = workdir / f"synth-{triples}.nt"
    with data.open("w", encoding="utf-8") as fh:
        written = generate.write(triples, fh, seed=7)
    kb = KnowledgeBase.open(workdir / "store", timeout=10.0)
    kb.ensure_loaded()
    t0 = time.perf_counter()
    kb.import_file(data, name="synthetic")
    load_s = time.perf_counter() - t0
    total = sum(kb.graphs().values())
    picks = samples(kb, 10)
    client = create_app({"KB": kb}).test_client()
    anon = picks["source"][3] if len(picks["source"]) > 3 else picks["source"][0]
    urls = {
        "entity page": ["/entity?iri=" + quote(i, safe="") for i in picks["actor"]],
        "source page": ["/source?iri=" + quote(i, safe="") for i in picks["source"]],
        "claims explorer": ["/claims", "/claims?anonymity=anonymous", "/claims?q=reportedly",
                            "/claims?speaker=" + quote(anon, safe=""),
                            "/claims?source=" + quote(picks["source"][0], safe="")],
    }
    out: dict[str, Any] = {"triples_requested": triples, "triples_written": written,
                           "store_triples": total, "import_seconds": round(load_s, 2), "pages": {}}
    for name, pages in urls.items():
        client.get(pages[0], headers={"Accept": "text/html"})  # warm the worker once
        times, errors = [], 0
        for i in range(requests):
            t = time.perf_counter()
            r = client.get(pages[i % len(pages)], headers={"Accept": "text/html"})
            times.append(time.perf_counter() - t)
            errors += r.status_code != 200
        out["pages"][name] = percentiles(times) | {"errors": errors, "urls": len(pages)}
    # Side by side: the provenance part of an entity page, before (main) and now.
    old = old_provenance()
    before, now, timeouts = [], [], 0
    for iri in picks["actor"][:old_limit]:
        t = time.perf_counter()
        try:
            old.claims_about(kb, iri)
        except Exception as err:  # a QueryTimeout is the result being measured
            timeouts += "time" in str(err).lower()
        before.append(time.perf_counter() - t)
        t = time.perf_counter()
        claims_page(kb, iri, 1, 10)
        key_facts(kb, iri)
        now.append(time.perf_counter() - t)
    out["provenance_walk"] = {"before (main: claims_about, unbounded path)": percentiles(before)
                              | {"timeouts": timeouts},
                              "now (claims_page + key_facts, bounded)": percentiles(now)}
    out["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    kb.close()
    return out


def markdown(result: dict[str, Any]) -> str:
    """The figures as a Markdown table."""
    lines = [f"## Pages at {result['store_triples']:,} triples "
             f"(generated {result['triples_written']:,}, import {result['import_seconds']} s, "
             f"peak RSS {result['peak_rss_mib']} MiB)", "",
             "| page | n | p50 ms | p95 ms | p99 ms | max ms | errors |", "|---|---|---|---|---|---|---|"]
    for name, r in result["pages"].items():
        lines.append(f"| {name} | {r['n']} | {r['p50']:.1f} | {r['p95']:.1f} | {r['p99']:.1f} | "
                     f"{r['max']:.1f} | {r['errors']} |")
    lines += ["", "| provenance of an actor page | n | p50 ms | p95 ms | max ms | timeouts |",
              "|---|---|---|---|---|---|"]
    for name, r in result["provenance_walk"].items():
        lines.append(f"| {name} | {r['n']} | {r['p50']:.1f} | {r['p95']:.1f} | {r['max']:.1f} | "
                     f"{r.get('timeouts', '')} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Command line."""
    ap = argparse.ArgumentParser(prog="python -m benchmarks.bench_pages", description=__doc__)
    ap.add_argument("--triples", type=int, default=100_000)
    ap.add_argument("--requests", type=int, default=30, help="requests per page type")
    ap.add_argument("--old", type=int, default=6, help="actor pages timed with main's walk")
    ap.add_argument("--out", default="benchmarks/results/")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="ckb-pages-") as tmp:
        result = run(args.triples, args.requests, Path(tmp), args.old)
    write_result(args.out, f"pages-{size_label(args.triples)}", result, markdown(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
