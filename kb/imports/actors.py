"""One IRI per actor, outlet and place across sources: a person's decision first, then the match this
import made before (a re-import keeps it), then an explained automatic match to the modelled KB
(never to another import's entities, so an import means the same whatever else is imported; a
person joins those by decision); else a new one, minted from the name or the source's id.

Every resolution is a ckb:NameMatch in the import's graph: which name, which entity, how (method,
score and its reasons), by whom and when. A re-import finds its own earlier matches and keeps them,
so it changes no match and no label.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kb.matching import candidates, decisions, scoring
from kb.matching.names import fold
from kb.matching.service import most_specific
from kb.namespaces import CKB, CKBR

from .common import IMPORTER, RDF_TYPE, RDFS_LABEL, XSD, ckb, iri, name_key, ns, res, slug, text, triple

PROV_TIME = "http://www.w3.org/ns/prov#generatedAtTime"
PARTY = frozenset({"party"})  # an event's participant: never an outlet or a place (scoring.COMPATIBLE)


@dataclass(frozen=True)
class Match:
    """How one source name was resolved: to which entity, by which method, made by whom, when."""

    kind: str  # "actor", "outlet" or "place"
    dataset: str
    name: str
    actor: str  # full IRI of the entity
    method: str  # "by hand", "alias table", "automatic", "unmatched" (or an earlier import's)
    made_by: str
    made_at: str
    score: float | None = None
    note: str = ""

    @property
    def new(self) -> bool:
        """True when the import describes the entity itself (nothing else does)."""
        return self.method == "unmatched"


class Matcher:
    """Resolves names from a dataset to KB entities; mints a new one when nothing matches."""

    def __init__(self, index: candidates.Index, curated: candidates.Index,
                 decided: dict[Any, decisions.Decision], prior: dict[tuple[str, str, str], Match],
                 graph: str = "", dataset: str = "") -> None:
        # index: every entity outside the replaced graph (exact labels, restating); curated: the
        # modelled KB's, the only ones an automatic match may choose
        self.index, self.curated, self.decided, self.prior, self.graph = index, curated, decided, prior, graph
        self.labels: dict[str, list[str]] = {}
        for c in index.candidates.values():
            for n in c.names:
                self.labels.setdefault(n.lower(), []).append(c.iri)
        self.dataset = dataset  # what place_triples matches places for
        self.stamp = decisions.now()
        self.matches: dict[tuple[str, str, str], Match] = {}
        self._emitted: set[str] = set()
        self._row_keys: list[str] = []
        self._row_names: list[tuple[str, str, str]] = []
        self._spellings: dict[str, str] = {}  # place node -> the label this import gives it
        self._row_spellings: list[str] = []

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
        """End a row; if it was dropped as bad, forget what it described and matched."""
        if not kept:
            self._emitted.difference_update(self._row_keys)
            for key in self._row_names:
                self.matches.pop(key, None)
            for node in self._row_spellings:
                self._spellings.pop(node, None)
        self._row_keys.clear()
        self._row_names.clear()
        self._row_spellings.clear()

    @classmethod
    def for_kb(cls, kb: Any, decided: dict[Any, decisions.Decision] | Path | None = None,
               replacing: str = "", dataset: str = "") -> Matcher:
        """A matcher over what the store holds outside the graph being replaced, the decisions in
        force (given, or read with the decisions file at this path), and this graph's own earlier
        matches."""
        skip = (replacing,) if replacing else ()
        if not isinstance(decided, dict):
            decided = decisions.current(kb, decided)
        return cls(candidates.index(kb, skip, events=False, points=False),
                   candidates.index(kb, skip, curated=True, events=False, points=False),
                   decided, earlier_matches(kb, replacing), replacing, dataset)

    def _resolve(self, kind: str, dataset: str, name: str, minted: str, kinds: frozenset[str],
                 must: str = "") -> Match:
        key = (kind, dataset, name)
        if key in self.matches:
            return self.matches[key]
        found = self._decide(kind, dataset, name, minted, kinds, must)
        iri(found.actor)  # a BadRow for a name or id that cannot make an IRI, before it is remembered
        self.matches[key] = found
        self._row_names.append(key)
        return found

    def _decide(self, kind: str, dataset: str, name: str, minted: str, kinds: frozenset[str],
                must: str) -> Match:
        d = self.decided.get((kind, dataset, fold(name))) or self.decided.get((kind, "", fold(name)))
        if d is not None:
            return Match(kind, dataset, name, d.entity, d.method, d.by, d.made_at, d.score, d.note)
        old = self.prior.get((kind, dataset, fold(name)))
        if old is not None and (old.new or old.actor in self.index.candidates):
            return Match(kind, dataset, name, old.actor, old.method, old.made_by, old.made_at,
                         old.score, old.note)
        same = [i for i in self.labels.get(name.lower(), ()) if i != minted and self._fits(i, kinds, must)]
        if same:  # the very name (any case) of an entity another graph describes
            return Match(kind, dataset, name, sorted(same)[0], "exact label", IMPORTER, self.stamp)
        best = scoring.rank(scoring.Query(name, kinds=kinds, limit=2), self.curated)
        if best and best[0].match and (not must or must in best[0].candidate.types):
            return Match(kind, dataset, name, best[0].candidate.iri, "automatic", IMPORTER, self.stamp,
                         best[0].score, scoring.explain(best[0]))
        return Match(kind, dataset, name, minted, "unmatched", IMPORTER, self.stamp)

    def _fits(self, entity: str, kinds: frozenset[str], must: str) -> bool:
        c = self.index.candidates[entity]
        if must and must not in c.types:
            return False
        return any(c.kind == k or c.kind in scoring.COMPATIBLE.get(k, ()) for k in kinds)

    def resolve(self, dataset: str, name: str, source_id: str = "", fallback: str = "") -> tuple[str, bool]:
        """Return (actor IRI, is new) for an actor's name as a dataset writes it."""
        minted = str(CKBR) + (fallback or f"{dataset}-actor-{slug(name)}")
        m = self._resolve("actor", dataset, name, minted, PARTY)
        return m.actor, m.new

    def outlet(self, dataset: str, name: str) -> str:
        """The N-Triples term of the outlet a dataset names; a matched one is marked described, so
        the dataset's spelling never becomes its label (it is kept as a source name)."""
        minted = str(CKBR) + f"outlet-{name_key(name)}"
        if name.startswith("unnamed "):
            return iri(minted)
        m = self._resolve("outlet", dataset, name, minted, frozenset({"outlet"}))
        term = iri(m.actor)
        if not m.new:
            self._emitted.add(term)
        return term

    def place(self, dataset: str, name: str, minted: str, level: str) -> tuple[str, bool]:
        """(IRI, is new) of a place a dataset names at one level ("Country", ...): a country is
        matched like an actor (by exact name: places share few words); other levels by decision."""
        if level != "Country":
            key = fold(name)
            d = self.decided.get(("place", dataset, key)) or self.decided.get(("place", "", key))
            return (d.entity, False) if d else (minted, True)
        m = self._resolve("place", dataset, name, minted, frozenset({"place"}), must=str(CKB.Country))
        return m.actor, m.actor == minted

    def spelling(self, node: str, name: str) -> str:
        """The label of a place node in this import: the label the store gives it, else the first
        spelling this import met (every other spelling becomes a skos:altLabel)."""
        if node not in self._spellings:
            c = self.index.candidates.get(node)
            self._spellings[node] = c.label if c is not None else name
            self._row_spellings.append(node)
        return self._spellings[node]

    def language(self, node: str, name: str) -> str:
        """The language tag the store gives this name of a node ("" if none or not known)."""
        c = self.index.candidates.get(node)
        return c.langs.get(name, "") if c is not None else ""

    def record_triples(self) -> Iterator[str]:
        """One ckb:NameMatch per resolved name, and the types and labels of every entity matched to.

        A matched entity's types and labels are restated from the graphs that hold them, so that
        replacing or dropping those graphs never leaves this import's rows pointing at a bare IRI.
        """
        for m in self.matches.values():
            if m.new or not self.once(f"actor-{m.actor}"):
                continue
            node = iri(m.actor)
            c = self.index.candidates.get(m.actor)
            fallback = str(CKB.Place if m.kind == "place" else CKB.Actor)
            types = most_specific(c, self.index) if c else [fallback]
            for t in types:
                yield triple(node, RDF_TYPE, iri(t))
            labels = sorted(n for n, f in c.names.items() if f == "label") if c else []
            for label in labels or [m.name]:  # as the store has it: the same literal, language and all
                lang = c.langs.get(label, "") if c else ""
                yield triple(node, RDFS_LABEL, text(label) + (f"@{lang}" if lang else ""))
        where = slug(self.graph.rsplit("/", 1)[-1]) if self.graph else "import"
        for m in self.matches.values():
            node = res(f"match-{where}-{m.kind}-{m.dataset}-{name_key(m.name)}")
            yield triple(node, RDF_TYPE, ckb("NameMatch"))
            yield triple(node, RDFS_LABEL, text(f"{m.dataset} {m.kind} name {m.name!r}: {m.method}"))
            yield triple(node, ckb("matchKind"), text(m.kind))
            yield triple(node, ckb("matchedName"), text(m.name))
            yield triple(node, ckb("matchedEntity" if m.kind == "place" else "matchedActor"), iri(m.actor))
            yield triple(node, ckb("matchMethod"), text(m.method))
            yield triple(node, ckb("matchedBy"), text(m.made_by))
            yield triple(node, ckb("matchDataset"), text(m.dataset))
            stamp = m.made_at if "T" in m.made_at else m.made_at + "T00:00:00"
            yield triple(node, ns(PROV_TIME), f'"{stamp}"^^<{XSD}dateTime>')
            if m.score is not None:
                yield triple(node, ckb("matchScore"), f'"{m.score:g}"^^<{XSD}decimal>')
            if m.note:
                yield triple(node, ns("http://www.w3.org/2000/01/rdf-schema#comment"), text(m.note))
            if m.kind != "place" and not m.name.startswith("unnamed "):  # places: skos:altLabel
                yield triple(iri(m.actor), ckb("sourceName"), text(m.name))

    def unmatched_names(self) -> list[str]:
        """Names that found no entity and got a new one."""
        return sorted(m.name for m in self.matches.values() if m.new)


def earlier_matches(kb: Any, graph: str) -> dict[tuple[str, str, str], Match]:
    """The matches the import being replaced recorded, per (kind, dataset, name): a re-import
    keeps them (and when they were made)."""
    if not graph or graph not in kb.graphs():
        return {}
    rows = kb.query(f"SELECT ?m ?p ?o WHERE {{ GRAPH <{graph}> {{ ?m a <{CKB.NameMatch}> ; ?p ?o }} }}",
                    inferred=False, named_graphs=[graph], limit=1_000_000, timeout=300).rows
    by_node: dict[str, dict[str, str]] = {}
    for r in rows:
        by_node.setdefault(str(r["m"]), {})[str(r["p"])] = str(r["o"])
    out: dict[tuple[str, str, str], Match] = {}
    for v in by_node.values():
        name = v.get(str(CKB.matchedName))
        entity = v.get(str(CKB.matchedActor)) or v.get(str(CKB.matchedEntity))
        if not name or not entity:
            continue
        score = v.get(str(CKB.matchScore))
        m = Match(v.get(str(CKB.matchKind), "actor"), v.get(str(CKB.matchDataset), ""), name, entity,
                  v.get(str(CKB.matchMethod), ""), v.get(str(CKB.matchedBy), ""), v.get(PROV_TIME, "")[:19],
                  float(score) if score else None, v.get("http://www.w3.org/2000/01/rdf-schema#comment", ""))
        out[(m.kind, m.dataset, fold(name))] = m
    return out


def unmatched(kb: Any, limit: int = 5) -> list[dict[str, Any]]:
    """Every name imports could not match, once, with explained candidates (kb.matching.review)."""
    from kb.matching.review import unmatched as listing

    return listing(kb, limit)
