"""The claim index: one summary per claim, derived by SPARQL CONSTRUCT rules, kept in the sidecar.

Following a claim's chain of sources costs the engine a join per hop and per claim (about
40 us each in Oxigraph 0.5): the claims explorer's facets and the source pages of big outlets
took seconds at 1M triples. The index states, per claim, what those views ask (what it rests
on, its first speaker, the outlet cited, its kind, its sourcing, the actors and event types it
concerns) as single triples, which kb.derived.bitmaps reads into bitmaps.

The engine computes it (the rules of kb.derived.claimrules, over the union of the store's graphs) into an
N-Triples file in the store's sidecar (kb.derived.sidecar), never into the store: no query,
export, validation or reasoning sees it, and deleting it costs only a rebuild. The file's stamp
names the rules and the build; the store's metadata holds the same stamp until its next write
(kb.store.oxstore clears it on every write commit), so the index is current only while both
agree. A KB on a SPARQL server keeps its index beside the client, built by the same rules in
chunks of claims (kb.derived.remoteindex), current while the graph registry is as it was built.
"""

from __future__ import annotations

import logging
import secrets
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from kb.derived import sidecar

# The rules live in kb.derived.claimrules; named here too, where callers have always found them.
from kb.derived.claimrules import (  # noqa: F401
    CLAIM_KINDS,
    FACET_PROPERTIES,
    INDEX_PROPERTIES,
    KINDS_PATTERN,
    OUTLETS,
    PREFIXES,
    ROLE_PROPERTIES,
    RULES,
    RULES_VERSION,
)
from kb.errors import KBError
from kb.namespaces import CKB, GRAPH_CLAIM_INDEX  # noqa: F401 (CKB: for callers)

log = logging.getLogger("ckb.claimindex")
POLL_SECONDS = 1.0  # how often Keeper looks for a write
FILE = "claim-index.nt"  # in the sidecar


@dataclass
class IndexReport:
    """What one build did."""

    triples: int
    seconds: float
    current: bool  # False: another write came in while it was built, so it is already stale


def supported(kb: Any) -> bool:
    """Whether ``kb`` can keep a claim index (a writable embedded store, or a SPARQL server's
    KB, whose index is built beside the client: kb.derived.remoteindex)."""
    from kb.derived import remoteindex

    backend = getattr(kb, "backend", None)
    if remoteindex.is_remote(kb):
        return True
    return hasattr(backend, "mark_claim_index") and not getattr(backend, "read_only", True)


def _marker(kb: Any) -> str:
    """The stamp the store's metadata holds for the index built from its present contents ("": none);
    on a SPARQL server, the stamp named by the graph registry's present entries."""
    from kb.derived import remoteindex

    if remoteindex.is_remote(kb):
        return remoteindex.marker(kb)
    return getattr(getattr(getattr(kb, "backend", None), "meta", None), "claim_index", "") or ""


def generation(kb: Any) -> object:
    """What changes with every write: the embedded store's generation, the registry's stamp remotely."""
    from kb.derived import remoteindex

    return remoteindex.marker(kb) if remoteindex.is_remote(kb) else kb.generation()


def stamp(kb: Any) -> str | None:
    """The current index's stamp, or None when the sidecar holds no index built by these rules
    from the store as it is (never built, deleted, older rules, or a write since)."""
    marker, room = _marker(kb), sidecar.of(kb)
    if room is None or not marker.startswith(RULES_VERSION) or len(marker) <= len(RULES_VERSION):
        return None
    return marker if room.stamp(FILE) == marker else None


def current(kb: Any) -> bool:
    """Whether ``kb``'s sidecar holds a claim index built by these rules from its present contents."""
    return stamp(kb) is not None


def build(kb: Any, threads: int = 2) -> IndexReport:
    """Derive the claim index from the store by the rules into the sidecar; mark it current
    unless a write came in meanwhile."""
    if not supported(kb):
        raise KBError("the claim index is kept only in a writable embedded store")
    backend, room = kb.backend, sidecar.of(kb)
    started = time.monotonic()
    from kb.derived import remoteindex

    if remoteindex.is_remote(kb):
        # Named by the registry as it was before the first read: a write meanwhile changes the
        # registry, so the file is then stale from the start, never taken for the new state.
        built = remoteindex.marker(kb)
        with tempfile.TemporaryDirectory(prefix="ckb-claim-index-") as tmp:
            parts, triples = remoteindex.derive(kb, Path(tmp), threads)
            room.write(FILE, built, parts)
        return IndexReport(triples=triples, seconds=round(time.monotonic() - started, 2),
                           current=stamp(kb) == built)
    _forget_old_graph(kb)
    generation = backend.generation
    # The rules' fingerprint and this build's own tag: the metadata of the store it was built
    # from names this very file, so another build's file (or none) is never taken for it.
    built = RULES_VERSION + secrets.token_hex(8)
    with tempfile.TemporaryDirectory(prefix="ckb-claim-index-") as tmp:
        parts, triples = _derive(backend, Path(tmp), threads)
        room.write(FILE, built, parts)
    fresh = backend.mark_claim_index(generation, False, built)
    return IndexReport(triples=triples, seconds=round(time.monotonic() - started, 2), current=fresh)


def _forget_old_graph(kb: Any) -> None:
    """Drop the claim index graph an older release kept inside the store, where every query saw
    it; only when it holds nothing but the index's properties (else it is someone's data)."""
    if GRAPH_CLAIM_INDEX not in kb.graphs():
        return
    with kb.backend.reading() as store:
        ours = all(q.predicate.value in INDEX_PROPERTIES for q in
                   store.quads_for_pattern(None, None, None, ox.NamedNode(GRAPH_CLAIM_INDEX)))
    if ours:
        kb.backend.drop_graph(GRAPH_CLAIM_INDEX)
        log.info("removed the claim index graph an older release kept in the store")
    else:
        log.warning("the graph %s holds more than a claim index: kept as data", GRAPH_CLAIM_INDEX)


def _derive(backend: Any, folder: Path, threads: int) -> tuple[list[Path], int]:
    """Run the rules into N-Triples files in ``folder``; with their number of triples. No
    reference to the open store outlives this call: a rebuild by the write that follows must
    be able to close it."""
    parts = [folder / f"{name}.nt" for name in RULES]
    with backend.reading() as store, ThreadPoolExecutor(max(1, threads)) as pool:
        # The engine evaluates and serialises without the GIL: rules run side by side, and
        # no triple passes through Python.
        list(pool.map(lambda rule, part: _construct(store, rule, part), RULES.values(), parts))
    triples = 0
    for part in parts:
        with part.open("rb") as src:
            for block in iter(lambda: src.read(1 << 20), b""):
                triples += block.count(b"\n")  # N-Triples: one line per triple
    return parts, triples


def _construct(store: ox.Store, rule: str, path: Path) -> None:
    """Evaluate one rule over the union of the graphs, written as N-Triples to ``path``."""
    with path.open("wb") as out:
        store.query(PREFIXES + rule, use_default_graph_as_union=True).serialize(out, ox.RdfFormat.N_TRIPLES)


@contextmanager
def reading(kb: Any, wanted: str) -> Iterator[Iterator[ox.Triple] | None]:
    """The triples of the index stamped ``wanted`` (see stamp()), or None if the sidecar holds
    another one or none: the stamp and the triples come from the same open file."""
    room = sidecar.of(kb)
    with (room.reading(FILE) if room is not None else nullcontext()) as found:
        if found is None or found[0] != wanted:
            yield None
        else:
            yield ox.parse(found[1], format=ox.RdfFormat.N_TRIPLES)


class Keeper:
    """Rebuilds the claim index on a daemon thread whenever it is not current (a write left it
    stale, or its sidecar file was deleted), for a long-running process such as 'ckb serve'; a
    failed build is logged and not retried until the store changes again."""

    def __init__(self, kb: Any, poll: float = POLL_SECONDS,
                 then: Callable[[Any], object] | None = None) -> None:
        self.kb, self.poll = kb, poll
        self.then = then  # called with the KB on each poll that finds the index current
        self.failed: object = None  # the store generation a build last failed at
        self.last: IndexReport | None = None
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True, name="ckb-claim-index")

    def _run(self) -> None:
        seen = None
        while not self._stop.is_set():
            try:
                now = generation(self.kb)
            except KBError as err:  # a server slow or away for a while: asked again next poll
                log.info("claim index not checked: %s", err)
                self._stop.wait(self.poll)
                continue
            # Wait for one quiet poll after a write (a burst of updates is indexed once).
            if now == seen and now != self.failed and not current(self.kb):
                try:
                    self.last = build(self.kb)
                    log.info("claim index rebuilt: %s triples in %s s", self.last.triples, self.last.seconds)
                    if not self.last.current and generation(self.kb) == now:
                        self.failed = now  # not marked, though nothing was written: do not loop
                except Exception as err:  # a daemon: say why, and serve on
                    self.failed = now
                    if not self._stop.is_set():
                        log.warning("claim index not rebuilt: %s", err)
            with suppress(KBError):  # as above: the next poll asks again
                if self.then is not None and current(self.kb):
                    self.then(self.kb)
            seen = now
            self._stop.wait(self.poll)

    def start(self) -> Keeper:
        """Start watching; returns self."""
        self.thread.start()
        return self

    def stop(self, wait: float = 0.0) -> None:
        """Stop after the build under way, waiting up to ``wait`` seconds for it."""
        self._stop.set()
        if wait and self.thread.is_alive():
            self.thread.join(wait)
