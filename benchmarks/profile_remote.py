"""The SPARQL a page sends to a remote engine, each query with its time (to find a slow page's cause).

python -m benchmarks.profile_remote --endpoint http://127.0.0.1:8890/sparql --warm /id/state/1 /id/actor/12

The web app runs in this process on a KnowledgeBase opened on the endpoint; every request the
remote backend sends to the server is timed. Prints, per page and visit (the first, as a
benchmark's visitor sees a page, and the second), its status, total time, the client's CPU time,
the connections opened, then its queries slowest first (the first 700 characters of each).
``--warm`` pages are visited once first, untimed: the app's first-use costs (labels, registry,
class lists), which a served KB pays once, are then not counted in the pages measured.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from kb import KnowledgeBase
from kb.store import remote

HTML = {"Accept": "text/html"}  # as a browser asks; without it an entity page answers as RDF


def main(argv: list[str] | None = None) -> int:
    """Request each path once (after one untimed visit) and print what the server was asked."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("--top", type=int, default=8, help="queries shown per page")
    ap.add_argument("--warm", action="append", default=[], help="visit this page first, untimed")
    ap.add_argument("paths", nargs="+")
    args = ap.parse_args(argv)
    sent: list[tuple[float, str]] = []
    original = remote.RemoteBackend._read

    def timed(self: Any, sparql: str, kind: str, timeout: float, dataset: Any = ()) -> bytes:
        start = time.monotonic()
        try:
            return original(self, sparql, kind, timeout, dataset)
        finally:
            sent.append((time.monotonic() - start, sparql.split("\n", 1)[-1]))  # no PREFIX prologue

    remote.RemoteBackend._read = timed  # type: ignore[method-assign]
    from webui import create_app

    kb = KnowledgeBase.open(endpoint=args.endpoint, timeout=60)
    app = create_app({"KB": kb, "PAGE_CACHE_BYTES": 0, "QUERY_BUDGET": 1e9})
    client = app.test_client()
    for path in args.warm:
        client.get(path, headers=HTML)
    http = getattr(kb.backend, "http", None)  # kb.store.connections.Pool, where the backend has one
    for path in args.paths:
        for visit in ("first", "second"):
            sent.clear()
            opened = http.opened if http else 0
            start, cpu = time.monotonic(), time.process_time()
            status = client.get(path, headers=HTML).status_code
            total, cpu = time.monotonic() - start, time.process_time() - cpu
            conns = f"{http.opened - opened} connections opened" if http else "a connection per query"
            print(f"\n{path} ({visit} visit): {status}, {total * 1000:.0f} ms "
                  f"({cpu * 1000:.0f} ms client CPU), "
                  f"{len(sent)} queries, {sum(t for t, _ in sent) * 1000:.0f} ms in them, {conns}")
            for t, q in sorted(sent, reverse=True)[:args.top]:
                print(f"  {t * 1000:8.0f} ms  {' '.join(q.split())[:700]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
