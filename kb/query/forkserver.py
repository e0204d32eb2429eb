"""A template process that forks query workers, so a worker starts in milliseconds, not a second.

Before a worker can answer it must import pyoxigraph and the SPARQL checker (rdflib's
parser: ~0.6 s, seconds on a loaded machine), and a killed worker's successor paid that
again. The template imports them once; each worker is a fork of it that fences itself off
the network (``kb.query.sandbox``, in ``kb.query.engine.serve``) right after the fork, exactly as a worker
started from scratch does. The template itself reads nothing but pipe ends and never runs a
query.

The parent hands the template the worker's two pipe ends over a Unix socket (SCM_RIGHTS) and
gets the pid back; it watches and kills the worker through a pidfd, since the worker is the
template's child, not its own. The template reaps its workers and keeps their last exit
statuses, so the parent can ask how one ended (SIGABRT: the engine ran out of the memory its
limit allows, ``kb.query.memory``). Not multiprocessing's forkserver: that one re-imports the
caller's main script in every child.
"""

from __future__ import annotations

import atexit
import contextlib
import math
import os
import select
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import BinaryIO

_PID = struct.Struct("!i")
_UNKNOWN = -(2**31)  # on the wire: the template does not know how that worker ended
_STATUSES = 256  # exit statuses the template remembers
_STATUS_WAIT = 2.0  # seconds the template waits for a worker that closed its pipes to end
_TEMPLATE = "import sys; from kb.query.forkserver import template; template(int(sys.argv[1]))"


def readable(fd: int | BinaryIO, timeout: float | None) -> bool:
    """True once ``fd`` has data, its end or an error to read; False if ``timeout`` s pass first."""
    # poll, not select: select refuses descriptors numbered 1024 or more, which a server
    # holding many connections gives its workers' pipes and pidfds.
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(None if timeout is None else math.ceil(max(timeout, 0.0) * 1000)))


class Forked:
    """A forked worker, with the part of Popen's interface ``kb.query.worker`` uses.

    Thread-safe: a reaper thread may wait for the worker while another polls or kills it. The
    pidfd is closed once, under a lock, and used for a signal only under that lock: a number
    closed twice (or signalled after its close) could be another worker's pipe or pidfd by then.
    """

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None
        self._lock = threading.Lock()
        self._pidfd: int | None = os.pidfd_open(pid)

    def _ready(self, timeout: float | None) -> bool:
        """True once the worker has ended (its pidfd readable), waiting up to ``timeout``."""
        end = None if timeout is None else time.monotonic() + timeout
        while True:
            fd = self._pidfd
            if fd is None or self.returncode is not None:
                return True
            # In slices of at most 1 s: if another thread closes the pidfd meanwhile, this one
            # notices within a slice instead of waiting on a number that may name another file.
            left = 1.0 if end is None else min(1.0, max(end - time.monotonic(), 0.0))
            try:
                if readable(fd, left):  # a pidfd another thread closed meanwhile: POLLNVAL, True
                    return True
            except (OSError, ValueError):  # another thread saw it end and closed the pidfd
                return True
            if end is not None and time.monotonic() >= end:
                return self._pidfd is None

    def poll(self) -> int | None:
        """None while the worker runs; its (unknown, so -1) status once it has ended."""
        if self._pidfd is not None and self._ready(0):
            self._ended()
        return self.returncode

    def kill(self) -> None:
        """SIGKILL, through the pidfd: never another process that reused the pid."""
        with self._lock:
            if self._pidfd is not None:
                with contextlib.suppress(ProcessLookupError):
                    signal.pidfd_send_signal(self._pidfd, signal.SIGKILL)

    def wait(self, timeout: float | None = None) -> int:
        """Wait until the worker has ended; subprocess.TimeoutExpired past ``timeout``."""
        if not self._ready(timeout):
            raise subprocess.TimeoutExpired("ckb worker", timeout or 0)
        self._ended()
        assert self.returncode is not None
        return self.returncode

    def _ended(self) -> None:
        with self._lock:
            if self._pidfd is not None:
                os.close(self._pidfd)
                self._pidfd = None
            self.returncode = -1  # the template reaped it; its status is not ours to read

    def exit_status(self, timeout: float = _STATUS_WAIT) -> int | None:
        """How the worker ended, as Popen.returncode says it (-6: SIGABRT); None if unknown."""
        return TEMPLATE.status(self.pid, timeout)

    def __del__(self) -> None:
        if getattr(self, "_pidfd", None) is not None:
            with contextlib.suppress(OSError):
                os.close(self._pidfd)  # type: ignore[arg-type]


class Template:
    """The parent's handle on one template process (started on first use, restarted if it died)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._sock: socket.socket | None = None

    def start(self) -> None:
        """Start the template now (it imports in the background), unless it runs already."""
        with self._lock:
            self._ensure()

    def _ensure(self) -> socket.socket:
        if self._proc is not None and self._proc.poll() is None and self._sock is not None:
            return self._sock
        self._stop()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        env = dict(os.environ)
        # The template must import this very kb package, installed or not.
        root = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
        try:
            self._proc = subprocess.Popen([sys.executable, "-c", _TEMPLATE, str(theirs.fileno())],
                                          pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL, env=env)
        finally:
            theirs.close()
        self._sock = ours
        return ours

    def spawn(self) -> tuple[Forked, BinaryIO, BinaryIO]:
        """Fork a worker: (its process, the pipe to its stdin, the pipe from its stdout)."""
        to_child, from_parent = os.pipe()[::-1]  # (write end, read end)
        from_child, to_parent = os.pipe()
        try:
            with self._lock:
                sock = self._ensure()
                try:
                    socket.send_fds(sock, [b"w"], [from_parent, to_parent])
                    data = _recv_exactly(sock, _PID.size)
                except (OSError, EOFError):
                    self._stop()
                    raise
            proc = Forked(_PID.unpack(data)[0])
        except BaseException:
            for fd in (to_child, from_child):
                os.close(fd)
            raise
        finally:
            for fd in (from_parent, to_parent):  # the worker holds its own copies now
                os.close(fd)
        return proc, os.fdopen(to_child, "wb"), os.fdopen(from_child, "rb")

    def status(self, pid: int, timeout: float = _STATUS_WAIT) -> int | None:
        """Ask the template how its worker ``pid`` ended (waiting up to ``timeout``); None if unknown."""
        with self._lock:
            sock = self._sock
            if sock is None or self._proc is None or self._proc.poll() is not None:
                return None
            try:
                sock.sendall(b"s" + _PID.pack(pid) + struct.pack("!d", timeout))
                data = _recv_exactly(sock, _PID.size)
            except (OSError, EOFError):
                self._stop()
                return None
        found = _PID.unpack(data)[0]
        return None if found == _UNKNOWN else found

    def _stop(self) -> None:
        if self._sock is not None:
            self._sock.close()  # the template reads EOF and ends; its workers keep serving
            self._sock = None
        if self._proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._proc.wait(5)
            self._proc = None

    def close(self) -> None:
        """Stop the template (workers already forked are not touched)."""
        with self._lock:
            self._stop()


TEMPLATE = Template()  # one per process: every pool forks from it
atexit.register(TEMPLATE.close)


def template(fd: int) -> None:
    """The template's main loop: receive two pipe ends, fork a worker on them, send back its pid."""
    from kb.query import engine  # the expensive imports, once for every worker

    engine.load_checker()

    ended: OrderedDict[int, int] = OrderedDict()
    # Workers are reaped as they end (no zombies), and how each ended is kept for the parent.
    signal.signal(signal.SIGCHLD, lambda signum, frame: _reap(ended))
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    sock = socket.socket(fileno=fd)
    while True:
        try:
            msg, fds, _, _ = socket.recv_fds(sock, 64, 2)
        except OSError:
            return
        if msg[:1] == b"s" and len(msg) == 1 + _PID.size + 8 and not fds:
            pid, wait = _PID.unpack(msg[1:1 + _PID.size])[0], struct.unpack("!d", msg[1 + _PID.size:])[0]
            sock.sendall(_PID.pack(_ended_status(ended, pid, wait)))
            continue
        if not msg or len(fds) != 2:
            for received in fds:
                os.close(received)
            return  # the parent is gone (or confused): workers already forked carry on alone
        pid = os.fork()
        if pid == 0:
            status = 0
            try:
                sock.close()
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                engine.serve(os.fdopen(fds[0], "rb"), os.fdopen(fds[1], "wb"))
            except BaseException:
                status = 1
            finally:
                os._exit(status)
        for received in fds:
            os.close(received)
        sock.sendall(_PID.pack(pid))


def _reap(ended: OrderedDict[int, int]) -> None:
    """Reap every worker that has ended; remember the last _STATUSES exit statuses."""
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        ended[pid] = os.waitstatus_to_exitcode(status)
        while len(ended) > _STATUSES:
            ended.popitem(last=False)


def _ended_status(ended: OrderedDict[int, int], pid: int, wait: float) -> int:
    """Worker ``pid``'s exit status, waiting up to ``wait`` s for it to end; _UNKNOWN if it does not."""
    deadline = time.monotonic() + min(max(wait, 0.0), 10.0)
    while True:
        _reap(ended)
        if pid in ended:
            return ended[pid]
        if time.monotonic() >= deadline:
            return _UNKNOWN
        time.sleep(0.01)


def _recv_exactly(sock: socket.socket, size: int) -> bytes:
    """``size`` bytes from the template's socket; EOFError if it stopped first."""
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise EOFError("the worker template stopped")
        data += chunk
    return data
