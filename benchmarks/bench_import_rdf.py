"""Plain RDF import benchmark: `ckb import FILE.nt` (first and re-import) vs a raw pyoxigraph bulk load.

The store first holds the bundle (`ckb load`), as a real store does. Each step runs in its own
process, so its peak memory (ru_maxrss) is its own; RSS is also sampled every second (flat or not).
python -m benchmarks.bench_import_rdf --triples 10000000 --out benchmarks/results/
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _run(cmd: list[str]) -> dict[str, object]:
    """Run a command: wall time, its peak RSS (ru_maxrss from wait4) and its RSS every second."""
    start = time.perf_counter()
    # stderr to a file, not a pipe: a chatty child never blocks on it
    with tempfile.TemporaryFile() as errors:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=errors)
        samples: list[tuple[float, int]] = []
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            try:
                lines = Path(f"/proc/{proc.pid}/status").read_text().splitlines()
                rss = next(int(x.split()[1]) // 1024 for x in lines if x.startswith("VmRSS:"))
                samples.append((round(time.perf_counter() - start, 1), rss))
            except (OSError, StopIteration):
                pass
            time.sleep(1.0)
        seconds = time.perf_counter() - start
        errors.seek(0)
        err = errors.read().decode(errors="replace")
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}): {err[-2000:]}")
    return {"seconds": round(seconds, 1), "peak_rss_mib": usage.ru_maxrss // 1024,
            "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 1), "rss_mib_over_time": samples}


def _du(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


RAW = """
import sys, pyoxigraph as ox
s = ox.Store(sys.argv[1])
s.bulk_load(path=sys.argv[2], format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode("https://example.org/g"))
s.flush()
"""


def run(data: Path, work: Path) -> dict[str, object]:
    """Bundle load, first import, re-import, raw bulk load; figures per step."""
    store = work / "store"
    ckb = [sys.executable, "-m", "kb.cli", "--store", str(store)]
    out: dict[str, object] = {"file": data.name, "file_mib": round(data.stat().st_size / 2**20)}
    out["bundle_load"] = _run([*ckb, "load"])
    out["import"] = _run([*ckb, "import", str(data), "--name", "synthetic"])
    out["import"]["store_bytes"] = _du(store)
    out["reimport"] = _run([*ckb, "import", str(data), "--name", "synthetic"])
    out["reimport"]["store_bytes"] = _du(store)
    shutil.rmtree(store, ignore_errors=True)
    out["raw_bulk_load"] = _run([sys.executable, "-c", RAW, str(work / "raw"), str(data)])
    out["raw_bulk_load"]["store_bytes"] = _du(work / "raw")
    return out


def _write(res: dict[str, object], out: Path, tag: str, load: str) -> None:
    out.mkdir(parents=True, exist_ok=True)
    res["load_average"] = load
    (out / f"import-rdf-{tag}.json").write_text(json.dumps(res, indent=1), encoding="utf-8")
    lines = [f"# Plain RDF import, {res['file']} ({res['file_mib']} MiB)", "",
             f"Load average: {load}.", "",
             "| step | seconds | CPU seconds | peak RSS MiB | store MB |", "|---|---|---|---|---|"]
    for step in ("bundle_load", "import", "reimport", "raw_bulk_load"):
        r = res[step]
        size = f"{r['store_bytes'] / 1e6:.0f}" if "store_bytes" in r else ""
        cpu = r.get('cpu_seconds', '')
        lines.append(f"| {step} | {r['seconds']} | {cpu} | {r['peak_rss_mib']} | {size} |")
    imp, re_, raw = res["import"], res["reimport"], res["raw_bulk_load"]
    lines += ["", f"- re-import / import: {re_['seconds'] / imp['seconds']:.2f}x time, "
              f"{re_['peak_rss_mib'] / max(1, imp['peak_rss_mib']):.2f}x peak memory",
              f"- import / raw bulk load: {imp['seconds'] / raw['seconds']:.2f}x time"]
    (out / f"import-rdf-{tag}.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> None:
    """python -m benchmarks.bench_import_rdf --triples 10000000 [--data FILE.nt] --out benchmarks/results/"""
    p = argparse.ArgumentParser(description=main.__doc__)
    p.add_argument("--triples", type=int, default=10_000_000)
    p.add_argument("--data", type=Path, help="an existing generated .nt file (else one is generated)")
    p.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    a = p.parse_args()
    tag = f"{a.triples // 1_000_000}M" if a.triples >= 1_000_000 else f"{a.triples // 1000}k"
    with tempfile.TemporaryDirectory(prefix="ckb-bench-rdf-") as tmp:
        work = Path(tmp)
        data = a.data
        if data is None:
            from benchmarks import generate
            data = work / "synthetic.nt"
            with data.open("w", encoding="utf-8") as fh:
                generate.write(a.triples, fh, 7)
        before = os.getloadavg()[0]
        res = run(data, work)
        _write(res, a.out, tag, f"{before:.1f} at the start, {os.getloadavg()[0]:.1f} at the end")
        print((a.out / f"import-rdf-{tag}.md").read_text())


if __name__ == "__main__":
    main()
