"""The remote graph registry on Virtuoso: what a request pays for graph sizes, before and after.

Run: python -m benchmarks.bench_registry 5000000  (a fresh Virtuoso on loopback, tests/engines.py;
the generated triples go in with Virtuoso's own bulk loader, 10 graphs).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from kb import KnowledgeBase
from kb.namespaces import IMPORT_BASE
from tests.engines import ISQL, virtuoso_server


def _timed(run: Callable[[], object], reset: Callable[[], None], n: int = 20) -> str:
    times = []
    for _ in range(n):
        reset()  # no cached registry read: each run asks the server
        start = time.monotonic()
        run()
        times.append(time.monotonic() - start)
    return f"median {statistics.median(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms"


def main(triples: int) -> None:
    """Load the bundle and ``triples`` generated ones into a fresh Virtuoso; print the timings."""
    folder = Path(tempfile.mkdtemp(prefix="bench-registry-"))
    with virtuoso_server(folder) as server:
        sql = next(line.split("=")[1].strip() for line in (folder / "virtuoso.ini").read_text().splitlines()
                   if line.startswith("ServerPort"))
        with KnowledgeBase.open(endpoint=server.query, update_endpoint=server.update) as k:
            k.load()
        per = triples // 10
        for g in range(10):
            path = folder / f"g{g}.nt"
            with path.open("w") as out:
                out.writelines(f'<http://x/s{g}_{i // 5}> <http://x/p{i % 5}> "v{i}" .\n' for i in range(per))
            load = f"exec=DB.DBA.TTLP_MT(file_to_string_output('{path.name}'), '', '{IMPORT_BASE}big{g}', 0);"
            subprocess.run([ISQL, sql, "dba", "dba", load], check=True, capture_output=True, cwd=folder)
            path.unlink()
        with KnowledgeBase.open(endpoint=server.query, update_endpoint=server.update, update_token="t") as k:
            backend = k.backend

            def reset() -> None:
                backend._counts = None

            start = time.monotonic()
            full = backend._count_all()
            print(f"full count (the old per-request graphs()): {time.monotonic() - start:.2f} s, "
                  f"{sum(full.values()):,} triples")
            start = time.monotonic()
            backend.recount()
            print(f"registry rebuild (ckb index --counts): {time.monotonic() - start:.2f} s")
            print("registry read:", _timed(backend.counts, reset))
            print("kb.query('ASK {}'):", _timed(lambda: k.query("ASK {}"), reset))
            graph = f"{IMPORT_BASE}big3"
            update = f"INSERT DATA {{ GRAPH <{graph}> {{ <http://x/u> <http://x/p> 1 }} }}"
            print(f"update into a {per:,}-triple graph, recounted in the same request:",
                  _timed(lambda: k.update(update, token="t"), reset, 5))
            print("registry equals a full count:", k.graphs() == backend._count_all())


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
