"""MELTT-style event matching (Matching Event Data by Location, Time and Type), as pure functions.

Two event records from different sources are a candidate pair when their dates lie within a time
window and their points within a distance window, and their types are compatible through the
ontology's alignments (ACLED and UCDP codes to ckb classes, then the class hierarchy). Each pair is
scored from its time gap, distance, type agreement, shared actors and fatality counts, with one
line of explanation per part; then each record is linked to at most one record of each other
source, best score first (as MELTT does), so no record is claimed twice.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

EARTH_KM = 6371.0088
_WORD = re.compile(r"[^\W\d_]{3,}")
# words that name no one in particular: shared by many unrelated actors' names
_GENERIC = frozenset({"the", "and", "for", "forces", "force", "group", "groups", "supporters", "unidentified",
                      "armed", "military", "police", "government", "state", "militia", "party", "national"})


@dataclass(frozen=True)
class MatchParams:
    """The windows and the lowest score linked."""

    days: float = 2.0  # time window: the gap between the two records' date bounds
    km: float = 15.0  # distance window for located events
    coarse_km: float = 60.0  # when either point stands for a larger area (a district's centre)
    min_score: float = 0.55

    def describe(self) -> str:
        """The method and its parameters, as stored with every link."""
        return (f"MELTT-style matching v1: time window {self.days:g} d, distance window {self.km:g} km "
                f"({self.coarse_km:g} km where a location is coarse), event types compatible through the "
                f"ontology's alignments, shared actors and fatalities scored; at most one link per record "
                f"and other source, best first; lowest score {self.min_score:g}")


@dataclass(frozen=True)
class Record:
    """One source's coding of an event, as matching sees it."""

    iri: str
    source: str  # "ACLED", "UCDP" or the graph of an article's events
    earliest: date
    latest: date
    lat: float | None = None
    lon: float | None = None
    coarse: bool = False  # the point stands for an area, not the event's place
    types: frozenset[str] = frozenset()  # the ckb classes its type and codes align to
    actors: frozenset[str] = frozenset()  # actor IRIs
    names: tuple[str, ...] = ()  # the actors as the source names them
    fatalities: int | None = None
    country: str = ""  # as the record spells it: a word every actor of a country's data shares


@dataclass
class Link:
    """A scored, explained candidate pair."""

    a: str
    b: str
    score: float
    reasons: list[str] = field(default_factory=list)


def distance_km(a: Record, b: Record) -> float | None:
    """Great-circle distance between two records' points (None when either has none)."""
    if a.lat is None or b.lat is None or a.lon is None or b.lon is None:
        return None
    p1, p2 = math.radians(a.lat), math.radians(b.lat)
    dp, dl = p2 - p1, math.radians(b.lon - a.lon)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_KM * math.asin(min(1.0, math.sqrt(h)))


def gap_days(a: Record, b: Record) -> int:
    """Days between the two records' date bounds (0 when they overlap)."""
    return max(0, (b.earliest - a.latest).days, (a.earliest - b.latest).days)


def candidates(records: list[Record], params: MatchParams) -> Iterator[tuple[Record, Record]]:
    """Pairs from different sources within the time window (a sweep over the records by date)."""
    ordered = sorted(records, key=lambda r: (r.earliest, r.iri))
    reach = math.floor(params.days)
    for i, a in enumerate(ordered):
        for b in ordered[i + 1:]:
            if (b.earliest - a.latest).days > reach:
                break
            if b.source != a.source:
                yield a, b


def compatible(a: Record, b: Record, ancestors: dict[str, frozenset[str]]) -> tuple[str, str] | None:
    """A pair of aligned classes, one an ancestor-or-self of the other, if the types are compatible."""
    for ta in sorted(a.types):
        for tb in sorted(b.types):
            if ta in ancestors.get(tb, frozenset({tb})) or tb in ancestors.get(ta, frozenset({ta})):
                return ta, tb
    return None


def words(names: tuple[str, ...], country: str = "") -> frozenset[str]:
    """The distinctive words of actor names: not the period, generic words or the event's country.

    'JSS: Parbatya Chattagram Jana Samhati Samiti' and 'JSS/SB' share jss; 'Civilians (Bangladesh)'
    is civilians; 'Government of Bangladesh' has no distinctive word in Bangladesh.
    """
    out: set[str] = set()
    for name in names:
        out |= set(_WORD.findall(re.sub(r"\(\d[^)]*\)", " ", name).lower()))
    return frozenset(out - _GENERIC - set(_WORD.findall(country.lower())))


def score(a: Record, b: Record, params: MatchParams, ancestors: dict[str, frozenset[str]],
          label: dict[str, str]) -> Link | None:
    """The pair's score and reasons, or None when it falls outside a window or the types clash."""
    gap = gap_days(a, b)
    if gap > params.days:
        return None
    dist = distance_km(a, b)
    window = params.coarse_km if a.coarse or b.coarse else params.km
    if dist is None or dist > window:
        return None
    types = compatible(a, b, ancestors)
    if types is None:
        return None
    reasons: list[str] = []
    span = max((a.latest - a.earliest).days, (b.latest - b.earliest).days) + 1
    s_time = (1 - gap / (params.days + 1)) * min(1.0, 3 / span)  # wide bounds say little
    reasons.append(f"dates {'overlap' if gap == 0 else f'{gap} day(s) apart'}"
                   + (f" (bounds up to {span} days wide)" if span > 3 else ""))
    s_place = 1 - dist / (window + 1)
    reasons.append(f"{dist:.1f} km apart (window {window:g} km)")
    s_type = 1.0 if types[0] == types[1] else 0.6
    reasons.append(f"types compatible: {label.get(types[0], types[0])} ~ {label.get(types[1], types[1])}")
    shared = a.actors & b.actors
    wa, wb = words(a.names, a.country), words(b.names, b.country)
    common = wa & wb
    if shared:
        s_actor = 1.0
        reasons.append(f"{len(shared)} actor(s) in common")
    elif common:
        s_actor = len(common) / min(len(wa), len(wb))
        reasons.append(f"actor names share {', '.join(sorted(common))}")
    else:
        s_actor = 0.0
        reasons.append("no actor in common")
    if a.fatalities is not None and b.fatalities is not None:
        s_dead = 1 - abs(a.fatalities - b.fatalities) / (max(a.fatalities, b.fatalities) + 1)
        reasons.append(f"fatalities {a.fatalities} and {b.fatalities}")
    else:
        s_dead = 0.5
    total = 0.3 * s_time + 0.3 * s_place + 0.15 * s_type + 0.15 * s_actor + 0.1 * s_dead
    first, second = sorted((a.iri, b.iri))
    return Link(first, second, round(total, 3), reasons)


def match(records: list[Record], params: MatchParams, ancestors: dict[str, frozenset[str]],
          label: dict[str, str]) -> tuple[list[Link], int]:
    """The links (best first, one per record and other source) and how many pairs were candidates."""
    by_iri = {r.iri: r for r in records}
    scored: list[Link] = []
    n = 0
    for a, b in candidates(records, params):
        n += 1
        link = score(a, b, params, ancestors, label)
        if link is not None and link.score >= params.min_score:
            scored.append(link)
    scored.sort(key=lambda k: (-k.score, k.a, k.b))
    taken: set[tuple[str, str]] = set()  # (record, other source) already linked
    out: list[Link] = []
    for link in scored:
        sa, sb = by_iri[link.a].source, by_iri[link.b].source
        if (link.a, sb) in taken or (link.b, sa) in taken:
            continue
        taken |= {(link.a, sb), (link.b, sa)}
        out.append(link)
    return out, n
