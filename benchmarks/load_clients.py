"""HTTP load on a local ``ckb serve``: closed-loop clients, each with its own identity.

Every client is a thread with one keep-alive connection to 127.0.0.1. It sends a request,
waits for the whole answer, records (kind, status, seconds, end time) and sends the next,
until the run's time is up. Each sends X-Forwarded-For with its own address, and the server
runs with --trusted-proxy 127.0.0.1, so budgets and heavy caps apply per client as they would
behind a reverse proxy.
"""

from __future__ import annotations

import http.client
import statistics
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field

Request = tuple[str, str]  # (kind, path with query string)


@dataclass
class Sample:
    """One answered request."""

    kind: str
    status: int
    seconds: float
    retry_after: str | None = None
    message: str = ""


@dataclass
class Run:
    """All samples of one load run, with its wall time."""

    samples: list[Sample] = field(default_factory=list)
    seconds: float = 0.0


def client(port: int, ident: str, next_request: Callable[[int], Request], stop_at: float,
           out: list[Sample], timeout: float) -> None:
    """One closed-loop client: request after request until ``stop_at`` (time.monotonic())."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    n = 0
    while time.monotonic() < stop_at:
        kind, path = next_request(n)
        n += 1
        start = time.monotonic()
        try:
            conn.request("GET", path, headers={"X-Forwarded-For": ident, "Accept": _accept(kind)})
            resp = conn.getresponse()
            body = resp.read()
            message = "" if resp.status == 200 else body[:160].decode("utf-8", "replace").strip()
            out.append(Sample(kind, resp.status, time.monotonic() - start, resp.getheader("Retry-After"),
                              message))
            if resp.getheader("Connection", "").lower() == "close":
                conn.close()
        except (OSError, http.client.HTTPException):
            out.append(Sample(kind, 0, time.monotonic() - start))  # 0: no answer at all
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    conn.close()


def _accept(kind: str) -> str:
    return "text/html" if kind == "page" else "application/sparql-results+json"


def run_clients(port: int, groups: list[tuple[int, str, Callable[[int], Request]]], seconds: float,
                timeout: float = 60.0) -> Run:
    """Run groups of (count, name, request maker) clients together for ``seconds``."""
    out: list[Sample] = []
    stop_at = time.monotonic() + seconds
    threads = []
    for count, name, maker in groups:
        for i in range(count):
            ident = f"10.{len(threads) // 250}.{len(threads) % 250}.{i % 250 + 1}"
            offset = len(threads) * 7919  # clients walk the request list from different places
            t = threading.Thread(target=client, name=f"{name}-{i}",
                                 args=(port, ident, lambda n, m=maker, o=offset: m(n + o), stop_at, out,
                                       timeout))
            threads.append(t)
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return Run(out, time.monotonic() - start)


def sparql_path(query: str) -> str:
    """The GET path of a SPARQL query."""
    return "/sparql?" + urllib.parse.urlencode({"query": query})


def percentile(values: list[float], q: float) -> float | None:
    """The q-th percentile (0-100) by the nearest-rank method; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def summary(samples: list[Sample], seconds: float) -> dict:
    """Throughput, latency percentiles (successful answers) and error counts by status."""
    ok = [s.seconds for s in samples if s.status == 200]
    errors: dict[str, int] = {}
    for s in samples:
        if s.status != 200:
            errors[str(s.status)] = errors.get(str(s.status), 0) + 1
    return {
        "requests": len(samples), "ok": len(ok),
        "per_second": round(len(ok) / seconds, 2) if seconds else None,
        "p50_ms": _ms(percentile(ok, 50)), "p95_ms": _ms(percentile(ok, 95)),
        "p99_ms": _ms(percentile(ok, 99)), "max_ms": _ms(max(ok) if ok else None),
        "mean_ms": _ms(statistics.fmean(ok) if ok else None), "errors": errors,
        "error_examples": sorted({f"{s.status} {s.message}" for s in samples if s.status != 200})[:6],
    }


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)
