"""What a person, outlet or unnamed source said: the claims resting on it, with their quotes.

A source's page leads with its words, not with the claims about it: the claims attributed to it
and those resting on it further upstream (carried by later outlets), each with its quote, its
hedging, what it supports and its one-line chain. The claim index answers when it is in memory
(kb.derived.bitmaps); otherwise a walk bounded like kb.views.chains finds them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kb.derived import bitmaps as claimbitmaps
from kb.namespaces import CKB
from kb.views.browse import labels
from kb.views.chains import MAX_DEPTH, UPSTREAM
from kb.views.look import Look, looking
from kb.views.lookups import RDF_TYPE
from kb.views.provenance import ClaimView, claim_views

PROV = "http://www.w3.org/ns/prov#"
ORG = "http://www.w3.org/ns/org#"
MAX_SPEAKERS = 20  # members and spokespeople whose words reach the page of their organisation
AGENT_CLASS = PROV + "Agent"
SHOWN = 6  # claims shown with their quotes
MAX_STATEMENTS = 300  # statements attributed to one source that the bounded walk reads
MAX_FRONTIER = 200  # nodes per level of the walk downstream


@dataclass
class Said:
    """The claims resting on a source: a few with their quotes, and how many in all."""

    total: int
    direct: int  # attributed to it (its own words in this KB)
    at_least: bool  # the bounded walk stopped at a cap: "at least" total
    claims: list[ClaimView] = field(default_factory=list)
    hops: dict[str, int] = field(default_factory=dict)  # claim -> 0 own, >0 carried by others
    via: dict[str, str] = field(default_factory=dict)  # claim -> the member or spokesperson who said it


def is_source(look: Look, types: list[str]) -> bool:
    """Whether the types make the thing an agent that can say something."""
    return any(look.first_of(types, c) for c in (AGENT_CLASS, str(CKB.Actor), str(CKB.UnnamedAgent)))


def said(kb: Any, iri: str, shown: int = SHOWN) -> Said | None:
    """The claims resting on the source ``iri`` or on its members and spokespeople (org:memberOf,
    ckb:affiliatedWith), quotes first; None if it is not a source or nothing rests on it."""
    bitmaps = claimbitmaps.ready(kb)
    found: dict[str, tuple[int, str]] = {}  # claim -> (hops, the speaker it rests on)
    counts: dict[str, tuple[int, int]] = {}  # speaker -> (claims, own claims) from the index
    cut = False
    with looking(kb) as look:
        if not is_source(look, look.types(iri)):
            return None
        members = dict.fromkeys(m for p in (ORG + "memberOf", str(CKB.affiliatedWith))
                                for m in look.subjects(p, iri, MAX_SPEAKERS)[0])
        speakers = [iri, *list(members)[:MAX_SPEAKERS]]
        for speaker in speakers if bitmaps is None else []:
            hops, more = _resting_on(look, speaker, shown * 4)
            found.update({c: (h, speaker) for c, h in hops.items() if c not in found})
            cut |= more
    for speaker in speakers if bitmaps is not None else []:
        first, n, own = bitmaps.resting_on(speaker, shown * 4, 0)
        found.update({c: (h, speaker) for c, h in first.items() if c not in found})
        counts[speaker] = (n, own)
    if len(speakers) == 1 and counts:  # the index counts one agent's claims exactly
        total, direct = counts[iri]
    else:  # with its members: those found here (at least, if any speaker has more)
        total, direct = len(found), sum(1 for h, _s in found.values() if h == 0)
        cut |= any(n > shown * 4 for n, _o in counts.values())
    if not found:
        return None
    names = labels(kb, [*found, *speakers])
    order = sorted(found, key=lambda c: (found[c][1] != iri, found[c][0] > 0, names.get(c, c).lower(), c))
    views = claim_views(kb, dict.fromkeys(order[:shown * 4], False))
    # the claims with a quote first: they show what the source said, in its words
    views.sort(key=lambda v: (not v.quotes, found[v.iri][1] != iri, found[v.iri][0] > 0,
                              v.label.lower(), v.iri))
    views = views[:shown]
    return Said(total, direct, cut, views, {v.iri: found[v.iri][0] for v in views},
                {v.iri: names[found[v.iri][1]] for v in views if found[v.iri][1] != iri})


def _resting_on(look: Look, agent: str, wanted: int) -> tuple[dict[str, int], bool]:
    """Claims resting on ``agent``: its statements, then what quotes or derives from them, level
    by level (as kb.views.chains walks, with smaller caps: a lookup on disk costs ~150 us), until
    ``wanted`` claims are found or nothing is left; and whether a cap cut the walk."""
    claim = look.subclasses(str(CKB.Claim))
    start, cut = look.attributed(agent, MAX_STATEMENTS)
    depth_of = dict.fromkeys(start, 0)
    look.ahead(start, [RDF_TYPE])  # remotely one query per level, not one per node
    found = {n: 0 for n in start if claim & set(look.types(n))}
    frontier = sorted(start)
    for depth in range(1, MAX_DEPTH + 1):
        if not frontier or (len(found) >= wanted and cut):
            break
        if len(frontier) > MAX_FRONTIER:
            frontier, cut = frontier[:MAX_FRONTIER], True
        look.behind(UPSTREAM, frontier)
        below = {d for u in frontier for p in UPSTREAM for d in look.subjects(p, u, MAX_FRONTIER)[0]}
        frontier = sorted(below - set(depth_of))
        depth_of.update(dict.fromkeys(frontier, depth))
        look.ahead(frontier, [RDF_TYPE])
        found |= {n: depth for n in frontier if claim & set(look.types(n))}
    return found, cut


__all__ = ["Said", "is_source", "said"]
