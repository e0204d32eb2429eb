"""Matches a person decided: each a ckb:NameMatch saying which name is which entity, who
decided it, how and when. They live in the KB's own graph (GRAPH_MATCHES) and in a reviewable
file (data/matches/decisions.ttl), written together; imports and the reconciliation service
read them first."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from kb.derived.memo import memo
from kb.errors import KBError
from kb.export import turtle
from kb.namespaces import CKB, CKBR, GRAPH_MATCHES, PREFIXES
from kb.store.loader import project_root

from .names import fold

RDF_TYPE = PREFIXES["rdf"] + "type"
RDFS = PREFIXES["rdfs"]
PROV_TIME = PREFIXES["prov"] + "generatedAtTime"
XSD = PREFIXES["xsd"]
KINDS = ("actor", "outlet", "place")


@dataclass(frozen=True)
class Decision:
    """One name resolved to one entity, and the record of it."""

    kind: str  # "actor", "outlet" or "place"
    name: str  # the name exactly as the source writes it
    entity: str  # full IRI
    method: str  # "by hand", "alias table", "automatic", "identifier", "exact label", "unmatched"
    made_by: str
    made_at: str  # ISO date or date-time
    dataset: str = ""  # "" for every dataset
    reviewed_by: str = ""
    score: float | None = None
    note: str = ""

    @property
    def key(self) -> tuple[str, str, str]:
        """What a later decision about the same name replaces."""
        return (self.kind, self.dataset, fold(self.name))

    @property
    def node(self) -> str:
        """The IRI of this record (stable: the same name's later decision replaces it)."""
        from kb.imports.common import name_key

        return f"{CKBR}match-decision-{self.kind}-{self.dataset or 'any'}-{name_key(self.name)}"

    @property
    def by(self) -> str:
        """Who made it, and who reviewed it, as one line."""
        return f"{self.made_by} (reviewed by {self.reviewed_by})" if self.reviewed_by else self.made_by


def default_file() -> Path:
    """The reviewable file of decisions shipped with the data (override with $CKB_MATCHES)."""
    if os.environ.get("CKB_MATCHES"):
        return Path(os.environ["CKB_MATCHES"])
    return project_root() / "data" / "matches" / "decisions.ttl"


def now() -> str:
    """The current time as the records write it (UTC, whole seconds)."""
    return datetime.now(UTC).replace(microsecond=0, tzinfo=None).isoformat()


def to_quads(decisions: list[Decision], graph: ox.NamedNode | None = None) -> list[Any]:
    """The decisions as RDF (triples, or quads in ``graph``)."""
    out = []

    def add(s: str, p: str, o: ox.NamedNode | ox.Literal) -> None:
        t = (ox.NamedNode(s), ox.NamedNode(p), o)
        out.append(ox.Quad(*t, graph) if graph is not None else ox.Triple(*t))
    for d in sorted(decisions, key=lambda d: d.node):
        n = d.node
        add(n, RDF_TYPE, ox.NamedNode(str(CKB.NameMatch)))
        add(n, RDFS + "label", ox.Literal(f"{d.kind} name {d.name!r}: {d.method}"))
        add(n, str(CKB.matchKind), ox.Literal(d.kind))
        add(n, str(CKB.matchedName), ox.Literal(d.name))
        prop = CKB.matchedEntity if d.kind == "place" else CKB.matchedActor
        add(n, str(prop), ox.NamedNode(d.entity))
        add(n, str(CKB.matchMethod), ox.Literal(d.method))
        add(n, str(CKB.matchedBy), ox.Literal(d.by))  # as an import's record of it says it
        if d.reviewed_by:
            add(n, str(CKB.reviewedBy), ox.Literal(d.reviewed_by))
        if d.dataset:
            add(n, str(CKB.matchDataset), ox.Literal(d.dataset))
        if d.score is not None:
            add(n, str(CKB.matchScore), ox.Literal(f"{d.score:g}", datatype=ox.NamedNode(XSD + "decimal")))
        stamp = d.made_at if "T" in d.made_at else d.made_at + "T00:00:00"
        add(n, PROV_TIME, ox.Literal(stamp, datatype=ox.NamedNode(XSD + "dateTime")))
        if d.note:
            add(n, RDFS + "comment", ox.Literal(d.note))
    return out


def from_rows(rows: list[dict[str, Any]], where: str) -> list[Decision]:
    """Decisions from rows of (m, p, o) terms; a record missing its name or entity is an error."""
    nodes: dict[str, dict[str, str]] = {}
    for r in rows:
        nodes.setdefault(str(r["m"]), {})[str(r["p"])] = str(r["o"])
    out = []
    for node, v in sorted(nodes.items()):
        name = v.get(str(CKB.matchedName))
        entity = v.get(str(CKB.matchedActor)) or v.get(str(CKB.matchedEntity))
        if not name or not entity:
            raise KBError(f"{where}: the match {node} needs ckb:matchedName and ckb:matchedActor")
        score = v.get(str(CKB.matchScore))
        reviewer = v.get(str(CKB.reviewedBy), "")
        made_by = v.get(str(CKB.matchedBy), "").removesuffix(f" (reviewed by {reviewer})" if reviewer else "")
        out.append(Decision(
            v.get(str(CKB.matchKind), "actor"), name, entity, v.get(str(CKB.matchMethod), "by hand"),
            made_by, v.get(PROV_TIME, "")[:19], v.get(str(CKB.matchDataset), ""),
            reviewer, float(score) if score else None, v.get(RDFS + "comment", "")))
    return out


def read_file(path: Path) -> list[Decision]:
    """The decisions in a file (none if it does not exist); a parse error names its line."""
    if not path.is_file():
        return []
    try:
        triples = list(ox.parse(path=str(path), format=ox.RdfFormat.TURTLE))
    except (SyntaxError, ValueError) as err:
        raise KBError(f"{path}: {err}") from None
    rows = [{"m": t.subject.value, "p": t.predicate.value, "o": t.object.value} for t in triples
            if isinstance(t.subject, ox.NamedNode)]
    return from_rows(rows, str(path))


def in_store(kb: Any) -> list[Decision]:
    """The decisions the store holds (its matches graph); remembered until the next write."""
    held = memo(kb, "match-decisions")
    if held is not None and "all" in held:
        return held["all"]
    if GRAPH_MATCHES not in kb.graphs():
        found: list[Decision] = []
    else:
        rows = kb.query(f"SELECT ?m ?p ?o WHERE {{ GRAPH <{GRAPH_MATCHES}> {{ ?m ?p ?o }} }}",
                        inferred=False, named_graphs=[GRAPH_MATCHES], limit=1_000_000, timeout=120).rows
        found = from_rows(rows, "the store's matches graph")
    if held is not None:
        held["all"] = found
    return found


def merge(*sources: list[Decision]) -> dict[tuple[str, str, str], Decision]:
    """One decision per name: the latest made wins (a later source wins a tie)."""
    out: dict[tuple[str, str, str], Decision] = {}
    for source in sources:
        for d in source:
            old = out.get(d.key)
            if old is None or d.made_at >= old.made_at:
                out[d.key] = d
    return out


def current(kb: Any, path: Path | None = None) -> dict[tuple[str, str, str], Decision]:
    """The decisions in force: the store's, and the file's where someone edited it since."""
    return merge(in_store(kb), read_file(path or default_file()))


def lookup(decided: dict[tuple[str, str, str], Decision], name: str, kind: str | None = None,
           dataset: str = "") -> str | None:
    """The entity a decision gives this name (this dataset's decision first), if any."""
    key = fold(name)
    for k in ([kind] if kind else list(KINDS)):
        for ds in ((dataset, "") if dataset else ("",)):
            d = decided.get((k, ds, key))
            if d is not None:
                return d.entity
    if not dataset and not kind:  # a name decided for one dataset still answers a general query
        hits = {d.entity for (_, _, n), d in decided.items() if n == key}
        return hits.pop() if len(hits) == 1 else None
    return None


def record(kb: Any, decision: Decision, path: Path | None = None) -> Path:
    """Write a decision to the file and the store's matches graph (replacing one for the same
    name); the file is replaced atomically, then loaded as the graph."""
    path = path or default_file()
    if decision.kind not in KINDS:
        raise KBError(f"a match is of an actor, an outlet or a place, not {decision.kind!r}")
    kept = merge(in_store(kb), read_file(path))
    kept[decision.key] = decision
    body = turtle.write(to_quads(list(kept.values())), PREFIXES, lambda items, labelled: {})
    header = (b"# Matching decisions: which name (as a dataset writes it) is which KB entity, who made\n"
              b"# the match, how and when. Written by `ckb actors --accept`; reviewable by hand.\n")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".decisions-", suffix=".ttl", dir=path.parent)
    with os.fdopen(fd, "wb") as f:
        f.write(header + body)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    kb.backend.replace_graphs([(path, GRAPH_MATCHES)])
    return path


def with_time(d: Decision) -> Decision:
    """The decision stamped now, if it carries no time yet."""
    return d if d.made_at else replace(d, made_at=now())
