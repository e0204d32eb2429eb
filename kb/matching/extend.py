"""Data extension (Reconciliation Service API v0.2): values of a few properties for reconciled
ids, and the properties proposed for a type."""

from __future__ import annotations

from typing import Any

from .candidates import index
from .service import EXTEND_PROPERTIES, BadRequest, _type_ref, entity_iri, most_specific

MAX_IDS = 500


def propose(kb: Any, type_id: str | None, limit: int = 20) -> dict[str, Any]:
    """The properties data extension offers (the same for every type here)."""
    props = [{"id": pid, "name": name} for pid, name in EXTEND_PROPERTIES.items()][: max(limit, 0)]
    out: dict[str, Any] = {"properties": props, "limit": limit}
    if type_id:
        out["type"] = type_id
    return out


def extend(kb: Any, request: Any) -> dict[str, Any]:
    """Answer a data extension query: ``{"ids": [...], "properties": [{"id": ...}]}``."""
    if not isinstance(request, dict) or not isinstance(request.get("ids"), list) \
            or not isinstance(request.get("properties"), list):
        raise BadRequest("extend must be a JSON object with 'ids' and 'properties' lists")
    if len(request["ids"]) > MAX_IDS:
        raise BadRequest(f"at most {MAX_IDS} ids in one extension, not {len(request['ids'])}")
    pids = []
    for p in request["properties"]:
        pid = p.get("id") if isinstance(p, dict) else None
        if pid not in EXTEND_PROPERTIES:
            raise BadRequest(f"unknown property {pid!r} (this service extends by "
                             f"{', '.join(EXTEND_PROPERTIES)})")
        pids.append(pid)
    idx = index(kb)
    rows: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for raw in request["ids"]:
        iri = entity_iri(str(raw))
        c = idx.candidates.get(iri)
        values: dict[str, list[dict[str, Any]]] = {}
        for pid in pids:
            if c is None:
                values[pid] = []
            elif pid == "label":
                values[pid] = [{"str": c.label}]
            elif pid == "altLabel":
                values[pid] = [{"str": n} for n in sorted(c.names) if n != c.label]
            elif pid == "type":
                values[pid] = [{"id": t["id"], "name": t["name"]}
                               for t in (_type_ref(t, idx) for t in most_specific(c, idx))]
            elif pid == "country":
                values[pid] = [{"str": k} for k in sorted(c.countries)]
            elif pid == "firstEvent":
                values[pid] = [{"date": f"{c.first}T00:00:00Z"}] if c.first else []
            elif pid == "lastEvent":
                values[pid] = [{"date": f"{c.last}T00:00:00Z"}] if c.last else []
            else:
                values[pid] = [{"int": c.count}]
        rows[str(raw)] = values
    return {"meta": [{"id": pid, "name": EXTEND_PROPERTIES[pid]} for pid in pids], "rows": rows}
