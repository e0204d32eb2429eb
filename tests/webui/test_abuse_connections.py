"""500 idle or slow sockets from one address never delay a client from another address.

Against a real `ckb serve` on loopback: the attacker holds 500 sockets from 127.0.0.1 (idle,
trickling partial headers, or trickling a body), and a cheap client from 127.0.0.2 must be
answered within CHEAP_BOUND seconds each time. Before per-address caps, waitress's total of 100
connections let one address lock everyone out.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress

import pytest

from tests.webui.serving import Server, ckb_serve

SOCKETS = 500
CHEAP_BOUND = 3.0  # seconds for one cheap request from another address (at rest: ~10 ms)
PROBES = ("/static/js/common.js", "/sparql?query=ASK%7B%7D")


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    with ckb_serve() as running:
        yield running


def _idle(sock: socket.socket) -> bytes | None:
    return None


def _partial_headers(sock: socket.socket) -> bytes | None:
    sock.sendall(b"GET /actors HTTP/1.1\r\nHost: x\r\nX-Slow: ")
    return b"a"  # one more header byte every trickle


def _slow_body(sock: socket.socket) -> bytes | None:
    sock.sendall(b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\n"
                 b"Content-Length: 100000\r\n\r\nASK ")
    return b" "


@contextmanager
def _attack(server: Server, start: Callable[[socket.socket], bytes | None]) -> Iterator[list[socket.socket]]:
    """Hold SOCKETS sockets from 127.0.0.1, each trickling what ``start`` says, once a second."""
    held: list[socket.socket] = []
    trickle: list[tuple[socket.socket, bytes]] = []
    stop = threading.Event()
    for _ in range(SOCKETS):
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=5,
                                        source_address=("127.0.0.1", 0))
        held.append(sock)
        try:
            more = start(sock)
        except OSError:
            continue  # refused already: the server closed it
        if more:
            trickle.append((sock, more))

    def drip() -> None:
        while not stop.wait(1.0):
            for sock, more in trickle:
                with suppress(OSError):
                    sock.send(more)

    thread = threading.Thread(target=drip, daemon=True)
    thread.start()
    try:
        yield held
    finally:
        stop.set()
        thread.join()
        for sock in held:
            sock.close()


def _answers(held: list[socket.socket]) -> list[bytes]:
    """What the server sent the attacker's sockets so far (without waiting)."""
    seen = []
    for sock in held:
        sock.setblocking(False)
        try:
            data = sock.recv(256)
        except OSError:
            continue
        if data:
            seen.append(data)
    return seen


@pytest.mark.parametrize("start", [_idle, _partial_headers, _slow_body], ids=["idle", "headers", "body"])
def test_sockets_from_one_address_do_not_delay_another(server: Server, start) -> None:
    with _attack(server, start) as held:
        time.sleep(1.5)  # let the trickle run
        timings = []
        for _ in range(5):
            for path in PROBES:
                status, _, took = server.get(path, "127.0.0.2", timeout=15)
                assert status == 200
                timings.append(took)
        assert max(timings) <= CHEAP_BOUND, f"cheap requests took {sorted(timings)[-3:]} s"
        assert server.alive()
        answers = _answers(held)
    assert not [a for a in answers if b" 500 " in a[:20]]
    # Past its share, the address was told why: 503, not a silent close.
    assert any(a.startswith(b"HTTP/1.1 503") for a in answers)


def test_a_request_trickling_its_headers_is_dropped(server: Server) -> None:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=30,
                                    source_address=("127.0.0.3", 0))
    sock.sendall(b"GET /actors HTTP/1.1\r\nHost: x\r\nX-Slow: ")
    start = time.monotonic()
    closed_after = None
    while time.monotonic() - start < 40:
        try:
            sock.send(b"a")  # one byte a second keeps waitress's idle timer from ever firing
        except OSError:
            closed_after = time.monotonic() - start
            break
        sock.settimeout(1.0)
        try:
            if sock.recv(256) == b"":
                closed_after = time.monotonic() - start
                break
        except TimeoutError:
            pass
    sock.close()
    assert closed_after is not None and closed_after <= 15, f"still open after {closed_after} s"


def test_an_ipv6_host_counts_by_its_64() -> None:
    from webui.connections import address_key

    assert address_key("2001:db8::1") == address_key("2001:db8::ffff:1") == "2001:db8::/64"
    assert address_key("2001:db8:0:1::1") != address_key("2001:db8::1")
    assert address_key("::ffff:192.0.2.7") == address_key("192.0.2.7") == "192.0.2.7"
    assert address_key("fe80::1%eth0") == "fe80::/64"
