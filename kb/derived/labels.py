"""The completion index: every label of the store and how each class is used, for the editor.

The query editor asks, per keystroke, which entities a typed word names and which properties
instances of a class carry. Answering that by SPARQL means a scan of every label (a CONTAINS
filter) or a join of every typed subject with its triples: seconds at 1M triples. Each is
read once per store generation (kb.derived.memo: a write starts it afresh), apart, so that
entity lookups never wait for the slower class usage: the labels by pattern lookups, the
usage by two fixed aggregate queries. Lookups then bisect sorted keys in memory.

Both are read in the background (kb.derived.background), once per store generation, started by
the first request after a write: a request waits for them at most WAIT seconds, then answers
without them (the next finds them). It is derived state: it holds nothing the store does not,
and dropping it costs only a read. User text never becomes
query text: the index is built by fixed lookups and queries and searched in Python. Remote
engines, which others may write to, get none (kb.derived.memo gives none).
"""

from __future__ import annotations

import logging
import re
import time
from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pyoxigraph as ox

from kb.derived import background
from kb.derived.memo import memo
from kb.errors import KBError
from kb.namespaces import CKB
from kb.views.lookups import reader

RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
SKOS_PREF = "http://www.w3.org/2004/02/skos/core#prefLabel"
SKOS_ALT = "http://www.w3.org/2004/02/skos/core#altLabel"
FIELDS = (RDFS_LABEL, SKOS_PREF, SKOS_ALT)  # the rank of a matched field: label first
SCAN = 5000  # keys a lookup ranks at most, per list: bounds a one-letter search
KEY_CHARS = 48  # of a label or a word onwards, kept as a key (longer text is checked per hit)
BUILD_TIMEOUT = 300.0  # seconds for each of the build's two queries (a million triples: about 1 s)
# The typed subjects first, distinct (a type stated in two graphs counts once): joined
# directly, Oxigraph 0.5 planned the same count over the union of graphs eight times slower.
USAGE = ("SELECT ?c ?p (COUNT(*) AS ?n) WHERE { "
         "{ SELECT DISTINCT ?s ?c WHERE { ?s a ?c FILTER(isIRI(?c)) } } ?s ?p ?o } GROUP BY ?c ?p")
INSTANCES = "SELECT ?c (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a ?c FILTER(isIRI(?c)) } GROUP BY ?c"
_WORD = re.compile(r"(?<!\w)\w", re.UNICODE)
NAME, USAGE_NAME = "completion-labels", "completion-usage"  # in kb.derived.memo
BUILD_TRIES = 3
WAIT = 3.0  # seconds a request waits for an index being read before it answers without it
log = logging.getLogger("ckb.completion")
LABELS_JOB = background.Job("value", "ckb-labels", (KBError,), log, "completion labels not read: %s")
# a failed count is not retried before the next write: it would fail again, minutes each time
USAGE_JOB = background.Job("value", "ckb-usage", (KBError,), log, "class usage not counted: %s", retry=False)
T = TypeVar("T")


def normalise(text: str) -> str:
    """Lower-cased (casefold) with runs of whitespace as one space: how labels are compared."""
    return " ".join(str(text).split()).casefold()


@dataclass
class LabelIndex:
    """Labels by prefix and by word prefix."""

    entries: list[tuple[str, str, int]] = field(default_factory=list)  # (iri, label, field rank)
    # Sorted keys (a label, normalised and cut to KEY_CHARS) with the entry of each, in two
    # parallel lists so that a range of them is one slice; and the same for every later word
    # of a label ("republican guard" of "syrian republican guard").
    full_keys: list[str] = field(default_factory=list)
    full_refs: list[int] = field(default_factory=list)
    word_keys: list[str] = field(default_factory=list)
    word_refs: list[int] = field(default_factory=list)
    order: list[int] = field(default_factory=list)  # entry -> rank: label before alias, shorter first

    def find(self, text: str, limit: int) -> list[tuple[str, str, str]]:
        """Entities whose label is ``text``, then those it starts, then those a later word of
        it starts (each best first: label before alias, shorter first), one hit per entity:
        (iri, label, "exact" | "prefix" | "word")."""
        needle = normalise(text)
        if not needle or limit <= 0:
            return []
        key = needle[:KEY_CHARS]
        after = key[:-1] + chr(ord(key[-1]) + 1)  # the first key past those ``key`` starts
        found: list[tuple[str, str, str]] = []
        seen: set[str] = set()

        def take(refs: list[int], kind: str) -> bool:
            for ref in sorted(refs, key=self.order.__getitem__):
                iri, label, _ = self.entries[ref]
                if iri in seen or (len(needle) > KEY_CHARS and needle not in normalise(label)):
                    continue
                seen.add(iri)
                found.append((iri, label, kind))
                if len(found) >= limit:
                    return True
            return False

        i = bisect_left(self.full_keys, key)
        j = bisect_left(self.full_keys, after, i, min(len(self.full_keys), i + SCAN))
        exact = i
        while exact < j and self.full_keys[exact] == needle:
            exact += 1
        if take(self.full_refs[i:exact], "exact") or take(self.full_refs[exact:j], "prefix"):
            return found
        i = bisect_left(self.word_keys, key)
        j = bisect_left(self.word_keys, after, i, min(len(self.word_keys), i + SCAN))
        take(self.word_refs[i:j], "word")
        return found


def _labels(read: Any, index: LabelIndex) -> None:
    full, words = [], []
    for rank, prop in enumerate(FIELDS):
        quads, _ = read.quads(None, prop, None)
        for quad in quads:
            # the ontology's own terms complete as classes and properties, not as entities
            if not isinstance(quad.subject, ox.NamedNode) or quad.subject.value.startswith(str(CKB)):
                continue
            if not isinstance(quad.object, ox.Literal):
                continue
            key = normalise(quad.object.value)
            if not key:
                continue
            ref = len(index.entries)
            index.entries.append((quad.subject.value, quad.object.value, rank))
            full.append((key[:KEY_CHARS], ref))
            words.extend((key[m.start():m.start() + KEY_CHARS], ref)
                         for m in _WORD.finditer(key) if m.start())
    full.sort()
    words.sort()
    index.full_keys, index.full_refs = [k for k, _ in full], [r for _, r in full]
    index.word_keys, index.word_refs = [k for k, _ in words], [r for _, r in words]
    ranked = sorted(range(len(index.entries)), key=lambda r: (
        index.entries[r][2], len(index.entries[r][1]), index.entries[r][1], index.entries[r][0]))
    index.order = [0] * len(ranked)
    for position, ref in enumerate(ranked):
        index.order[ref] = position


@dataclass
class ClassUsage:
    """How many subjects each class has, and how often its instances use each property."""

    usage: dict[str, Counter[str]]  # class -> property -> triples
    instances: Counter[str]  # class -> typed subjects


def _read_labels(kb: Any) -> LabelIndex | None:
    with reader(kb) as read:
        if read is None:
            return None
        index = LabelIndex()
        _labels(read, index)
        return index


def _read_usage(kb: Any) -> ClassUsage | None:
    # The engine joins every typed subject with its triples in seconds at 1M triples (a scan
    # in Python took longer); asserted and inferred types alike, so an instance of a
    # subclass counts for its superclasses too.
    usage: dict[str, Counter[str]] = defaultdict(Counter)
    for row in kb.query(USAGE, limit=1_000_000, timeout=BUILD_TIMEOUT).rows:
        usage[str(row["c"])][str(row["p"])] += int(row["n"])
    instances: Counter[str] = Counter()
    for row in kb.query(INSTANCES, limit=1_000_000, timeout=BUILD_TIMEOUT).rows:
        instances[str(row["c"])] += int(row["n"])
    return ClassUsage(dict(usage), instances)


def _unmoved(kb: Any, read: Callable[[Any], T | None]) -> T | None:
    """What ``read`` makes of the store, or None if a write landed while it read (that would be
    a mix of two stores)."""
    before = kb.generation()
    value = read(kb)
    return value if kb.generation() == before else None


def _kept(kb: Any, name: str, job: background.Job, read: Callable[[Any], T | None],
          within: float | None) -> T | None:
    """What ``read`` makes of the store as it is now, made once per store generation in the
    background; with ``within`` None, made now (or waited for) and tried again if a write
    lands meanwhile. None where others may write to the store or ``read`` cannot."""
    for _ in range(BUILD_TRIES if within is None else 1):
        held = memo(kb, name)
        if held is None:
            return None
        value = background.ready(held, job, lambda: _unmoved(kb, read), wait=within is None,
                                 within=within or 0.0)
        if value is not None or within is not None:
            return value
        if memo(kb, name) is held:
            return None  # read at this generation and found nothing to read (no store here)
    raise KBError(f"the store changed during each of {BUILD_TRIES} builds of the completion "
                  "index; try again when the writes pause")


def embedded(kb: Any) -> bool:
    """Whether the labels can be read in this process (an embedded store, memos kept)."""
    return memo(kb, NAME) is not None and getattr(getattr(kb, "backend", None), "reading", None) is not None


def label_index(kb: Any, within: float | None = None) -> LabelIndex | None:
    """Every label of the store as it is now (read once per store generation, about 3 s at 1M
    triples); with ``within``, None if the read in the background takes longer than that. None
    without an embedded store in this process."""
    return _kept(kb, NAME, LABELS_JOB, _read_labels, within)


def usage_if_counted(kb: Any, wait: float = WAIT) -> ClassUsage | None:
    """The class usage of the store as it is now if it is counted within ``wait`` seconds, else
    None (the counts come later): one count per store generation runs in the background, in the
    heavy lane, so a keystroke never waits on a whole-store aggregate (minutes at 20M triples)
    and a failed count is not retried before the next write."""
    return _kept(kb, USAGE_NAME, USAGE_JOB, _count, wait)


def _count(kb: Any) -> ClassUsage | None:
    from kb.query.scheduling import HEAVY, lane

    with lane(HEAVY, time.monotonic() + BUILD_TIMEOUT):
        return _read_usage(kb)


def class_usage(kb: Any) -> ClassUsage | None:
    """Each class's instances and their properties in the store as it is now (two aggregate
    queries on the first call after a write); None where others may write to the store."""
    return _kept(kb, USAGE_NAME, USAGE_JOB, _read_usage, None)
