"""The Reconciliation Service API v0.2 (W3C Entity Reconciliation CG) as plain data: query
batches to ranked candidates, suggest, data extension; the web layer only moves JSON."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from kb.errors import KBError
from kb.namespaces import CKB, CKBR

from . import decisions, events
from .candidates import Candidate, Index, index
from .names import country_key, fold
from .scoring import Query, Scored, explain, rank

MAX_QUERIES = 200  # per batch; OpenRefine sends ten at a time
MAX_LIMIT = 50
DEFAULT_TYPES = (("Actor", "Actor (any)"), ("ArmedActor", "Armed actor"), ("MediaOutlet", "Media outlet"),
                 ("Place", "Place"))
# The properties a query may give to refine a match, and what each is compared with.
QUERY_PROPERTIES = {
    "country": ("Country", "the country the entity is in, from, or acts in (a name or a place id)"),
    "date": ("Date", "a date the actor was active (YYYY-MM-DD or '16 May 2025'): near its events"),
    "event": ("Event", "an event the entity took part in or hosted: an ACLED or UCDP event id, or a KB id"),
}
# What data extension can add to a reconciled column.
EXTEND_PROPERTIES = {
    "label": "Label", "altLabel": "Other names", "type": "Type", "country": "Country",
    "firstEvent": "First event date", "lastEvent": "Last event date", "events": "Number of events",
}
_ID = re.compile(r"[A-Za-z0-9._~:@!$&'()*+,;=%/-]{1,300}")


class BadRequest(KBError):
    """A request the protocol does not allow: the message says what was wrong."""


def entity_iri(entity_id: str) -> str:
    """An entity id (its name under ckbr:, or the full IRI) as an IRI; BadRequest otherwise."""
    text = str(entity_id).strip()
    if text.startswith(str(CKBR)):
        text = text[len(str(CKBR)):]
    if not _ID.fullmatch(text) or text.startswith("/"):
        raise BadRequest(f"{entity_id!r} is not an entity id of this service")
    return str(CKBR) + text


def type_iri(type_id: str) -> str:
    """A type id ("ArmedActor", "ckb:ArmedActor" or the full IRI) as the class IRI."""
    text = str(type_id).strip()
    for prefix in (str(CKB), "ckb:"):
        if text.startswith(prefix):
            text = text[len(prefix):]
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]{0,100}", text):
        raise BadRequest(f"{type_id!r} is not a type of this service")
    return str(CKB) + text


def _type_ref(iri: str, idx: Index) -> dict[str, str]:
    return {"id": iri[len(str(CKB)):] if iri.startswith(str(CKB)) else iri,
            "name": idx.class_labels.get(iri, iri.rsplit("#", 1)[-1])}


def most_specific(c: Candidate, idx: Index) -> list[str]:
    """The candidate's own classes: none of them a superclass of another."""
    own = [t for t in c.types if t.startswith(str(CKB))]
    return sorted(t for t in own if not any(t != s and t in idx.superclasses.get(s, ()) for s in own))


def _values(v: Any) -> list[Any]:
    return v if isinstance(v, list) else [v]


def _date(text: str) -> str | None:
    for fmt in ("%Y-%m-%d", "%d %B %Y", "%d %b %Y", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%SZ"):
        try:
            return datetime.strptime(text.strip(), fmt).date().isoformat()
        except ValueError:
            continue
    return None


def to_query(key: str, spec: Any, idx: Index) -> Query:
    """One query of a batch as a Query; BadRequest naming the key if it is not one."""
    if not isinstance(spec, dict):
        raise BadRequest(f"query {key!r} must be an object")
    text = spec.get("query", "")
    if not isinstance(text, str):
        raise BadRequest(f"query {key!r}: 'query' must be a string")
    types = spec.get("type") or []
    types = [types] if isinstance(types, str) else types
    if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
        raise BadRequest(f"query {key!r}: 'type' must be a type id or a list of them")
    limit = spec.get("limit", 5)
    if isinstance(limit, bool) or not isinstance(limit, int | float) or limit < 0:
        raise BadRequest(f"query {key!r}: 'limit' must be a non-negative number")
    countries: set[str] = set()
    dates: list[str] = []
    given: set[str] = set()
    for prop in spec.get("properties") or []:
        if not isinstance(prop, dict) or "pid" not in prop or "v" not in prop:
            raise BadRequest(f"query {key!r}: each property needs 'pid' and 'v'")
        pid = str(prop["pid"])
        for v in _values(prop["v"]):
            value = str(v.get("id", "")) if isinstance(v, dict) else str(v)
            if pid == "country":
                place = idx.candidates.get(entity_iri(value)) if isinstance(v, dict) else None
                countries |= place.countries if place else {country_key(value)}
            elif pid == "date":
                day = _date(value)
                if day is None:
                    raise BadRequest(f"query {key!r}: date {value!r} is not YYYY-MM-DD")
                dates.append(day)
            elif pid == "event":
                given.add(value)
            else:
                raise BadRequest(f"query {key!r}: unknown property {pid!r} "
                                 f"(this service knows {', '.join(QUERY_PROPERTIES)})")
    if not text.strip() and not given:
        raise BadRequest(f"query {key!r} has neither a query string nor an event to match by")
    return Query(text, tuple(type_iri(t) for t in types), frozenset(countries), tuple(dates),
                 frozenset(given), int(min(limit, MAX_LIMIT)))


def candidate_json(s: Scored, idx: Index) -> dict[str, Any]:
    """One candidate as the protocol gives it, with every feature that made its score."""
    c = s.candidate
    return {"id": c.local, "name": c.label, "description": explain(s),
            "type": [_type_ref(t, idx) for t in most_specific(c, idx)],
            "score": s.score, "match": s.match,
            "features": [{"id": k, "value": v} for k, v in s.features.items()]}


def reconcile(kb: Any, batch: Any) -> dict[str, Any]:
    """Answer a query batch: for each key, its ranked candidates."""
    if not isinstance(batch, dict):
        raise BadRequest("queries must be a JSON object of queries by key")
    if len(batch) > MAX_QUERIES:
        raise BadRequest(f"at most {MAX_QUERIES} queries in one batch, not {len(batch)}")
    idx = index(kb)
    decided = decisions.current(kb)
    out = {}
    for key, spec in batch.items():
        q = to_query(str(key), spec, idx)
        choice = decisions.lookup(decided, q.text)
        linked = events.linked(kb, q.events) if q.events else None
        out[str(key)] = {"result": [candidate_json(s, idx) for s in rank(q, idx, choice, linked)]}
    return out


def suggest_entities(kb: Any, prefix: str, types: list[str], limit: int = 10) -> dict[str, Any]:
    """Entities whose name starts with or contains the prefix (suggest for entities)."""
    idx = index(kb)
    wanted = {type_iri(t) for t in types}
    needle = fold(prefix)
    hits = []
    for c in idx.candidates.values():
        if wanted and not c.types & wanted:
            continue
        folded = [fold(n) for n in c.names]
        best = min((0 if n.startswith(needle) else 1 for n in folded if needle in n), default=None)
        if best is not None and needle:
            hits.append((best, len(c.label), c.label, c))
    hits.sort(key=lambda h: h[:3])
    return {"result": [{"id": c.local, "name": c.label,
                        "description": "; ".join(sorted(n for n, f in c.names.items() if f == "alias"))[:200],
                        "notable": [_type_ref(t, idx) for t in most_specific(c, idx)]}
                       for *_, c in hits[:limit]]}


def suggest_types(kb: Any, prefix: str, limit: int = 10) -> dict[str, Any]:
    """The ontology's classes of actors, outlets and places whose name contains the prefix."""
    idx = index(kb)
    needle = fold(prefix)
    from .candidates import KIND_ROOTS

    roots = {root for _, root in KIND_ROOTS}
    found = sorted((0 if fold(label).startswith(needle) else 1, label, iri)
                   for iri, label in idx.class_labels.items()
                   if iri.startswith(str(CKB)) and idx.superclasses.get(iri, set()) & roots
                   and needle in fold(label))
    return {"result": [_type_ref(iri, idx) for *_, iri in found[:limit]]}


def suggest_properties(prefix: str, limit: int = 10) -> dict[str, Any]:
    """The properties a query can give (suggest for properties)."""
    needle = fold(prefix)
    return {"result": [{"id": pid, "name": name, "description": text}
                       for pid, (name, text) in QUERY_PROPERTIES.items()
                       if needle in fold(name) or needle in pid][:limit]}
