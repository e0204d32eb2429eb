"""The sidecar: where derived files live, beside the store, where no query or export can see them.

A disk store at ``<store>`` keeps them in the folder ``<store>.derived/`` (as its SHACL shapes
sit in ``<store>.shapes.nt``): the store's folder is swapped whole on a rebuild, the sidecar
stays. A memory store keeps them in this process. Each file starts with one comment line, its
stamp, saying what it was built from; a file is replaced atomically (written aside, flushed,
renamed), so a reader sees the old one or the new one, never half. Only the store's writer
writes here, so anything half-written it finds in the folder is its own debris.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import shutil
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from kb.errors import StoreError
from kb.store import lifecycle

STAMP = b"# ckb derived: "
SHARED_DEBRIS_AGE = 86_400.0  # seconds: a remote KB's half-written file older than this is debris
_TMP = ".tmp-"  # files being written carry it in their names


def folder_of(store: Path) -> Path:
    """The sidecar folder of the disk store at ``store``."""
    return store.with_name(store.name + ".derived")


class Sidecar:
    """The derived files of one store: on disk beside it, or in memory."""

    def __init__(self, store: Path | None, folder: Path | None = None) -> None:
        self.folder = folder if folder is not None else None if store is None else folder_of(store)
        # A remote KB's folder: any process on this machine may build there ('ckb index' beside
        # 'ckb serve'), so another's file being written is debris only once it is old.
        self.shared = folder is not None
        self._held: dict[str, bytes] = {}  # a memory store's files
        self._stamps: dict[str, tuple[tuple[int, int, int], str]] = {}  # name -> (file's stat, stamp)
        self._lock = threading.Lock()

    def stamp(self, name: str) -> str:
        """What the file ``name`` was built from (its first line), or "" if there is none."""
        if self.folder is None:
            data = self._held.get(name)
            return "" if data is None else _stamp_of(io.BytesIO(data))
        path = self.folder / name
        try:
            st = path.stat()
        except OSError:
            return ""
        key = (st.st_ino, st.st_mtime_ns, st.st_size)
        with self._lock:
            known = self._stamps.get(name)
        if known is not None and known[0] == key:
            return known[1]  # pages ask on every request: one stat, no read
        with contextlib.suppress(OSError), path.open("rb") as fh:
            found = _stamp_of(fh)
            with self._lock:
                self._stamps[name] = (key, found)
            return found
        return ""

    @contextmanager
    def reading(self, name: str) -> Iterator[tuple[str, IO[bytes]] | None]:
        """The file ``name`` open for reading, past its stamp, with its stamp; None if there is none.
        The stamp and the content come from the same open file, so a rebuild meanwhile cannot mix them."""
        if self.folder is None:
            data = self._held.get(name)
            fh: IO[bytes] | None = None if data is None else io.BytesIO(data)
        else:
            try:
                fh = (self.folder / name).open("rb")
            except OSError:
                fh = None
        if fh is None:
            yield None
            return
        with fh:
            yield _stamp_of(fh), fh

    def write(self, name: str, stamp: str, parts: list[Path]) -> None:
        """Make ``name`` the concatenation of ``parts`` under ``stamp``, all at once."""
        if self.folder is None:
            self._held[name] = (STAMP + stamp.encode("utf-8") + b"\n"
                                + b"".join(p.read_bytes() for p in parts))
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        self.sweep()
        tmp = self.folder / f".{name}{_TMP}{os.getpid()}-{threading.get_ident()}"
        try:
            with tmp.open("wb") as out:
                out.write(STAMP + stamp.encode("utf-8") + b"\n")
                for part in parts:
                    with part.open("rb") as src:
                        for block in iter(lambda: src.read(1 << 20), b""):
                            out.write(block)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, self.folder / name)
        finally:
            tmp.unlink(missing_ok=True)
        lifecycle.fsync_dir(self.folder)

    def sweep(self) -> None:
        """Remove files a write that never finished left: only the store's writer writes here, so
        one another process named is debris (this process's own are removed by their writer)."""
        if self.folder is not None and self.folder.is_dir():
            for entry in self.folder.iterdir():
                mine = f"{_TMP}{os.getpid()}-" in entry.name
                if _TMP in entry.name and not mine and entry.is_file() and not self._recent(entry):
                    entry.unlink(missing_ok=True)

    def _recent(self, entry: Path) -> bool:
        """Whether a shared folder's file was written to within the last day (maybe by a live build)."""
        with contextlib.suppress(OSError):
            return self.shared and time.time() - entry.stat().st_mtime < SHARED_DEBRIS_AGE
        return False


def _stamp_of(fh: IO[bytes]) -> str:
    """Read the stamp line at the start of ``fh`` (leaving it just past that line)."""
    first = fh.readline()
    return first[len(STAMP):].decode("utf-8", "replace").strip() if first.startswith(STAMP) else ""


_ROOMS: weakref.WeakKeyDictionary[Any, Sidecar] = weakref.WeakKeyDictionary()
_rooms_lock = threading.Lock()


def remote_folder(backend: Any) -> Path:
    """Where derived files of a SPARQL server's KB live on this machine: a folder per KB (its
    identity in the graph registry, else its endpoint) and graph namespaces under
    $CKB_DERIVED_DIR (default: the user's cache folder), so that 'ckb --endpoint ... index' and
    'ckb serve --endpoint ...' find the same files, at whatever address they reach the server."""
    root = Path(os.environ.get("CKB_DERIVED_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "conflict-kb", "remote"))
    by_endpoint = root / _key(backend.endpoint, backend.graph_prefixes)
    found = kb_identity(backend)
    if not found:
        return by_endpoint
    # Two servers sharing an identity hold copies of one store (a copied data folder): they share
    # the folder, which is safe, as every file in it is stamped with the registry's digest, and
    # each write through the KB gives its graphs' entries a new random token: a copy written to no
    # longer matches the other's files (each rebuilds them: time, never a wrong answer).
    folder = root / _key("kb " + found, backend.graph_prefixes)
    _seed(folder, by_endpoint)
    return folder


def _key(name: str, prefixes: Any) -> str:
    return hashlib.sha256("\n".join([name, *prefixes]).encode("utf-8")).hexdigest()[:24]


def kb_identity(backend: Any) -> str:
    """The identity of the KB on a SPARQL server, from its graph registry; given to a registry that
    lacks one where the server takes writes; "" where it has none (and the server refuses it)."""
    from kb.store import registry

    found = registry.identity(backend.solutions(registry.READ, backend.read_timeout))
    if found is None:
        backend.counts()  # no registry: one full count builds it, with an identity where writable
    elif found == "":
        # written by an older release: adopted in the registry's own update style
        with contextlib.suppress(StoreError):  # the server refuses writes: keyed by the endpoint
            backend._send_update(registry.adopt())
    if not found:
        found = registry.identity(backend.solutions(registry.READ, backend.read_timeout))
    return found or ""


def _seed(folder: Path, before: Path) -> None:
    """Give a KB's new folder the files its endpoint's folder holds (kept by an older release, or
    before the registry had an identity), as hard links: an index built there is not built again
    if its stamp says it is current, and a process still writing there replaces its own links."""
    if folder.exists() or not before.is_dir():
        return
    tmp = folder.with_name(f"{folder.name}{_TMP}{os.getpid()}-{threading.get_ident()}")
    try:
        tmp.mkdir(parents=True)
        for entry in before.iterdir():
            if _TMP not in entry.name and entry.is_file():
                os.link(entry, tmp / entry.name)
        os.rename(tmp, folder)  # all at once; another process seeding meanwhile has done the same
    except OSError:
        pass
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def of(kb: Any) -> Sidecar | None:
    """The sidecar of ``kb``'s store (one per open store): beside an embedded store, in the cache
    folder for a SPARQL server's (remote_folder); None for anything else."""
    backend = getattr(kb, "backend", None)
    embedded = hasattr(backend, "mark_claim_index")
    if backend is None or not (embedded or hasattr(backend, "counts")):
        return None
    with _rooms_lock:
        room = _ROOMS.get(backend)
    if room is not None:
        return room
    # A server's folder is asked of the server (its registry), outside the lock: a slow answer
    # holds up no other thread's sidecar.
    room = Sidecar(getattr(backend, "path", None)) if embedded else Sidecar(None, remote_folder(backend))
    with _rooms_lock:
        return _ROOMS.setdefault(backend, room)
