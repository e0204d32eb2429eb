"""Admission: who may run what, where, and until when.

- **Time from arrival.** Every request's time limit counts from when it arrived, waiting
  included; a request still waiting at its limit gets 503 with Retry-After.
- **Two lanes.** Pages, lookups and SPARQL queries that finish fast run in the interactive
  lane, on workers of their own. A SPARQL query first gets a short slice there
  (FAST_QUERY_LIMIT); if it needs more, it is stopped and moved to the heavy lane, which
  has its own workers and a bounded queue (full: 503 at once). A query text once moved goes
  straight to the heavy lane next time. A text not yet known to be cheap gets its slice only
  with a probe slot (``scheduling.PROBE``: one fewer than the interactive workers, waited for
  at most 0.5 s), else it goes to the heavy lane: many clients each sending new heavy texts
  cannot take the last interactive worker.
- **Per client.** Each client may have HEAVY_PER_CLIENT heavy queries at a time (429
  beyond), and its query-time budget is charged at admission and settled at the end.
- **Who is a client.** The remote address, or the X-Forwarded-For hop before it when the
  remote address is a proxy named in TRUSTED_PROXIES (``ckb serve --trusted-proxy``).
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask, Request, g, request
from werkzeug.exceptions import TooManyRequests

from kb.errors import ForbiddenQuery, QueryTimeout
from kb.query import scheduling
from kb.query.scheduling import HEAVY, INTERACTIVE, PROBE, LanePools, NoRoom, Overloaded
from webui.budget import Budget

_KNOWN_HEAVY = 4096  # query texts remembered as heavy


def arrival() -> float:
    """When the current request arrived (time.monotonic())."""
    return float(g.get("ckb_arrival", time.monotonic()))


class Admission:
    """Lanes, per-client heavy caps and budgets for one app."""

    def __init__(self, config: dict[str, Any], kb: Any) -> None:
        self.fast = float(config["FAST_QUERY_LIMIT"])
        self.per_client = int(config["HEAVY_PER_CLIENT"])
        self.trusted = frozenset(config["TRUSTED_PROXIES"] or ())
        self.budget = Budget(float(config["QUERY_BUDGET"]))
        self._heavy: Counter[str] = Counter()
        self._known: OrderedDict[str, None] = OrderedDict()
        self._cheap: OrderedDict[str, None] = OrderedDict()  # texts that finished within a slice
        self._lock = threading.Lock()
        # Server threads heavy queries can hold at once (running or queued); the rest of
        # waitress's threads stay free for cheap work (webui.server sizes the pool by it).
        self.heavy_threads = 0
        pools = getattr(getattr(kb, "backend", None), "_pool", None)
        if isinstance(pools, LanePools):
            pools.gates[HEAVY].max_waiting = int(config["HEAVY_QUEUE"])
            self.heavy_threads = pools.gates[HEAVY].slots + int(config["HEAVY_QUEUE"])
            pools.keep_warm = True
            if getattr(kb.backend, "path", None) is not None:
                # Start the workers now, not on the first request (a cold start costs seconds).
                threading.Thread(target=_warm, args=(kb,), daemon=True, name="ckb-warm-start").start()

    def client(self, req: Request) -> str:
        """The client's identity: its address, or the forwarded one behind a trusted proxy."""
        addr = req.remote_addr or "?"
        if addr not in self.trusted:
            return addr
        hops = [h.strip() for v in req.headers.getlist("X-Forwarded-For") for h in v.split(",")]
        for hop in reversed([h for h in hops if h]):
            if hop not in self.trusted:
                return hop
        return addr

    def run_query(self, text: str, timeout: float, run: Callable[[float], Any]) -> Any:
        """Run ``run(time limit)`` for a SPARQL query: budget, lanes and deadlines applied."""
        client = self.client(request)
        granted = self.budget.reserve(client, timeout)
        start = time.monotonic()
        deadline = arrival() + granted
        timed_out = False
        try:
            return self._run(client, text, deadline, granted, run)
        except QueryTimeout:
            timed_out = True
            raise QueryTimeout(granted) from None
        finally:
            used = granted if timed_out else time.monotonic() - start
            self.budget.settle(client, granted, used)

    def _run(self, client: str, text: str, deadline: float, granted: float,
             run: Callable[[float], Any]) -> Any:
        key = hashlib.blake2b(text.encode(), digest_size=16).hexdigest()
        if not self._is_known(key):
            try:
                with scheduling.lane(INTERACTIVE if self._is_known(key, self._cheap) else PROBE, deadline):
                    answer = run(min(self.fast, granted))
                self._remember(key, self._cheap)
                return answer
            except NoRoom:
                pass  # not known to be cheap, and the interactive lane is busy: the heavy lane
            except (QueryTimeout, ForbiddenQuery) as err:
                # The worker's safety check gets the job's time limit, so the slice bounds it too:
                # "took longer than ... to check" within a slice is a slow query, not a bad one.
                slow_check = isinstance(err, ForbiddenQuery) and "took longer than" in str(err)
                if not (isinstance(err, QueryTimeout) or slow_check):
                    raise
                if self.fast >= granted or time.monotonic() >= deadline:
                    raise  # its own limit, not the slice, stopped it
                self._remember(key)  # it needed more than a slice: heavy from now on
        with self._heavy_slot(client), scheduling.lane(HEAVY, deadline):
            return run(granted)

    @contextmanager
    def _heavy_slot(self, client: str) -> Iterator[None]:
        with self._lock:
            if self._heavy[client] >= self.per_client:
                raise TooManyRequests(
                    f"this client already has {self.per_client} heavy quer"
                    f"{'y' if self.per_client == 1 else 'ies'} running; wait for it to finish",
                    retry_after=max(1, round(self.fast * 2)),
                )
            self._heavy[client] += 1
        try:
            yield
        finally:
            with self._lock:
                self._heavy[client] -= 1
                if not self._heavy[client]:
                    del self._heavy[client]

    def _is_known(self, key: str, table: OrderedDict[str, None] | None = None) -> bool:
        table = self._known if table is None else table
        with self._lock:
            if key in table:
                table.move_to_end(key)
                return True
            return False

    def _remember(self, key: str, table: OrderedDict[str, None] | None = None) -> None:
        table = self._known if table is None else table
        with self._lock:
            table[key] = None
            while len(table) > _KNOWN_HEAVY:
                table.popitem(last=False)


def _warm(kb: Any) -> None:
    with contextlib.suppress(Exception):  # a store that cannot answer says so on the first request
        kb.query("ASK {}", timeout=60)


def init_app(app: Flask, kb: Any) -> None:
    """Note each request's arrival and run its queries in the interactive lane by default."""
    app.extensions["ckb.admission"] = Admission(app.config, kb)
    timeout = float(app.config["QUERY_TIMEOUT"] or getattr(kb, "timeout", 10.0))

    @app.before_request
    def _arrive() -> None:
        g.ckb_arrival = now = time.monotonic()
        # Pages and lookups: every query they make shares the request's one deadline.
        scheduling.LANE.set(INTERACTIVE)
        scheduling.DEADLINE.set(now + timeout)

    @app.teardown_request
    def _leave(exc: BaseException | None) -> None:
        scheduling.LANE.set(INTERACTIVE)
        scheduling.DEADLINE.set(None)


def retry_after(exc: Exception) -> int | None:
    """The Retry-After seconds a 503 should carry."""
    if isinstance(exc, Overloaded):
        return exc.retry_after
    if isinstance(exc, QueryTimeout):
        return max(1, round(exc.seconds))
    return None
