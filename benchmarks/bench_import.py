"""Import benchmark: `ckb import --format ucdp-ged` on a generated GED-shaped file vs a plain bulk load.

Each measurement runs in its own process so that peak memory (ru_maxrss) is that step's alone:
- import: kb.imports.run_import into a fresh on-disk store (CSV -> N-Triples -> the store's import path);
- convert only: the same conversion (rows -> N-Triples text), to a file, without loading;
- bulk load: raw pyoxigraph Store.bulk_load of that N-Triples file into a fresh on-disk store.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path


class _Sampler(threading.Thread):
    """Samples this process's resident memory every second, to show whether it stays flat."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.samples: list[tuple[float, int]] = []
        self.start_time = time.perf_counter()
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(1.0):
            self.samples.append((round(time.perf_counter() - self.start_time, 1), _rss_mib()))


def _rss_mib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) // 1024
    return 0


def _child(kind: str, csv_path: str, work: str) -> dict[str, object]:
    """One measurement, in this (child) process."""
    sampler = _Sampler()
    sampler.start()
    out = _step(kind, csv_path, work)
    sampler.stop.set()
    out["rss_mib_over_time"] = sampler.samples
    usage = resource.getrusage(resource.RUSAGE_SELF)  # every thread's CPU: a figure load does not inflate
    out["cpu_seconds"] = round(usage.ru_utime + usage.ru_stime, 1)
    return out


def _step(kind: str, csv_path: str, work: str) -> dict[str, object]:
    import pyoxigraph as ox

    from kb import KnowledgeBase
    from kb.imports import run_import, ucdp
    from kb.imports.actors import Matcher
    from kb.imports.common import BadRow
    from kb.imports.rows import position, read_rows

    work_dir = Path(work)
    if kind == "import":
        with KnowledgeBase.open(work_dir / "store") as kb:
            kb.ensure_loaded()
            base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            t = time.perf_counter()
            result = run_import(kb, csv_path, "ucdp-ged", name="bench")
            elapsed = time.perf_counter() - t
            triples = kb.graphs()[result.graph]
        return {"seconds": elapsed, "rows": result.rows, "triples": triples, "rss_before_kib": base,
                "peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}
    if kind == "convert":
        matcher = Matcher({}, [])
        t = time.perf_counter()
        with open(work_dir / "events.nt", "w", encoding="utf-8") as out:
            def bad(line: int, err: BadRow) -> None:
                raise SystemExit(position(Path(csv_path), line, err))

            for _, row in read_rows(Path(csv_path), ucdp.REQUIRED, ucdp.KNOWN, bad):
                out.write("".join(ucdp.convert(row, matcher)))
        return {"seconds": time.perf_counter() - t,
                "peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}
    if kind == "bulk":
        store = ox.Store(str(work_dir / "raw-store"))
        t = time.perf_counter()
        store.bulk_load(path=str(work_dir / "events.nt"), format=ox.RdfFormat.N_TRIPLES,
                        to_graph=ox.NamedNode("https://example.org/bench"))
        store.flush()
        return {"seconds": time.perf_counter() - t, "triples": len(store),
                "peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}
    raise SystemExit(f"unknown step {kind}")


def measure(kind: str, csv_path: Path, work: Path) -> dict[str, object]:
    """Run one step in a fresh interpreter and return its figures."""
    cmd = [sys.executable, "-m", "benchmarks.bench_import", "--child", kind, str(csv_path), str(work)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def run(events: list[int], out: Path) -> dict[str, object]:
    """Measure each size; write bench-import.json/.md into out."""
    from benchmarks.generate_ged import write

    results: dict[str, dict] = {}
    out.mkdir(parents=True, exist_ok=True)
    for n in events:
        with tempfile.TemporaryDirectory(prefix="ckb-bench-import-") as tmp:
            work = Path(tmp)
            csv_path = write(work / "ged.csv", n)
            row: dict = {"csv_mib": round(csv_path.stat().st_size / 2**20, 1)}
            load = os.getloadavg()[0]
            results[str(n)] = row
            for kind in ("import", "convert", "bulk"):
                row[kind] = measure(kind, csv_path, work)
                row["load_average"] = f"{load:.1f} at the start, {os.getloadavg()[0]:.1f} at the end"
                (out / "bench-import.json").write_text(json.dumps(results, indent=1), encoding="utf-8")
            _write(results, out)  # after each size, so a long run keeps what it measured
            imp, bulk = row["import"], row["bulk"]
            print(f"{n} events: import {imp['seconds']:.1f} s ({n / imp['seconds']:.0f} events/s, "
                  f"peak {imp['peak_rss_kib'] / 1024:.0f} MiB); convert {row['convert']['seconds']:.1f} s; "
                  f"bulk load of the same {bulk['triples']} triples {bulk['seconds']:.1f} s "
                  f"(peak {bulk['peak_rss_kib'] / 1024:.0f} MiB)", flush=True)
    return results


def _write(results: dict[str, dict], out: Path) -> None:
    """Write bench-import.json and the Markdown table bench-import.md."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench-import.json").write_text(json.dumps(results, indent=1), encoding="utf-8")
    lines = ["| events | CSV MiB | triples | import s | events/s | import peak RSS MiB "
             "| (of which before import) | convert only s | convert peak MiB | raw bulk load s "
             "| bulk peak MiB | import / bulk |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for n, r in results.items():
        i, c, b = r["import"], r.get("convert"), r.get("bulk")  # a long run may stop after a step

        def fig(step: dict | None, key: str, scale: float = 1.0) -> str:
            return f"{step[key] / scale:.1f}" if step else "not run"

        ratio = f"{i['seconds'] / b['seconds']:.1f}x" if b else "-"
        lines.append(f"| {int(n):,} | {r['csv_mib']} | {i['triples']:,} | {i['seconds']:.1f} | "
                     f"{int(n) / i['seconds']:.0f} | {i['peak_rss_kib'] / 1024:.0f} | "
                     f"{i['rss_before_kib'] / 1024:.0f} | "
                     f"{fig(c, 'seconds')} | {fig(c, 'peak_rss_kib', 1024)} | "
                     f"{fig(b, 'seconds')} | {fig(b, 'peak_rss_kib', 1024)} | {ratio} |")
    lines += ["", "Resident memory over each run (MiB, sampled every second; at 10%, 25%, 50%, 75%, 90% "
              "and the end of the run): flat means bounded by the loader's batches, not the file.", ""]
    for n, r in results.items():
        for kind in [k for k in ("import", "bulk") if k in r]:
            lines.append(f"- {int(n):,} events, {kind}: {_profile(r[kind].get('rss_mib_over_time', []))}")
        steps = ("import", "convert", "bulk")
        cpu = {k: r[k]["cpu_seconds"] for k in steps if "cpu_seconds" in (r.get(k) or {})}
        if cpu:
            lines.append(f"- {int(n):,} events, CPU seconds (user + system, all threads): "
                         + ", ".join(f"{k} {v}" for k, v in cpu.items()))
        if "load_average" in r:
            lines.append(f"- {int(n):,} events: load average {r['load_average']}")
    (out / "bench-import.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _profile(samples: list[list[float]]) -> str:
    """A few points of an RSS time series."""
    if not samples:
        return "no samples"
    picks = [samples[min(len(samples) - 1, int(len(samples) * f))] for f in (0.1, 0.25, 0.5, 0.75, 0.9)]
    return ", ".join(f"{int(v)} ({t:.0f} s)" for t, v in [*picks, samples[-1]])


def main() -> None:
    """python -m benchmarks.bench_import --events 30000,300000 --out benchmarks/results/"""
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        print(json.dumps(_child(sys.argv[2], sys.argv[3], sys.argv[4])))
        return
    p = argparse.ArgumentParser(description=main.__doc__)
    p.add_argument("--events", default="30000,300000", help="comma-separated sizes")
    p.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    p.add_argument("--rewrite", action="store_true", help="only rewrite the .md from the .json in --out")
    a = p.parse_args()
    if a.rewrite:
        _write(json.loads((a.out / "bench-import.json").read_text(encoding="utf-8")), a.out)
        return
    run([int(x) for x in a.events.split(",")], a.out)


if __name__ == "__main__":
    main()
