"""The three engines side by side through the KB: embedded Oxigraph, Oxigraph server, Virtuoso.

One synthetic file, loaded by ``KnowledgeBase.load`` into each engine (the servers started on
loopback with their own folders, as the tests do), then the same queries through ``kb.query``
and one export. Times are medians of ``--repeat`` runs (load and export once).

    python -m benchmarks.bench_engines --triples 100000 --repeat 3
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

from benchmarks.generate import write
from benchmarks.queries import QUERIES, QUERY_ORDER
from kb import KnowledgeBase
from tests.engines import oxigraph_server, virtuoso_server


def _time(fn: Callable[[], object], repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def run(triples: int, repeat: int, folder: Path) -> dict[str, dict[str, float]]:
    """Measure each engine; seconds per step."""
    data = folder / "synthetic.nt"
    with data.open("w", encoding="utf-8") as out:
        written = write(triples, out)
    results: dict[str, dict[str, float]] = {"_": {"triples": written}}
    with ExitStack() as stack:
        ox_server = stack.enter_context(oxigraph_server(folder / "oxigraph"))
        vt_folder = folder / "virtuoso"
        vt_folder.mkdir()
        vt_server = stack.enter_context(virtuoso_server(vt_folder))
        engines = {
            "embedded": lambda: KnowledgeBase.open(folder / "store", timeout=120),
            "oxigraph server": lambda: KnowledgeBase.open(endpoint=ox_server.query,
                                                          update_endpoint=ox_server.update, timeout=120),
            "virtuoso": lambda: KnowledgeBase.open(endpoint=vt_server.query, timeout=120),
        }
        for name, opener in engines.items():
            with opener() as k:
                row: dict[str, float] = {}
                start = time.perf_counter()
                k.load([data])
                row["load"] = time.perf_counter() - start
                for q in QUERY_ORDER:
                    sparql = QUERIES[q][1]
                    row[q] = _time(lambda s=sparql: k.query(s, limit=1_000_000), repeat)
                    row[q + " rows"] = len(k.query(sparql, limit=1_000_000).rows)
                start = time.perf_counter()
                k.export("nt")
                row["export"] = time.perf_counter() - start
                results[name] = row
                print(name, json.dumps({k2: round(v, 3) for k2, v in row.items()}), flush=True)
    return results


def main(argv: list[str] | None = None) -> int:
    """Run the comparison and print (and optionally save) the figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--triples", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", help="write the figures as JSON to this file")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="ckb-engines-") as tmp:
        results = run(args.triples, args.repeat, Path(tmp))
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
