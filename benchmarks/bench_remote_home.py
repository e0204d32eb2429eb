"""Home, timeline, map and events through ``ckb serve --endpoint`` once their derived state is built.

On a server already holding the data (bench_remote's ``--work`` folder, one engine):
``ckb index --counts`` (the real CLI: graphs recounted, class counts), then the pages' part of
``ckb index`` (class counts and event index beside the client; the claim index, the longest part,
is left out), then ``ckb serve --endpoint``: one first visit of each page, then home and timeline
measured with bench_remote.measure (one closed-loop client each).

python -m benchmarks.bench_remote_home --engine oxigraph --work /tmp/r1M --seconds 15
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from benchmarks import bench_remote as br

FIRST = ("/", "/timeline", "/api/timeline", "/map", "/events", "/api/map")


def _visit(port: int, page: str) -> tuple[int, int, float]:
    start = time.monotonic()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{page}", timeout=90) as r:
            return r.status, len(r.read()), time.monotonic() - start
    except urllib.error.HTTPError as err:
        return err.code, 0, time.monotonic() - start


def main(argv: list[str] | None = None) -> int:
    """Build, serve, measure; print each step."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--engine", choices=("virtuoso", "oxigraph"), required=True)
    ap.add_argument("--work", type=Path, required=True, help="bench_remote's folder (the server's data)")
    ap.add_argument("--seconds", type=float, default=15)
    args = ap.parse_args(argv)
    print("load average at the start", os.getloadavg(), flush=True)
    with br.server(args.engine, args.work / args.engine) as s:
        from kb import KnowledgeBase
        from kb.cli.commands import _index_remote_pages

        start = time.monotonic()
        endpoint = ("--endpoint", s.query, "--update-endpoint", s.update)
        done = subprocess.run(br.ckb(*endpoint, "index", "--counts"), capture_output=True, text=True,
                              check=False)
        print(f"ckb index --counts: exit {done.returncode} in {time.monotonic() - start:.1f} s:",
              done.stdout.strip(), done.stderr[-300:], flush=True)
        with KnowledgeBase.open(endpoint=s.query, update_endpoint=s.update) as kb:
            start = time.monotonic()
            _index_remote_pages(kb, events=True)
            print(f"pages' part of ckb index: {time.monotonic() - start:.1f} s", flush=True)
        srv = br.Serve(s, args.engine, 30)
        try:
            for page in FIRST:
                code, size, seconds = _visit(srv.port, page)
                print(f"first visit {page}: {code}, {size:,} bytes, {seconds:.2f} s", flush=True)
            pages = {"home": [("page", "/")], "timeline": [("page", "/timeline")]}
            br.measure(srv, pages, args.seconds, 1, 30)
        finally:
            srv.stop()
    print("load average at the end", os.getloadavg(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
