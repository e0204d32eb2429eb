"""Ranking candidates for a name: each feature measured, weighted and shown, never one opaque
string ratio. Score 0-100; ``match`` when the best is strong and clearly ahead of the next."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from .candidates import Candidate, Index
from .names import GENERIC, Reading, acronym, initials, readings, similarity, word_key

# The kinds a query of one kind may be matched to: state forces are governments' and armies'
# (ACLED codes both as inter 1); an outlet is never an armed actor, nor a place an actor.
COMPATIBLE = {
    "armed": {"armed", "government"},
    "government": {"government", "armed"},
    "person": {"person"},
    "group": {"group", "actor"},
    "actor": {"armed", "government", "person", "group", "actor", "outlet"},
    "outlet": {"outlet"},
    "place": {"place"},
    # a participant in an event, as a dataset names it: any actor but an outlet
    "party": {"armed", "government", "person", "group", "actor"},
}
WEIGHTS = {"name": 78.0, "type": 10.0, "country": 7.0, "country_conflict": -20.0, "dates": 2.0,
           "shared_events": 1.5}
MIN_OFFER = 25.0  # below this a candidate is noise (a word or two in common), never offered
MATCH_SCORE, MATCH_NAME, MATCH_MARGIN = 75.0, 0.8, 10.0
DATE_SLACK = timedelta(days=31)


@dataclass
class Query:
    """A name to match, with what else the source says about it."""

    text: str
    types: tuple[str, ...] = ()  # class IRIs the entity must be (or be compatible with)
    countries: frozenset[str] = frozenset()  # country keys
    dates: tuple[str, ...] = ()  # YYYY-MM-DD
    events: frozenset[str] = frozenset()  # dataset event ids (ACLED, UCDP) or KB ids
    limit: int = 5
    kinds: frozenset[str] = frozenset()  # kinds of entity allowed (an importer's; see COMPATIBLE)


@dataclass
class Scored:
    """One candidate for a query: its score, whether it is a sure match, and why."""

    candidate: Candidate
    score: float
    features: dict[str, float]
    matched_name: str
    rule: str
    match: bool = False
    notes: list[str] = field(default_factory=list)


def kind_of(type_iri: str, index: Index) -> str:
    """The kind of entity a class names (its own kind, or that of its nearest kind root)."""
    from .candidates import KIND_ROOTS

    ups = index.superclasses.get(type_iri, {type_iri})
    return next((k for k, root in KIND_ROOTS if root in ups), "")


def allowed(q_kinds: set[str], q_types: tuple[str, ...], c: Candidate) -> float | None:
    """The type feature: 1 if the candidate is of a requested type, 0.5 if only of a compatible
    kind, 0 if nothing was asked; None if it may not be offered at all."""
    if q_kinds and c.kind and not any(c.kind == k or c.kind in COMPATIBLE.get(k, ()) for k in q_kinds):
        return None  # the kind rules first: an outlet is an Actor, yet never a government's match
    if (q_types and c.types & set(q_types)) or c.kind in q_kinds:
        return 1.0
    if not q_kinds:
        return 0.0
    if any(c.kind in COMPATIBLE.get(k, ()) for k in q_kinds):
        return 0.5
    return None


def _name_score(reads: tuple[Reading, ...], c: Candidate) -> tuple[float, float, str, str]:
    """Best (label, alias) similarity of the query's readings to the candidate's names (each read
    the same way), the name and the rule behind it."""
    best = {"label": (0.0, "", ""), "alias": (0.0, "", "")}
    for name, field_ in c.names.items():
        for theirs in readings(name):
            for r in reads:
                sim = max(similarity(r.words, theirs.words), _without_country(r.words, theirs.words, c),
                          _contained(r.words, theirs.words, c))
                if acronym(" ".join(r.words), name) or acronym(name, " ".join(r.words)):
                    sim = max(sim, 0.9)
                sim = round(sim * r.weight * theirs.weight, 3)
                if sim > best[field_][0]:
                    best[field_] = (sim, name, r.rule if r.rule != "name" else theirs.rule)
    label, alias = best["label"], best["alias"]
    top = label if label[0] >= alias[0] else alias
    return label[0], alias[0], top[1], top[2]


def _without_country(a: tuple[str, ...], b: tuple[str, ...], c: Candidate) -> float:
    """The names compared without the candidate's own country ("Lebanese Hezbollah")."""
    a2 = tuple(w for w in a if w not in c.countries)
    b2 = tuple(w for w in b if w not in c.countries)
    return similarity(a2, b2) if a2 and b2 and (a2 != a or b2 != b) else 0.0


def _contained(a: tuple[str, ...], b: tuple[str, ...], c: Candidate) -> float:
    """The candidate's whole name inside the query's ("Lebanese Hezbollah", "Vladimir Putin"),
    when what it keeps is more than a country's name."""
    own = [w for w in b if w not in c.countries]
    if a == b or not own or len(b) >= len(a) or not set(b) <= set(a) or set(own) <= GENERIC:
        return 0.0
    return 0.85 if len(own) >= 2 or len(own[0]) >= 4 else 0.0


def _dates(q: Query, c: Candidate) -> float:
    if not q.dates or not c.first:
        return 0.0
    first, last = date.fromisoformat(c.first) - DATE_SLACK, date.fromisoformat(c.last) + DATE_SLACK
    return 1.0 if any(first <= date.fromisoformat(d) <= last for d in q.dates) else 0.0


def score_one(q: Query, reads: tuple[Reading, ...], q_kinds: set[str], c: Candidate,
              shared: int = 0) -> Scored | None:
    """Score one candidate; None if its kind may not be offered for the query."""
    type_value = allowed(q_kinds, q.types, c)
    if type_value is None:
        return None
    label, alias, matched, rule = _name_score(reads, c)
    name = max(label, round(alias * 0.97, 3))
    countries = set(q.countries) | {r.country for r in reads if r.country}
    country = 0.0
    if countries and c.countries:
        country = 1.0 if countries & c.countries else -1.0
    features = {"label": label, "alias": alias, "type": type_value, "country": country,
                "dates": _dates(q, c), "shared_events": float(shared)}
    total = (WEIGHTS["name"] * name + WEIGHTS["type"] * type_value
             + (WEIGHTS["country"] if country > 0 else WEIGHTS["country_conflict"] if country < 0 else 0)
             + WEIGHTS["dates"] * features["dates"] + WEIGHTS["shared_events"] * min(shared, 3))
    return Scored(c, round(max(0.0, min(100.0, total)), 1), features, matched, rule)


def rank(q: Query, index: Index, decided: str | None = None,
         linked: dict[str, int] | None = None) -> list[Scored]:
    """The best candidates for a query, best first; ``decided``: the entity a person matched
    this name to, which comes first as a sure match; ``linked``: how many of the query's events
    each entity is linked to (kb.matching.events)."""
    linked = linked or {}
    reads = readings(q.text)
    q_kinds = set(q.kinds) or {kind_of(t, index) for t in q.types} - {""}
    read = {r.kind for r in reads if r.kind}
    if not q_kinds or q_kinds == {"party"}:
        q_kinds |= read
    elif read and q_kinds == {"actor"}:
        # A generic column type, a name that says what it is ("Government of Bangladesh"): the
        # name's kind decides, so an outlet is never offered for a government or armed force.
        q_kinds = read
    pool = {i for r in reads for w in r.words for i in index.by_word.get(word_key(w), ())}
    pool |= {i for key in initials(q.text) for i in index.by_initials.get(key, ())}
    pool |= set(linked)
    if decided:
        pool.add(decided)
    scored = []
    for iri in sorted(pool):
        c = index.candidates.get(iri)
        s = c and score_one(q, reads, q_kinds, c, linked.get(iri, 0))
        # A candidate with no name in common and no shared event is noise whatever its type
        # (an outlet sharing "al" with a person): never offered.
        evidence = s and (max(s.features["label"], s.features["alias"]) > 0 or linked.get(iri))
        if s and ((s.score >= MIN_OFFER and evidence) or iri == decided):
            scored.append(s)
    for s in scored:
        if s.candidate.iri == decided:
            s.score, s.match, s.rule = 100.0, True, "decision"
            s.features["decision"] = 1.0
    scored.sort(key=lambda s: (-s.score, s.candidate.label, s.candidate.iri))
    if scored and not scored[0].match:
        top = scored[0]
        runner = scored[1].score if len(scored) > 1 else 0.0
        name = max(top.features["label"], top.features["alias"])
        top.match = top.score >= MATCH_SCORE and name >= MATCH_NAME and top.score - runner >= MATCH_MARGIN
    return scored[: max(q.limit, 0)]


def explain(s: Scored) -> str:
    """One line saying why: the name that matched and each feature that counted."""
    parts = [f"{s.rule}: {s.matched_name!r}" if s.matched_name else "no name in common"]
    f = s.features
    if f.get("decision"):
        parts.insert(0, "a person's decision")
    if f["type"]:
        parts.append("type " + ("matches" if f["type"] == 1 else "compatible"))
    if f["country"]:
        parts.append("same country" if f["country"] > 0 else "other country")
    if f["dates"]:
        parts.append("active then")
    if f["shared_events"]:
        parts.append(f"{int(f['shared_events'])} shared events")
    return f"{s.score:g} ({', '.join(parts)})"
