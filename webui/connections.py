"""Connections: at most PER_ADDRESS open at once from one client address, and none kept for long
without a complete request.

Waitress bounds connections only in total (``connection_limit``) and closes only *idle* ones
(``channel_timeout``, checked every ``cleanup_interval``): one address holding 100 idle sockets,
or sockets trickling a header byte now and then, locked every other client out. Neither
waitress nor the other maintained WSGI servers on PyPI (gunicorn, cheroot, uvicorn, hypercorn,
bjoern) limit connections per client address, and none times out a request that arrives too
slowly, so this module adds both, as small as it can be, to waitress's own machinery:

- **Per address, at accept.** waitress makes a channel per accepted socket through
  ``channel_class``; here a factory counts the channels open per address (an IPv6 address by its
  /64, which one host usually owns whole) and answers a socket beyond PER_ADDRESS with a short
  503 and closes it, before it costs a channel. Addresses of trusted proxies are not capped (all
  their clients share them; webui.admission caps those clients by X-Forwarded-For).
- **Request read time.** A request whose headers have not all arrived HEADER_TIMEOUT seconds
  after its first byte, or whose body has not arrived REQUEST_TIMEOUT seconds after it, is
  dropped at waitress's next maintenance pass (every CLEANUP_INTERVAL seconds), as waitress
  drops idle connections after IDLE_TIMEOUT.

A public server still belongs behind a reverse proxy with its own limits (docs/reverse-proxy.md):
many addresses can fill the total as one address fills its share.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from collections import Counter
from typing import Any

from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser
from waitress.server import MultiSocketServer, TcpWSGIServer
from waitress.task import ThreadedTaskDispatcher

PER_ADDRESS = 16  # open connections per client address (a browser opens about 6)
TOTAL = 1000  # open connections in all (waitress's connection_limit)
HEADER_TIMEOUT = 10.0  # seconds from a request's first byte to the end of its headers
REQUEST_TIMEOUT = 60.0  # seconds from a request's first byte to the end of its body
IDLE_TIMEOUT = 15.0  # seconds a connection may wait between requests (waitress's channel_timeout)
CLEANUP_INTERVAL = 1.0  # seconds between waitress's maintenance passes

_MESSAGE = b"503 Service Unavailable: too many open connections from your address; retry later\n"
_REFUSAL = (b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 5\r\nConnection: close\r\n"
            b"Content-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\n\r\n%s"
            % (len(_MESSAGE), _MESSAGE))


def address_key(host: str) -> str:
    """The client a connection counts against: its IPv4 address, or its IPv6 address's /64."""
    try:
        ip = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return host
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is None:
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip.ipv4_mapped or ip) if isinstance(ip, ipaddress.IPv6Address) else str(ip)


class _TimedParser(HTTPRequestParser):
    """Waitress's request parser, noting when the request's first byte came."""

    def __init__(self, adj: Any) -> None:
        super().__init__(adj)
        self.ckb_started = time.monotonic()


class _Channel(HTTPChannel):
    """Waitress's channel, counted against its client's address while it is open."""

    parser_class = _TimedParser
    ckb_key: str | None = None

    def del_channel(self, map: Any = None) -> None:
        super().del_channel(map)
        key, self.ckb_key = self.ckb_key, None
        if key is not None:
            self.server.ckb_limits.leave(key)


class Limits:
    """Open connections per address key (the asyncore loop and waitress threads both close channels)."""

    def __init__(self, per_address: int, exempt: frozenset[str]) -> None:
        self.per_address = per_address
        self.exempt = exempt
        self.open: Counter[str] = Counter()
        self._lock = threading.Lock()

    def enter(self, key: str) -> bool:
        """Count one more connection for ``key``; False (not counted) if it has its share open."""
        with self._lock:
            if key not in self.exempt and self.open[key] >= self.per_address:
                return False
            self.open[key] += 1
            return True

    def leave(self, key: str) -> None:
        """A connection of ``key`` closed."""
        with self._lock:
            self.open[key] -= 1
            if self.open[key] <= 0:
                del self.open[key]


def _make_channel(server: LimitedServer, conn: socket.socket, addr: Any, adj: Any,
                  map: Any = None) -> _Channel | None:
    """What waitress calls ``channel_class``: a channel, or a refusal past the address's share."""
    key = address_key(str(addr[0]) if isinstance(addr, tuple) else str(addr))
    if not server.ckb_limits.enter(key):
        try:
            conn.setblocking(False)
            conn.send(_REFUSAL)  # a fresh socket's buffer takes these bytes at once, or never mind
        except OSError:
            pass
        conn.close()
        return None
    try:
        channel = _Channel(server, conn, addr, adj, map=map)
    except BaseException:
        server.ckb_limits.leave(key)
        raise
    channel.ckb_key = key
    return channel


class LimitedServer(TcpWSGIServer):
    """Waitress's TCP server with per-address connection caps and request read time limits."""

    channel_class = staticmethod(_make_channel)  # type: ignore[assignment]

    def __init__(self, *args: Any, per_address: int = PER_ADDRESS, exempt: frozenset[str] = frozenset(),
                 **kw: Any) -> None:
        self.ckb_limits = Limits(per_address, frozenset(address_key(a) for a in exempt))
        super().__init__(*args, **kw)

    def maintenance(self, now: float) -> None:
        """Waitress's idle cut, then drop requests that are arriving too slowly."""
        super().maintenance(now)
        mono = time.monotonic()
        for channel in list(self.active_channels.values()):
            request = getattr(channel, "request", None)
            started = getattr(request, "ckb_started", None)
            if started is None or channel.requests:
                continue  # no request being read, or one being answered (its own limits apply)
            limit = REQUEST_TIMEOUT if request.headers_finished else HEADER_TIMEOUT
            if mono - started > limit:
                channel.will_close = True


def options() -> dict[str, Any]:
    """The waitress adjustments these limits go with."""
    return {
        "connection_limit": TOTAL,
        "channel_timeout": IDLE_TIMEOUT,
        "cleanup_interval": CLEANUP_INTERVAL,
        # poll(), not select(): select() cannot watch a descriptor numbered 1024 or more.
        "asyncore_use_poll": True,
        # Fewer requests read ahead on one connection than waitress's default: a client's
        # pipelined requests wait on its own connection, not in the server's memory.
        "channel_request_lookahead": 0,
    }


def create_server(app: Any, exempt: frozenset[str] = frozenset(), **kw: Any) -> Any:
    """What ``waitress.create_server`` makes for TCP listeners, with LimitedServer; call .run()."""
    adj = Adjustments(**{**options(), **kw})
    dispatcher = ThreadedTaskDispatcher()
    dispatcher.set_thread_count(adj.threads)
    socket_map: dict[int, Any] = {}
    servers = [LimitedServer(app, socket_map, dispatcher=dispatcher, adj=adj, sockinfo=info, exempt=exempt)
               for info in adj.listen]
    if len(servers) == 1:
        return servers[0]
    listening = [(s.effective_host, s.effective_port) for s in servers]
    return MultiSocketServer(socket_map, adj, listening, dispatcher, servers[-1].log_info)
