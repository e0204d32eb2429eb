"""`ckb reason` on the bundle plus two GED files and 20 ACLED rows (issue 21 #5): time and result.

    python -m benchmarks.bench_reason [--second-ged FILE] [--out benchmarks/results]

Loads the bundle into a fresh store, imports the Bangladesh GED rows (../shared/data), a second
GED file (a real one given with --second-ged or found beside the first, else 2,600 rows from
benchmarks.generate_ged) and benchmarks/fixtures/acled-syria-20.csv, then runs the real
`ckb reason` (HermiT on the ontology and the article, the rules on everything) and records its
wall time, CPU time, the triples it inferred and the machine's load (shared machine: `uptime`).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import generate_ged

ROOT = Path(__file__).resolve().parent.parent
# ../shared/data beside the main checkout (or beside the folder of worktrees)
SHARED = next((p / "shared" / "data" for p in ROOT.parents if (p / "shared" / "data").is_dir()),
              ROOT.parent / "shared" / "data")
BANGLADESH = "ucdp-ged-19.1-bangladesh.csv"
ACLED = ROOT / "benchmarks" / "fixtures" / "acled-syria-20.csv"
LIMIT = 60.0  # seconds: the bound for `ckb reason` on this data, on 2 cores
INFERRED = "https://w3id.org/conflict-kb/graph/inferred"


def ckb(*args: str, store: Path) -> tuple[subprocess.CompletedProcess[str], float, float]:
    """Run the real CLI; return the process, its wall time and its CPU time (with children)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "kb.cli", *args, "--store", str(store)],
                          capture_output=True, text=True, cwd=ROOT, timeout=1800,
                          env={k: v for k, v in os.environ.items() if k != "CKB_STORE"})
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode != 0:
        raise SystemExit(f"ckb {' '.join(args)} failed: {proc.stderr.strip()[-400:]}")
    return proc, wall, cpu


def uptime() -> str:
    """The load averages, as `uptime` prints them."""
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def count(store: Path, graph: str | None = None) -> int:
    """Triples in one graph, or in all of them."""
    where = f"GRAPH <{graph}> {{ ?s ?p ?o }}" if graph else "GRAPH ?g { ?s ?p ?o }"
    proc, _, _ = ckb("query", f"SELECT (COUNT(*) AS ?n) WHERE {{ {where} }}", "--format", "csv",
                     store=store)
    return int(proc.stdout.split()[1])


def second_ged(given: Path | None, work: Path) -> tuple[Path, str]:
    """A second GED file: the one given, another real one in ../shared/data, or a generated one."""
    if given:
        return given, "real (given)"
    others = sorted(p for p in SHARED.glob("*ged*.csv") if p.name != BANGLADESH)
    if others:
        return others[0], "real"
    return generate_ged.write(work / "ged-generated-2600.csv", 2600, 21), "generated (2,600 rows)"


def main() -> None:
    """Run the benchmark and write benchmarks/results/bench-reason.{json,md}."""
    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("--second-ged", type=Path)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="ckb-bench-reason-") as tmp:
        work = Path(tmp)
        store = work / "store"
        ged2, ged2_kind = second_ged(args.second_ged, work)
        ckb("load", store=store)
        for path, fmt in ((SHARED / BANGLADESH, "ucdp-ged"), (ged2, "ucdp-ged"), (ACLED, "acled")):
            ckb("import", "--format", fmt, str(path), store=store)
        asserted = count(store) - count(store, INFERRED)
        load_before = uptime()
        proc, wall, cpu = ckb("reason", store=store)
        load_after = uptime()
        inferred = count(store, INFERRED)
    result = {
        "command": "ckb reason (hermit)", "wall_seconds": round(wall, 1), "cpu_seconds": round(cpu, 1),
        "limit_seconds": LIMIT, "within_limit": wall <= LIMIT, "asserted_triples": asserted,
        "inferred_triples": inferred, "output": proc.stdout.strip().splitlines()[0],
        "inputs": {"bangladesh_ged": str(SHARED / BANGLADESH), "second_ged": ged2_kind,
                   "acled": str(ACLED.relative_to(ROOT))},
        "cores": os.cpu_count(), "python": platform.python_version(),
        "uptime_before": load_before, "uptime_after": load_after,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench-reason.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    md = (f"# ckb reason: bundle + 2 GED files + 20 ACLED rows\n\n"
          f"| asserted triples | inferred triples | wall | CPU | limit |\n|---|---|---|---|---|\n"
          f"| {asserted:,} | {inferred:,} | {wall:.1f} s | {cpu:.1f} s | {LIMIT:.0f} s |\n\n"
          f"Second GED file: {ged2_kind}. `ckb reason` printed: {result['output']}\n\n"
          f"Shared machine ({os.cpu_count()} cores), `uptime` before: {load_before}; "
          f"after: {load_after}.\n\nRe-run: `python -m benchmarks.bench_reason`.\n")
    (args.out / "bench-reason.md").write_text(md, encoding="utf-8")
    print(md)


if __name__ == "__main__":
    main()
