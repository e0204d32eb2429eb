"""One IRI per actor across sources: identifiers, the reviewed alias table, exact labels; never silently."""

from __future__ import annotations

import csv
import difflib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kb.errors import KBError
from kb.namespaces import CKB, CKBR, GRAPH_CLAIM_INDEX, GRAPH_INFERRED
from kb.store.loader import project_root

from .common import IMPORTER, RDF_TYPE, RDFS_LABEL, ckb, iri, res, slug, text, triple

ALIAS_COLUMNS = ("dataset", "source_id", "name", "actor", "matched_by", "reviewed_by", "note")
SKOS_ALT = "http://www.w3.org/2004/02/skos/core#altLabel"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"


def default_alias_table() -> Path:
    """The reviewed alias table shipped in data/."""
    return project_root() / "data" / "actor-aliases.csv"


@dataclass(frozen=True)
class Match:
    """How one source name was resolved: to which actor, by which method, made by whom."""

    dataset: str
    name: str
    actor: str  # full IRI
    method: str  # "identifier", "alias table", "exact label", "unmatched"
    made_by: str


def load_aliases(path: Path) -> list[dict[str, str]]:
    """Read the alias table; a malformed row is an error with its line."""
    if not path.is_file():
        return []
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        if tuple(reader.fieldnames or ()) != ALIAS_COLUMNS:
            raise KBError(f"{path}:1: columns must be {', '.join(ALIAS_COLUMNS)}")
        rows = []
        for row in reader:
            if not row["name"] or not row["actor"] or not row["matched_by"]:
                raise KBError(f"{path}:{reader.line_num}: name, actor and matched_by are required")
            rows.append(row)
        return rows


class Matcher:
    """Resolves actor names from a dataset to KB actors; mints a new actor when nothing matches."""

    def __init__(self, labels: dict[str, str], aliases: list[dict[str, str]],
                 known: dict[str, tuple[set[str], set[str]]] | None = None) -> None:
        self.labels = labels  # lower-cased label or altLabel -> actor IRI
        # actor IRI -> (its asserted types, its rdfs:labels) as graphs other than this import's state
        # them: an import restates them for every actor it refers to, so it never leans on another graph
        self.known = known or {}
        self.by_id = {(a["dataset"], a["source_id"]): a for a in aliases if a["source_id"]}
        self.by_name = {(a["dataset"], a["name"].lower()): a for a in aliases}
        self.matches: dict[tuple[str, str], Match] = {}
        self._emitted: set[str] = set()
        # what the row being converted described and matched, to forget if the row is dropped
        self._row_keys: list[str] = []
        self._row_names: list[tuple[str, str]] = []

    def once(self, key: str) -> bool:
        """True the first time a shared node (place, outlet, actor id) is described in this import.

        Rows repeat the same places and outlets; describing each once keeps the output small. The set
        is bounded: past 500,000 keys it starts again (a repeated triple is harmless: RDF is a set).
        """
        if key in self._emitted:
            return False
        if len(self._emitted) >= 500_000:
            self._emitted.clear()
        self._emitted.add(key)
        self._row_keys.append(key)
        return True

    def row_done(self, kept: bool) -> None:
        """End a row; if it was dropped as bad, forget what it described and matched.

        Its triples were never written, so a later row must describe those nodes again, and a name
        only a dropped row used must not leave a ckb:NameMatch pointing at an actor nobody describes.
        """
        if not kept:
            self._emitted.difference_update(self._row_keys)
            for name in self._row_names:
                self.matches.pop(name, None)
        self._row_keys.clear()
        self._row_names.clear()

    @classmethod
    def for_kb(cls, kb: Any, aliases: Path | None = None, replacing: str = "") -> Matcher:
        """A matcher over the KB's actor labels and the alias table, ignoring the graph being replaced.

        Only what another graph states counts: an actor the replaced graph alone described would be
        gone after the swap, so the import mints (and describes) it again instead of matching it.
        """
        skip = ", ".join(f"<{g}>" for g in (replacing, GRAPH_INFERRED, GRAPH_CLAIM_INDEX) if g)
        rows = kb.query(f"""
            SELECT ?a ?p ?l ?t WHERE {{
              ?t <{RDFS}subClassOf>* <{CKB.Actor}> .
              GRAPH ?gt {{ ?a a ?t }}
              FILTER (STRSTARTS(STR(?a), "{CKBR}") && ?gt NOT IN ({skip}))
              # two bound patterns, not ?p over VALUES: that made the engine join every label
              # in the store (minutes at 100,000 events instead of a fraction of a second)
              {{ GRAPH ?gl {{ ?a <{RDFS}label> ?l }} BIND (<{RDFS}label> AS ?p) }}
              UNION {{ GRAPH ?gl {{ ?a <{SKOS_ALT}> ?l }} BIND (<{SKOS_ALT}> AS ?p) }}
              FILTER (?gl NOT IN ({skip}))
            }}""", limit=1_000_000, timeout=300)
        if rows.truncated:
            raise KBError("too many actor labels to match against (over 1,000,000)")
        labels: dict[str, str] = {}
        known: dict[str, tuple[set[str], set[str]]] = {}
        for r in rows.rows:
            actor, label = str(r["a"]), str(r["l"])
            labels.setdefault(label.lower(), actor)
            types, names = known.setdefault(actor, (set(), set()))
            types.add(str(r["t"]))
            if str(r["p"]) == RDFS + "label":
                names.add(label)
        return cls(labels, load_aliases(aliases or default_alias_table()), known)

    def resolve(self, dataset: str, name: str, source_id: str = "", fallback: str = "") -> tuple[str, bool]:
        """Return (actor IRI, is new) for a name as a dataset writes it."""
        key = (dataset, name)
        if key in self.matches:
            m = self.matches[key]
            return m.actor, m.method == "unmatched"
        minted = str(CKBR) + (fallback or f"{dataset}-actor-{slug(name)}")
        alias = self.by_id.get((dataset, source_id)) if source_id else None
        method = "identifier" if alias else ""
        if alias is None:
            alias = self.by_name.get((dataset, name.lower()))
            method = "alias table" if alias else ""
        if alias is not None:
            m = Match(dataset, name, str(CKBR) + alias["actor"], method,
                      f"{alias['matched_by']} (reviewed by {alias['reviewed_by'] or 'nobody yet'})")
        elif name.lower() in self.labels and self.labels[name.lower()] != minted:
            m = Match(dataset, name, self.labels[name.lower()], "exact label", IMPORTER)
        else:  # nothing matched, or only the actor this dataset mints for the name anyway
            m = Match(dataset, name, minted, "unmatched", IMPORTER)
        iri(m.actor)  # a BadRow for a name or id that cannot make an IRI, before it is remembered
        self.matches[key] = m
        self._row_names.append(key)
        return m.actor, m.method == "unmatched"

    def record_triples(self) -> Iterator[str]:
        """One ckb:NameMatch per resolved name, and the type and label of every actor matched to.

        A matched actor's types and labels are restated from the graphs that hold them, so that
        replacing or dropping those graphs never leaves this import's rows pointing at a bare IRI.
        An alias to an actor the KB does not describe (yet) is stated as a ckb:Actor with the name.
        """
        for m in self.matches.values():
            if m.method == "unmatched" or not self.once(f"actor-{m.actor}"):
                continue
            node = iri(m.actor)
            types, labels = self.known.get(m.actor, (set(), set()))
            for t in sorted(types or {str(CKB.Actor)}):
                yield triple(node, RDF_TYPE, iri(t))
            for label in sorted(labels or {m.name}):
                yield triple(node, RDFS_LABEL, text(label))
        for m in self.matches.values():
            node = res(f"match-{m.dataset}-{slug(m.name)}")
            yield triple(node, RDF_TYPE, ckb("NameMatch"))
            yield triple(node, RDFS_LABEL, text(f"{m.dataset} name {m.name!r}: {m.method}"))
            yield triple(node, ckb("matchedName"), text(m.name))
            yield triple(node, ckb("matchedActor"), iri(m.actor))
            yield triple(node, ckb("matchMethod"), text(m.method))
            yield triple(node, ckb("matchedBy"), text(m.made_by))
            yield triple(node, ckb("matchDataset"), text(m.dataset))
            yield triple(iri(m.actor), ckb("sourceName"), text(m.name))

    def unmatched_names(self) -> list[str]:
        """Names that found no actor and got a new one."""
        return sorted(m.name for m in self.matches.values() if m.method == "unmatched")


def unmatched(kb: Any, limit: int = 5) -> list[dict[str, Any]]:
    """Every recorded unmatched name with candidate actors by label similarity, for a person to confirm."""
    rows = kb.query(f"""
        SELECT ?name ?dataset ?actor WHERE {{
          ?m <{CKB.matchMethod}> "unmatched" ; <{CKB.matchedName}> ?name ;
             <{CKB.matchDataset}> ?dataset ; <{CKB.matchedActor}> ?actor .
        }} ORDER BY ?dataset ?name""", inferred=False, limit=1_000_000, timeout=300).rows
    known = kb.query(f"""
        SELECT ?a ?l WHERE {{
          ?a a/<http://www.w3.org/2000/01/rdf-schema#subClassOf>* <{CKB.Actor}> .
          {{ ?a <http://www.w3.org/2000/01/rdf-schema#label> ?l }} UNION {{ ?a <{SKOS_ALT}> ?l }}
          FILTER NOT EXISTS {{ ?m <{CKB.matchMethod}> "unmatched" ; <{CKB.matchedActor}> ?a }}
        }}""", inferred=False, limit=1_000_000, timeout=300).rows
    names: dict[str, str] = {}
    for r in known:
        names.setdefault(str(r["l"]), str(r["a"]))
    out = []
    for r in rows:
        name = str(r["name"])
        close = difflib.get_close_matches(name, list(names), n=limit, cutoff=0.5)
        lowered = {n.lower(): n for n in names}
        folded = difflib.get_close_matches(name.lower(), list(lowered), n=limit, cutoff=0.5)
        close += [lowered[n] for n in folded if lowered[n] not in close]
        out.append({"dataset": str(r["dataset"]), "name": name, "minted": str(r["actor"]),
                    "candidates": [(c, names[c]) for c in close[:limit]]})
    return out
