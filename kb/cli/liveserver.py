"""The running ``ckb serve`` of a store: it announces its URL beside the store's lock, and ``ckb import``
finds it there when the lock is held, to import through it (kb.cli.upload).

The announcement (``<store>.serving``, JSON with the URL and the process id) is a hint, nothing more:
written when the server starts, removed when it stops, ignored when its process is gone. Deleting it
costs only the discovery (``ckb import --server URL`` still works); the store never depends on it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path

SUFFIX = ".serving"


def announcement(store: Path) -> Path:
    """Where the server of ``store`` writes its URL: beside the store's ``.lock``."""
    return store.with_name(store.name + SUFFIX)


def local_url(host: str, port: int) -> str:
    """The URL a client on this machine reaches a server bound to ``host``:``port`` at."""
    # A server on every address is reachable on loopback; naming 0.0.0.0 would not connect.
    host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    return f"http://{'[' + host + ']' if ':' in host else host}:{port}/"


@contextlib.contextmanager
def announced(store: Path | None, host: str, port: int) -> Iterator[None]:
    """Announce the server's URL beside ``store`` for the block (nothing for a memory or remote store)."""
    if store is None or port == 0:
        yield
        return
    path = announcement(store)
    body = json.dumps({"url": local_url(host, port), "pid": os.getpid()})
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(body + "\n", encoding="utf-8")
        os.replace(tmp, path)  # a reader sees the old announcement or the new one, never half
    except OSError:
        tmp.unlink(missing_ok=True)  # a read-only folder: the server runs, discovery needs --server
        yield
        return
    try:
        yield
    finally:
        with contextlib.suppress(OSError, ValueError):
            if json.loads(path.read_text(encoding="utf-8")).get("pid") == os.getpid():
                path.unlink()  # only our own: a newer server of this store may have replaced it


def find(store: Path) -> str | None:
    """The URL of the running server that announced itself for ``store``, or None."""
    try:
        data = json.loads(announcement(store).read_text(encoding="utf-8"))
        url, pid = str(data["url"]), int(data["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    try:
        os.kill(pid, 0)  # signal 0: is the process still there?
    except ProcessLookupError:
        return None  # a server killed without cleaning up: its announcement is stale
    except PermissionError:
        pass  # another user's process: alive
    return url


def holding(args: argparse.Namespace, err: Exception) -> str | None:
    """For 'ckb import' refused a store another process holds: the URL its 'ckb serve' announced."""
    from kb.api import default_store_path

    if args.command != "import" or "LOCK" not in str(err) or args.memory or args.endpoint:
        return None
    return find(Path(args.store) if args.store else default_store_path())
