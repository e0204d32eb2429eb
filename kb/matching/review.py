"""What a person reviews: names imports could not match (each once, with explained candidates),
and the decision that settles one (``ckb actors --accept NAME ENTITY``)."""

from __future__ import annotations

import getpass
import os
from pathlib import Path
from typing import Any

from kb.errors import KBError
from kb.namespaces import CKB, GRAPH_MATCHES

from . import decisions
from .candidates import index
from .names import fold
from .scoring import Query, explain, rank

SHOWN = 50.0  # candidates scoring less are noise to a reviewer, not a lead
KIND_QUERY = {"actor": frozenset({"party"}), "outlet": frozenset({"outlet"}), "place": frozenset({"place"})}


def unmatched(kb: Any, limit: int = 5) -> list[dict[str, Any]]:
    """Every name an import could not match, once (whatever the datasets and graphs that met
    it), unless a decision settled it since; with the best candidates and why."""
    rows = kb.query(f"""
        SELECT ?name ?kind ?dataset ?entity WHERE {{ GRAPH ?g {{
          ?m <{CKB.matchMethod}> "unmatched" ; <{CKB.matchedName}> ?name ;
             <{CKB.matchedActor}>|<{CKB.matchedEntity}> ?entity .
          OPTIONAL {{ ?m <{CKB.matchKind}> ?kind }} OPTIONAL {{ ?m <{CKB.matchDataset}> ?dataset }} }}
          FILTER(?g != <{GRAPH_MATCHES}>) }}""", inferred=False, limit=1_000_000, timeout=300).rows
    decided = decisions.current(kb)
    names: dict[tuple[str, str], dict[str, Any]] = {}
    for r in rows:
        kind = str(r.get("kind") or "actor")
        name = str(r["name"])
        dataset = str(r.get("dataset") or "")
        if decisions.lookup(decided, name, kind, dataset):
            continue
        entry = names.setdefault((kind, fold(name)), {"name": name, "kind": kind, "datasets": set(),
                                                      "minted": set()})
        entry["datasets"].add(dataset)
        entry["minted"].add(str(r["entity"]))
    idx = index(kb)
    out = []
    for (kind, _), e in sorted(names.items(), key=lambda item: (item[1]["name"].lower(), item[0])):
        found = rank(Query(e["name"], kinds=KIND_QUERY.get(kind, frozenset()), limit=limit + 3), idx)
        found = [s for s in found if s.candidate.iri not in e["minted"] and s.score >= SHOWN][:limit]
        out.append({"name": e["name"], "kind": kind, "dataset": ", ".join(sorted(e["datasets"])),
                    "minted": sorted(e["minted"])[0],
                    "candidates": [(s.candidate.label, s.candidate.iri, s.score, explain(s)) for s in found]})
    return out


def who() -> str:
    """The person deciding, as the records name them (the login name)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return os.environ.get("USER", "unknown")


def accept(kb: Any, name: str, entity: str, made_by: str = "", dataset: str = "", note: str = "",
           path: Path | None = None) -> decisions.Decision:
    """Record that ``name`` is ``entity`` (an IRI, ckbr:x or a label), by hand; kept in the store
    and in the decisions file."""
    if not name.strip():
        raise KBError("give the name as the dataset writes it")
    iri = kb.resolve(entity)
    idx = index(kb)
    c = idx.candidates.get(iri)
    if c is None:
        raise KBError(f"{entity!r} is not an actor, outlet or place of the KB")
    kind = "outlet" if c.kind == "outlet" else "place" if c.kind == "place" else "actor"
    scored = [s for s in rank(Query(name, kinds=KIND_QUERY[kind], limit=50), idx) if s.candidate.iri == iri]
    decision = decisions.Decision(
        kind, name, iri, "by hand", made_by or who(), decisions.now(), dataset, "",
        scored[0].score if scored else None,
        note or (f"the matcher's score then: {explain(scored[0])}" if scored else ""))
    decisions.record(kb, decision, path)
    return decision
