"""The entities a name can be matched to (actors, outlets, places), read from the store with
fixed queries (no input ever becomes query text) and kept until the store's next write."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from kb.derived.memo import memo
from kb.errors import KBError
from kb.namespaces import CKB, CKBR, GRAPH_CLAIM_INDEX, GRAPH_INFERRED, IMPORT_BASE, PREFIXES

from .names import DEMONYMS, country_key, initials, readings, tokens, word_key

RDFS, SKOS, PROV = PREFIXES["rdfs"], PREFIXES["skos"], PREFIXES["prov"]
NAME_FIELDS = {RDFS + "label": "label", SKOS + "prefLabel": "label", SKOS + "altLabel": "alias",
               str(CKB.sourceName): "alias"}
# The kinds of entity a name can be, by the classes that make them so (most specific first).
KIND_ROOTS = (("outlet", str(CKB.MediaOutlet)), ("outlet", str(CKB.OutletGroup)),
              ("place", str(CKB.Place)), ("armed", str(CKB.ArmedActor)),
              ("government", str(CKB.Government)), ("government", str(CKB.State)),
              ("person", str(CKB.Person)), ("group", str(CKB.PersonGroup)), ("actor", str(CKB.Actor)))
LIMIT = 1_000_000


@dataclass
class Candidate:
    """One entity with what a match can be judged by."""

    iri: str
    kind: str  # "armed", "government", "person", "group", "actor", "outlet" or "place"
    types: set[str] = field(default_factory=set)  # asserted and superclasses
    names: dict[str, str] = field(default_factory=dict)  # name -> "label" or "alias"
    langs: dict[str, str] = field(default_factory=dict)  # name -> its language tag, if any
    countries: set[str] = field(default_factory=set)  # country keys
    count: int = 0  # events it took part in, hosted, or reported
    first: str = ""  # earliest date of its events (YYYY-MM-DD)
    last: str = ""

    @property
    def label(self) -> str:
        """The display name: its rdfs:label (the shortest when several)."""
        own = sorted((n for n, f in self.names.items() if f == "label"), key=lambda n: (len(n), n))
        return own[0] if own else self.iri.rsplit("/", 1)[-1]

    @property
    def local(self) -> str:
        """The id under ckbr: (what the reconciliation service calls it)."""
        return self.iri[len(str(CKBR)):]


@dataclass
class Index:
    """Every candidate, the ontology's class tree, and a word index to find candidates fast."""

    candidates: dict[str, Candidate]
    superclasses: dict[str, set[str]]
    class_labels: dict[str, str]
    by_word: dict[str, set[str]] = field(default_factory=dict)
    by_initials: dict[str, set[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        words: dict[str, set[str]] = defaultdict(set)
        short: dict[str, set[str]] = defaultdict(set)
        for c in self.candidates.values():
            for name in c.names:
                for reading in readings(name):
                    for w in reading.words:
                        words[word_key(w)].add(c.iri)
                for key in initials(name):
                    short[key].add(c.iri)
        self.by_word, self.by_initials = dict(words), dict(short)


def _rows(kb: Any, text: str) -> list[dict[str, Any]]:
    result = kb.query(text, inferred=True, limit=LIMIT, timeout=300)
    if result.truncated:
        raise KBError(f"too many entities to match against (over {LIMIT:,} rows)")
    return result.rows


def index(kb: Any, skip: tuple[str, ...] = (), curated: bool = False, events: bool = True,
          points: bool = True) -> Index:
    """The candidate index of the store as it is now, leaving out the graphs in ``skip``, and with
    ``curated`` every import's graph (what an import matches to automatically: the modelled KB,
    so that an import means the same whatever else was imported); without ``events``, no events
    and dates (an import's exact-label lookup needs none); without ``points``, no place that is
    only a ckb:Place (the located points of events: an import matches countries and admin areas);
    remembered until the next write."""
    held = memo(kb, "match-candidates")
    key = "|".join(skip) + ("|curated" if curated else "") + ("" if events else "|no-events") + (
        "" if points else "|no-points")
    if held is not None and key in held:
        return held[key]
    built = build(kb, skip, curated, events, points)
    if held is not None:
        held[key] = built
    return built


class _Graphs:
    """The filter that keeps a graph variable to the graphs read."""

    def __init__(self, skip: tuple[str, ...], curated: bool) -> None:
        self.left_out = ", ".join(f"<{g}>" for g in (*skip, GRAPH_INFERRED, GRAPH_CLAIM_INDEX))
        self.curated = curated

    def __call__(self, var: str) -> str:
        test = f"{var} NOT IN ({self.left_out})"
        return test + (f' && !STRSTARTS(STR({var}), "{IMPORT_BASE}")' if self.curated else "")


def build(kb: Any, skip: tuple[str, ...] = (), curated: bool = False, events: bool = True,
          points: bool = True) -> Index:
    """Read the candidates from the store (a handful of fixed queries)."""
    ok = _Graphs(skip, curated)
    supers: dict[str, set[str]] = defaultdict(set)
    class_labels: dict[str, str] = {}
    # subClassOf+ (not *): a zero-length path with one end open makes the engine visit every
    # term of the store (20 s at 20,000 events instead of milliseconds)
    for r in _rows(kb, f"""SELECT ?c ?s ?l WHERE {{ ?c a <http://www.w3.org/2002/07/owl#Class>
            OPTIONAL {{ ?c <{RDFS}subClassOf>+ ?s FILTER(isIRI(?s)) }}
            OPTIONAL {{ ?c <{RDFS}label> ?l }} FILTER(isIRI(?c)) }}"""):
        c = str(r["c"])
        supers[c].add(c)
        if r.get("s") is not None:
            supers[c].add(str(r["s"]))
        if r.get("l") is not None:
            class_labels.setdefault(c, str(r["l"]))
    wanted = {c for c, up in supers.items() if any(root in up for _, root in KIND_ROOTS)}
    if not points:
        wanted.discard(str(CKB.Place))
    values = " ".join(f"<{c}>" for c in sorted(wanted))
    found: dict[str, Candidate] = {}
    for r in _rows(kb, f"""SELECT ?e ?t WHERE {{ VALUES ?t {{ {values} }} GRAPH ?g {{ ?e a ?t }}
            FILTER(isIRI(?e) && STRSTARTS(STR(?e), "{CKBR}") && {ok('?g')}) }}"""):
        e = str(r["e"])
        c = found.setdefault(e, Candidate(e, ""))
        c.types |= supers.get(str(r["t"]), {str(r["t"])})
    for c in found.values():
        c.kind = next((k for k, root in KIND_ROOTS if root in c.types), "actor")
    fields = " ".join(f"<{p}>" for p in NAME_FIELDS)
    for r in _rows(kb, f"""SELECT ?e ?p ?l WHERE {{ VALUES ?t {{ {values} }} VALUES ?p {{ {fields} }}
            GRAPH ?gt {{ ?e a ?t }} GRAPH ?g {{ ?e ?p ?l }}
            FILTER(isLiteral(?l) && {ok('?g')} && {ok('?gt')}) }}"""):
        c = found.get(str(r["e"]))
        if c is not None:
            name, kind = str(r["l"]), NAME_FIELDS[str(r["p"])]
            if c.names.get(name) != "label":
                c.names[name] = kind
            if getattr(r["l"], "language", None):
                c.langs[name] = r["l"].language
    _countries(kb, found, ok)
    if events:
        _events(kb, found, ok)
    return Index({i: c for i, c in found.items() if c.names}, dict(supers), class_labels)


def _countries(kb: Any, found: dict[str, Candidate], ok: _Graphs) -> None:
    """A place's country (itself, or what it is part of); an actor's (where it is based, from,
    associated with); and the country a name says ("Syrian military")."""
    place_country: dict[str, set[str]] = defaultdict(set)
    for r in _rows(kb, f"""SELECT ?p ?l WHERE {{ ?p <{CKB.partOfPlace}>* ?c . ?c a <{CKB.Country}> .
            GRAPH ?g {{ ?c <{RDFS}label> ?l }} FILTER({ok('?g')}) }}"""):
        place_country[str(r["p"])].add(country_key(str(r["l"])))
    for iri, keys in place_country.items():
        if iri in found:
            found[iri].countries |= keys
    for r in _rows(kb, f"""SELECT ?a ?p WHERE {{ VALUES ?rel {{ <{CKB.basedIn}> <{CKB.originCountry}>
            <{CKB.associatedCountry}> }} GRAPH ?g {{ ?a ?rel ?p }} FILTER({ok('?g')}) }}"""):
        if str(r["a"]) in found:
            found[str(r["a"])].countries |= place_country.get(str(r["p"]), set())
    known = {k for keys in place_country.values() for k in keys} | set(DEMONYMS.values())
    for c in found.values():
        if c.kind != "place":  # "Syrian military", "Russia" (a state is its own country)
            c.countries |= {k for n in c.names for k in known if f" {k} " in f" {' '.join(tokens(n))} "}


def _events(kb: Any, found: dict[str, Candidate], ok: _Graphs) -> None:
    """How many events an actor took part in, an outlet's claims support, or lie at a place (or
    within it), and their first and last dates: one aggregate row per entity, however many events."""
    dated = f"OPTIONAL {{ ?ev <{CKB.earliestDate}> ?d }}"
    head = "SELECT ?x (COUNT(DISTINCT ?ev) AS ?n) (MIN(STR(?d)) AS ?first) (MAX(STR(?d)) AS ?last) WHERE"
    for body in (
        f"""GRAPH ?g {{ {{ ?ev <{CKB.participant}> ?x }}
            UNION {{ ?ev <{CKB.hasParticipation}>/<{CKB.participationActor}> ?x }} }}""",
        f"""GRAPH ?g {{ ?ev <{CKB.place}> ?p }} ?p <{CKB.partOfPlace}>* ?x""",
        f"""GRAPH ?g {{ ?s <{PROV}wasAttributedTo> ?x }} ?claim <{PROV}wasDerivedFrom> ?s ;
            <{CKB.supports}> ?ev . ?ev <{CKB.earliestDate}> ?any""",
    ):
        for r in _rows(kb, f"{head} {{ {body} FILTER({ok('?g')}) {dated} }} GROUP BY ?x"):
            c = found.get(str(r["x"]))
            if c is None:
                continue
            c.count += int(r["n"])
            if r.get("first") is not None:
                c.first = min(c.first or str(r["first"])[:10], str(r["first"])[:10])
                c.last = max(c.last, str(r["last"])[:10])
