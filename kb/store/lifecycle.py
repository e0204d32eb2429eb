"""A disk store's life on its folder: metadata, the writer's lock, and recovery after a crash.

The metadata (``ckb-meta.json`` inside the store folder) is a record derived from the store:
which named graphs it holds and how many triples each has, which bundle it was built from, and
the journal of the write in flight. It sits in the folder, not in the store, so no query (not
even one over the union default graph) can see it, and it moves with the folder when a rebuild
is swapped in. Opening reads the counts instead of counting the store, but the store's own list
of graphs wins over the record: a graph the record misses is counted and recorded, never swept.
Recovery removes only what it can prove is a write's own debris: staging graphs (reserved
names) that no committed redo log names, and brand-new graphs an intent journal written before
the write (``pending``) names when the write never committed.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import signal
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from kb.errors import StoreError

META_NAME = "ckb-meta.json"
META_FORMAT = 1
# 2: updates without GRAPH write the store's default graph and the shapes sit beside the store
# (kb.store.upgrade moves an older store's updates graph and shapes graph out of the way).
LAYOUT = 2
ALL = "*"  # in Meta.recount: every graph, and adopt graphs the metadata does not name
NEW = "+"  # in Meta.recount: adopt graphs the metadata does not name (an update may create them)
_TAG = re.compile(r"^[0-9a-f]{8}$")


@dataclass
class Meta:
    """What a store knows about itself without counting."""

    graphs: dict[str, int] = field(default_factory=dict)
    bundle: str | None = None
    # Redo log of an in-place replacement: (staging graph, target), written before the swap
    # update runs; on open, a staging graph still present means the swap must be redone.
    swaps: list[tuple[str, str]] = field(default_factory=list)
    # Graphs whose counts a write in flight may have changed ([ALL]: any, new ones included).
    recount: list[str] = field(default_factory=list)
    # The stamp (rules' fingerprint and build tag) of the sidecar claim index built from the store
    # as it is ("": none, or stale): every write commits a new Meta without it, so a write (or a
    # crash during one) makes the index stale.
    claim_index: str = ""
    # Intent journal of a write in flight: graphs it is about to create (none existed when it was
    # written). A crash before the write commits leaves them, and only them, to be removed on open.
    pending: list[str] = field(default_factory=list)
    layout: int = LAYOUT

    @classmethod
    def from_json(cls, text: str) -> Meta:
        """Parse the metadata file's text."""
        data = json.loads(text)
        if data.get("format") != META_FORMAT:
            raise ValueError(f"unknown metadata format {data.get('format')!r}")
        return cls(
            graphs={str(g): int(n) for g, n in data.get("graphs", {}).items()},
            bundle=data.get("bundle"),
            swaps=[(str(s), str(t)) for s, t in data.get("swaps", [])],
            recount=[str(g) for g in data.get("recount", [])],
            # an older store wrote true here: an index of unknown rules, so stale
            claim_index=index if isinstance(index := data.get("claim_index"), str) else "",
            pending=[str(g) for g in data.get("pending", [])],
            layout=int(data.get("layout", 1)),  # written before layouts were recorded: maybe older
        )

    def to_json(self) -> str:
        """Serialise for the metadata file."""
        return json.dumps({"format": META_FORMAT, **asdict(self)}, indent=1, sort_keys=True) + "\n"


def read_meta(folder: Path) -> Meta | None:
    """Return the store folder's metadata, or None if it has none (new or older store)."""
    try:
        return Meta.from_json((folder / META_NAME).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, TypeError, AttributeError) as err:
        raise StoreError(f"{folder / META_NAME}: unreadable store metadata: {err}") from None


def write_meta(folder: Path, meta: Meta) -> None:
    """Write the metadata atomically: a temporary file, fsync, rename, fsync of the folder."""
    tmp = folder / f".{META_NAME}.tmp"
    with open(tmp, "w", encoding="utf-8") as out:
        out.write(meta.to_json())
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, folder / META_NAME)
    fsync_dir(folder)


def fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable (fsync of the folder itself)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def take_lock(path: Path) -> int:
    """Hold ``<store>.lock`` for this process's life as the store's one writer; return its fd.

    The lock sits beside the folder because the folder itself is renamed on rebuild. The
    kernel releases it when the process dies, so a crash never leaves it stuck.
    """
    fd = os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        # "LOCK" as RocksDB says it: callers fall back to read-only on that word.
        raise StoreError(f"cannot open store at {path}: another process holds its LOCK") from None
    return fd


def release_lock(fd: int | None) -> None:
    """Give the writer's lock back."""
    if fd is not None:
        with contextlib.suppress(OSError):
            os.close(fd)


def sibling(path: Path, kind: str, tag: str) -> Path:
    """``<store>.rebuild-<tag>`` (a store being built) or ``<store>.old-<tag>`` (one being replaced)."""
    return path.with_name(f"{path.name}.{kind}-{tag}")


def _siblings(path: Path, kind: str) -> list[tuple[str, Path]]:
    """Every ``<store>.<kind>-<tag>`` folder, and files such as ``<store>.rebuild-<tag>.nt``."""
    prefix = f"{path.name}.{kind}-"
    found = []
    for entry in path.parent.glob(f"{prefix}*"):
        tag = entry.name[len(prefix):].split(".", 1)[0]
        if _TAG.match(tag):
            found.append((tag, entry))
    return found


def recover_folders(path: Path) -> list[str]:
    """Finish or undo a folder swap a crash interrupted, and remove abandoned rebuilds.

    Only the lock holder may call this: another writer's rebuild folder is not debris.
    """
    notes: list[str] = []
    olds = {t: p for t, p in _siblings(path, "old") if p.is_dir()}
    if not path.exists() and olds:
        # The crash fell between the two renames of a swap: the store folder is missing.
        tag, old = sorted(olds.items(), key=lambda kv: kv[1].stat().st_mtime)[-1]
        fresh = sibling(path, "rebuild", tag)
        if fresh.is_dir() and read_meta(fresh) is not None:
            os.rename(fresh, path)  # the new store was complete: finish the swap
            notes.append("finished swapping in a rebuilt store that a crash interrupted")
        else:
            os.rename(old, path)
            notes.append("restored the previous store after a crash interrupted its replacement")
        fsync_dir(path.parent)
    removed = 0
    for kind in ("rebuild", "old"):
        for _, entry in _siblings(path, kind):
            if entry.is_dir():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
            removed += 1
    if removed:
        notes.append(f"removed {removed} leftover rebuild folder(s)")
    return notes


def touched_graphs(sparql: str, known: Iterable[str]) -> list[str]:
    """The graphs a SPARQL update may change: the ones it mentions, or ALL when it picks them by variable.

    Over-inclusive on purpose (a graph named in a comment is recounted too): recounting a
    graph costs a scan of it, missing one leaves a wrong count.
    """
    if re.search(r"\bGRAPH\s*[?$]|\b(ALL|NAMED)\b", sparql, re.IGNORECASE):
        return [ALL]
    return [NEW, *(g for g in known if g in sparql or re.split(r"[/#]", g)[-1] in sparql)]


# Every crash point, where it sits (kb.store.*), for tests that kill at each of them.
CRASH_POINTS = {
    "after-write": "oxstore._writing: a write's data is in the store, its record not yet committed",
    "journal-written": "replace._replace_in_place: intent journal (pending new graphs) committed, no data",
    "bulk-loaded": "replace._replace_in_place: new and staging graphs loaded, record not committed",
    "before-commit": "replace._replace_in_place: counted, just before the record and redo log commit",
    "before-swap": "replace._replace_in_place: committed with its redo log, staging graphs not swapped in",
    "rebuild-copied": "replace._rebuild: the rest of the store copied into the new folder, files not loaded",
    "rebuild-loaded": "replace._rebuild: new store loaded, its record not written",
    "rebuild-built": "replace._rebuild: new store complete with its record, not swapped in",
    "between-renames": "replace._rebuild: old store renamed away, new one not yet renamed in",
    "after-renames": "replace._rebuild: new store in place, old folder not yet removed",
    "gsp-staged": "graphops.write_graph: a Graph Store PUT's staging graph written, not swapped in",
    "upgrade-shapes-saved": "upgrade.upgrade: an older store's shapes saved beside it, graphs not moved",
    "update-started": "engine.run_update (update worker): checked, the transaction not begun",
    "update-applied": "engine.run_update (update worker): the update and its commit marker committed",
    "update-flushed": "engine (update worker): committed and flushed, the answer not yet sent",
    "before-settle": "updating: the server read the outcome from the marker, the marker not yet deleted",
}


def crash_point(name: str) -> None:
    """TEST ONLY: kill this process (SIGKILL, as ``kill -9``) when CKB_TEST_CRASH_AT names this point.

    The crash-recovery tests use it to land a real kill exactly between two steps (CRASH_POINTS).
    """
    assert name in CRASH_POINTS, name
    if os.environ.get("CKB_TEST_CRASH_AT") == name:
        os.kill(os.getpid(), signal.SIGKILL)
