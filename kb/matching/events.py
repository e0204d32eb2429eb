"""Which actors, places and outlets the events a query names are linked to, by pattern lookups on
the embedded store: the event ids a client sends are only ever compared as literals, never put in
query text. A remote engine has no store here: the feature is then left out (0)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pyoxigraph as ox

from kb.errors import KBError
from kb.namespaces import CKB, CKBR, PREFIXES
from kb.views.lookups import reader

PROV = PREFIXES["prov"]
MAX_EVENTS = 50  # event ids read from one query
MAX_UP = 12  # places climbed from an event's place


def _events(r: Any, value: str) -> set[str]:
    """The events an id names: an ACLED or UCDP event id, or the event's own id under ckbr:."""
    found = {q.subject.value for p in (str(CKB.acledId), str(CKB.ucdpId))
             for q in r.quads(None, p, ox.Literal(value), limit=20)[0] if isinstance(q.subject, ox.NamedNode)}
    try:
        own = str(CKBR) + value
        if r.quads(own, str(CKB.earliestDate), None, limit=1)[0]:
            found.add(own)
    except (KBError, ValueError):  # not an IRI: only a dataset id
        pass
    return found


def _linked_to(r: Any, ev: str) -> set[str]:
    """The participants, places (with what they lie in) and outlets of one event."""
    out = {t.value for t in r.objects(ev, str(CKB.participant)) if isinstance(t, ox.NamedNode)}
    for part in r.objects(ev, str(CKB.hasParticipation)):
        if isinstance(part, ox.NamedNode):
            out |= {t.value for t in r.objects(part.value, str(CKB.participationActor))
                    if isinstance(t, ox.NamedNode)}
    frontier = [t.value for t in r.objects(ev, str(CKB.place)) if isinstance(t, ox.NamedNode)]
    for _ in range(MAX_UP):
        out |= set(frontier)
        frontier = [t.value for p in frontier for t in r.objects(p, str(CKB.partOfPlace))
                    if isinstance(t, ox.NamedNode) and t.value not in out]
        if not frontier:
            break
    for claim in r.subjects(str(CKB.supports), ox.NamedNode(ev)):
        if not isinstance(claim, ox.NamedNode):
            continue
        for stmt in r.objects(claim.value, PROV + "wasDerivedFrom"):
            if isinstance(stmt, ox.NamedNode):
                out |= {t.value for t in r.objects(stmt.value, PROV + "wasAttributedTo")
                        if isinstance(t, ox.NamedNode)}
    return out


def linked(kb: Any, ids: Iterable[str]) -> dict[str, int]:
    """Entity IRI -> how many of the given event ids it is linked to (empty on a remote engine)."""
    counts: dict[str, int] = {}
    with reader(kb) as r:
        if r is None:
            return counts
        for value in sorted(set(ids))[:MAX_EVENTS]:
            near: set[str] = set()
            for ev in _events(r, value):
                near |= _linked_to(r, ev)
            for entity in near:
                counts[entity] = counts.get(entity, 0) + 1
    return counts
