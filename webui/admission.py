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
- **Downloads.** Exports, Graph Store reads and entity downloads hold one of a client's
  DOWNLOADS_PER_CLIENT slots (429 beyond) from arrival until the last byte is sent, and the
  time they wait for their file is charged to the client's budget, as a query's is.
- **Pages.** Every other request (pages, lookups, their APIs) runs as one of the client's
  PAGES_PER_CLIENT at a time; up to PAGES_WAITING more wait their turn (until their deadline:
  then 503); a request beyond those waits up to REFUSAL_WAIT for room among them (LINGERING such
  requests at most, in all), then gets 429: a flood costs the server about one refusal per
  connection per REFUSAL_WAIT, not one a millisecond, each taking the interpreter from everyone
  else. So one client's pages hold at most that many places in the interactive lane, whatever
  it sends, and their queries at most all its workers but one (``scheduling.LanePools``):
  another client's cheap query never waits for them. A page's running time beyond
  FAST_QUERY_LIMIT is charged to the same budget as queries (from when it got its place: time
  spent waiting for one took no server work, and charging it made a reader who opened two slow
  pages pay for each twice); a client that spent its budget gets 429 on pages too, except
  those the page cache answers (they cost nothing). Cheap pages cost nothing.
- **The server's own requests** (webui.warm building the landing pages ahead) are no client's:
  they take places under their own name and are never charged or refused for budget.
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
from webui import pagecache
from webui.budget import Budget
from webui.pageplaces import LINGERING, REFUSAL_WAIT, PagePlaces, arrival

__all__ = ["LINGERING", "REFUSAL_WAIT", "SERVER_OWN", "Admission", "DownloadSlot", "arrival", "init_app",
           "retry_after"]

_KNOWN_HEAVY = 4096  # query texts remembered as heavy


class Admission(PagePlaces):
    """Lanes, per-client heavy caps and budgets for one app."""

    def __init__(self, config: dict[str, Any], kb: Any) -> None:
        self.fast = float(config["FAST_QUERY_LIMIT"])
        self.per_client = int(config["HEAVY_PER_CLIENT"])
        self.trusted = frozenset(config["TRUSTED_PROXIES"] or ())
        self.budget = Budget(float(config["QUERY_BUDGET"]))
        self._heavy: Counter[str] = Counter()
        self.downloads_per_client = int(config.get("DOWNLOADS_PER_CLIENT", 2))
        self._downloads: Counter[str] = Counter()
        self._known: OrderedDict[str, None] = OrderedDict()
        self._cheap: OrderedDict[str, None] = OrderedDict()  # texts that finished within a slice
        self._lock = threading.Lock()
        self._turn = threading.Condition(self._lock)
        self.places(config)
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

    def download(self, timeout: float) -> DownloadSlot:
        """A download slot for the current request's client (429 if it has its share), with its deadline."""
        client = self.client(request)
        with self._lock:
            if self._downloads[client] >= self.downloads_per_client:
                raise TooManyRequests(
                    f"this client already has {self.downloads_per_client} downloads under way; "
                    "wait for one to finish", retry_after=5)
            self._downloads[client] += 1
        try:
            granted = self.budget.reserve(client, timeout)
        except BaseException:
            self._leave_download(client)
            raise
        return DownloadSlot(self, client, granted, arrival() + granted)

    def _leave_download(self, client: str) -> None:
        with self._lock:
            self._downloads[client] -= 1
            if not self._downloads[client]:
                del self._downloads[client]

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


class DownloadSlot:
    """One download's place: its deadline, and release() once sent (or failed)."""

    def __init__(self, admission: Admission, client: str, granted: float, deadline: float) -> None:
        self.admission, self.client, self.granted, self.deadline = admission, client, granted, deadline
        self._start = time.monotonic()
        self._charged: float | None = None
        self._lock = threading.Lock()

    def ready(self) -> None:
        """The file is ready: the budget is charged for the time waited, not the time sending."""
        if self._charged is None:
            self._charged = min(self.granted, time.monotonic() - self._start)

    def release(self) -> None:
        """Give the slot back (once; later calls do nothing)."""
        with self._lock:
            if self.admission is None:
                return
            admission, self.admission = self.admission, None  # type: ignore[assignment]
        self.ready()
        admission.budget.settle(self.client, self.granted, self._charged or 0.0)
        admission._leave_download(self.client)


def _warm(kb: Any) -> None:
    with contextlib.suppress(Exception):  # a store that cannot answer says so on the first request
        kb.query("ASK {}", timeout=60)


# The WSGI environ key that marks a request the server makes itself (webui.warm); a client
# cannot set it (it is no header), and it names the server's own place-holder.
SERVER_OWN = "ckb.server_own"

# Endpoints admitted on their own terms (queries, downloads; an import, behind the token, takes
# the time its file needs), and static files (no store work).
_SELF_ADMITTED = frozenset({"static", "sparql.endpoint", "graphstore.store", "graphstore.direct",
                            "downloads.download", "importing.upload"})


def init_app(app: Flask, kb: Any) -> None:
    """Note each request's arrival and run its queries in the interactive lane by default."""
    admission = app.extensions["ckb.admission"] = Admission(app.config, kb)
    timeout = float(app.config["QUERY_TIMEOUT"] or getattr(kb, "timeout", 10.0))

    @app.before_request
    def _arrive() -> None:
        g.ckb_arrival = now = time.monotonic()
        # Pages and lookups: every query they make shares the request's one deadline.
        scheduling.LANE.set(INTERACTIVE)
        scheduling.DEADLINE.set(now + timeout)
        own = bool(request.environ.get(SERVER_OWN))
        client = SERVER_OWN if own else admission.client(request)
        scheduling.CLIENT.set(client)  # the lanes give a freed worker to the client holding fewest
        if request.endpoint is not None and request.endpoint not in _SELF_ADMITTED:
            g.ckb_page_start = admission.enter_page(client, now + timeout,
                                                    free=lambda: own or pagecache.holds(app))
            g.ckb_page_client = client

    @app.teardown_request
    def _leave(exc: BaseException | None) -> None:
        scheduling.LANE.set(INTERACTIVE)
        scheduling.DEADLINE.set(None)
        scheduling.CLIENT.set("")
        client = g.pop("ckb_page_client", None)
        if client is not None:
            ran = time.monotonic() - g.pop("ckb_page_start", arrival())
            admission.leave_page(client, ran, charged=client != SERVER_OWN)


def retry_after(exc: Exception) -> int | None:
    """The Retry-After seconds a 503 should carry."""
    if isinstance(exc, Overloaded):
        return exc.retry_after
    if isinstance(exc, QueryTimeout):
        return max(1, round(exc.seconds))
    return None
