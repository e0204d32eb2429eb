"""HTTP to a SPARQL server over kept-alive connections: one request within its time limit.

A page sends about 30 queries; a new TCP connection each (urllib's way) cost a connect and
a server-side accept per query. A Pool keeps the connections idle between requests, each used
by one thread at a time, so ``ckb serve``'s threads share them safely. A connection the server
closed meanwhile (a restart, its keep-alive timeout) is seen before reuse and replaced; a read
that still finds it closed is sent once more on a new connection (reads change nothing).
Through a proxy (the *_proxy environment) or a redirect, urllib sends the request as before.
"""

from __future__ import annotations

import http.client
import selectors
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import weakref
from collections.abc import Iterable
from typing import Any

from kb.errors import QueryTimeout, StoreError

MAX_GET_URL = 4000  # beyond this, reads go as a form POST (servers and proxies cap URL length)
_CHUNK = 1 << 16
_Key = tuple[str, str, int | None]
# a reused connection found closed by the server while the request was sent or awaited
_STALE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError, ConnectionAbortedError)


class Pool:
    """Idle keep-alive connections per server; a connection is taken by one request at a time."""

    def __init__(self, size: int = 8) -> None:
        self.size = size  # idle connections kept per server (more threads open more, then close them)
        self.opened = 0  # connections made: for tests and profiles
        self._idle: dict[_Key, list[http.client.HTTPConnection]] = {}
        self._lock = threading.Lock()
        self._direct: dict[_Key, bool] = {}
        # closed when the pool is dropped unclosed, so no socket is left to the garbage collector
        self._finalizer = weakref.finalize(self, _close_all, self._idle, self._lock)

    def take(self, key: _Key, timeout: float, fresh: bool = False) -> tuple[http.client.HTTPConnection, bool]:
        """An idle connection to ``key`` that the server has not closed, or a new one (always,
        if ``fresh``); and whether it was reused."""
        while True:
            with self._lock:
                conn = self._idle[key].pop() if self._idle.get(key) and not fresh else None
                if conn is None:
                    self.opened += 1
                    return _connect(key, timeout), False
            if _alive(conn):
                conn.timeout = timeout
                conn.sock.settimeout(timeout)
                return conn, True
            conn.close()

    def direct(self, key: _Key, netloc: str) -> bool:
        """False where the environment sends requests to this server through a proxy (asked once)."""
        found = self._direct.get(key)
        if found is None:
            found = key[0] not in urllib.request.getproxies() or bool(urllib.request.proxy_bypass(netloc))
            self._direct[key] = found
        return found

    def give(self, key: _Key, conn: http.client.HTTPConnection) -> None:
        """Keep a connection whose answer was read to its end, for the next request."""
        with self._lock:
            idle = self._idle.setdefault(key, [])
            if len(idle) < self.size:
                idle.append(conn)
                return
        conn.close()

    def close(self) -> None:
        """Close every idle connection (those in use close when their request ends)."""
        _close_all(self._idle, self._lock)


def _close_all(idle: dict[_Key, list[http.client.HTTPConnection]], lock: threading.Lock) -> None:
    with lock:
        conns = [c for group in idle.values() for c in group]
        idle.clear()
    for conn in conns:
        conn.close()


def _connect(key: _Key, timeout: float) -> http.client.HTTPConnection:
    scheme, host, port = key
    kind = http.client.HTTPSConnection if scheme == "https" else http.client.HTTPConnection
    return kind(host, port, timeout=timeout)


def _alive(conn: http.client.HTTPConnection) -> bool:
    """False if the server closed this idle connection (its socket reads as ready: end of file)."""
    if conn.sock is None:
        return False
    with selectors.DefaultSelector() as sel:
        sel.register(conn.sock, selectors.EVENT_READ)
        return not sel.select(0)


def with_params(url: str, params: Iterable[tuple[str, str]]) -> str:
    """Append URL-encoded parameters to ``url``."""
    encoded = urllib.parse.urlencode(list(params))
    if not encoded:
        return url
    return url + ("&" if "?" in url else "?") + encoded


def send(
    url: str,
    params: list[tuple[str, str]],
    accept: str,
    timeout: float,
    *,
    body: bytes | Iterable[bytes] | None = None,
    content_type: str | None = None,
    limit: float | None = None,
    pool: Pool | None = None,
) -> bytes:
    """One request within ``timeout``: GET if short, else form POST; or POST ``body`` as given.

    ``limit`` is the query's own limit, for the error message; Virtuoso's S1TAT answer
    (an "anytime" query cut at its limit, with partial results) is a timeout, not a result.
    Without a ``pool`` the connection is closed after the answer.
    """
    deadline = time.monotonic() + timeout
    headers = {"Accept": accept}
    encoded = urllib.parse.urlencode(params)  # once: a page's queries spent ~25 ms encoding twice
    target = url + ("&" if "?" in url else "?") + encoded if encoded else url
    if body is not None:
        data: bytes | Iterable[bytes] | None = body
        headers["Content-Type"] = content_type or "application/octet-stream"
    elif len(target) <= MAX_GET_URL:
        data = None
    else:
        target, data = url, encoded.encode("ascii")
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    parts = urllib.parse.urlsplit(target)
    key = (parts.scheme, parts.hostname or "", parts.port)
    pool = pool or Pool(0)
    if not pool.direct(key, parts.netloc):
        return _send_urllib(target, data, headers, timeout, deadline, limit or timeout)
    path = urllib.parse.urlunsplit(("", "", parts.path or "/", parts.query, ""))
    method = "GET" if data is None else "POST"
    fresh = False
    while True:
        conn, reused = pool.take(key, timeout, fresh)
        try:
            conn.request(method, path, body=data, headers=headers)
            response = conn.getresponse()
            break
        except _STALE as err:
            conn.close()
            # a read (``body`` is None) changes nothing: sent again once, on a new connection
            if reused and body is None:
                fresh = True
                continue
            raise StoreError(f"cannot reach SPARQL server {url}: {err}") from None
        except TimeoutError:
            conn.close()
            raise QueryTimeout(limit or timeout) from None
        except (OSError, http.client.HTTPException) as err:
            conn.close()
            raise StoreError(f"cannot reach SPARQL server {url}: {err}") from None
    if 300 <= response.status < 400:  # urllib follows redirects, as it did for every request
        conn.close()
        return _send_urllib(target, data, headers, timeout, deadline, limit or timeout)
    done = False
    try:
        if response.status >= 400:
            _refused(response.status, _read(response, deadline, limit or timeout), limit or timeout)
        if response.headers.get("X-SQL-State") == "S1TAT":
            raise QueryTimeout(limit or timeout)
        answer = _read(response, deadline, limit or timeout)
        done = not response.will_close
        return answer
    except TimeoutError:
        raise QueryTimeout(limit or timeout) from None
    except (OSError, http.client.HTTPException) as err:
        raise StoreError(f"SPARQL server {url} broke off its answer: {err}") from None
    finally:
        # a connection is reused only after its whole answer was read: never one cut short
        if done:
            pool.give(key, conn)
        else:
            conn.close()


def _read(response: Any, deadline: float, limit: float) -> bytes:
    chunks = []
    while chunk := response.read(_CHUNK):
        chunks.append(chunk)
        if time.monotonic() > deadline:
            raise QueryTimeout(limit)
    return b"".join(chunks)


def _refused(status: int, body: bytes, limit: float) -> None:
    message = " ".join(body.decode("utf-8", "replace").split())
    # Virtuoso: S1T00, a query that cannot return partial results timed out; S1TAT, an anytime
    # query cut at its limit answered 500 with its partial results first and the error after them
    if "S1T00" in message or "Virtuoso S1TAT Error" in message:
        raise QueryTimeout(limit)
    raise StoreError(f"SPARQL server answered {status}: {message[:300]}")


def _send_urllib(target: str, data: bytes | Iterable[bytes] | None, headers: dict[str, str], timeout: float,
                 deadline: float, limit: float) -> bytes:
    """The request through urllib (a new connection; proxies and redirects as urllib handles them)."""
    request = urllib.request.Request(target, data=data, headers=headers,  # type: ignore[arg-type]
                                     method="GET" if data is None else "POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            if response.headers.get("X-SQL-State") == "S1TAT":
                raise QueryTimeout(limit)
            return _read(response, deadline, limit)
    except urllib.error.HTTPError as err:
        _refused(err.code, err.read(), limit)
        raise
    except TimeoutError:
        raise QueryTimeout(limit) from None
    except urllib.error.URLError as err:
        if isinstance(err.reason, TimeoutError):
            raise QueryTimeout(limit) from None
        raise StoreError(f"cannot reach SPARQL server {target}: {err.reason}") from None
