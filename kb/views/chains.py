"""Chains of sources, walked breadth-first by pattern with depth and width caps.

A claim rests on source statements (prov:wasDerivedFrom / prov:wasQuotedFrom /
prov:hadPrimarySource), each attributed to an agent (prov:wasAttributedTo, and qualified
attributions with a role). Every step here is one bounded lookup over a VALUES block of
the current frontier, never a property path over the whole store, so a page costs the
same on a 1M-triple store as on the bundled article.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from rdflib import URIRef

from kb.derived.memo import memo, remember
from kb.namespaces import CKB
from kb.views import classes, pagerows
from kb.views.browse import labels, values_block
from kb.views.claims import CODING
from kb.views.lookups import reader

PROV = "http://www.w3.org/ns/prov#"
QUOTED, DERIVED, PRIMARY = PROV + "wasQuotedFrom", PROV + "wasDerivedFrom", PROV + "hadPrimarySource"
ATTRIBUTED, QUALIFIED = PROV + "wasAttributedTo", PROV + "qualifiedAttribution"
# Upstream links, most specific first: a quote is also a derivation.
UPSTREAM = (QUOTED, DERIVED, PRIMARY)
MAX_DEPTH = 8  # hops upstream or downstream; real chains have 2-4
MAX_WIDTH = 400  # nodes per level upstream of the roots (and per read); beyond it the walk stops and says so
MAX_PATHS = 4  # readable lines per claim
# The verb of a hop, from the role the downstream statement gives an agent (ontology individuals).
ROLE_VERBS = {str(CKB.InterviewingOutlet): "told", str(CKB.EchoedSource): "echoed by",
              str(CKB.CitedSource): "cited by"}


@dataclass
class Node:
    """A claim or source statement: its attribution, time, hedge and upstream links."""

    iri: str
    agents: list[str] = field(default_factory=list)
    roles: list[tuple[str, str]] = field(default_factory=list)  # (agent, role) qualified
    time_text: list[str] = field(default_factory=list)
    hedge_text: list[str] = field(default_factory=list)
    hedges: list[str] = field(default_factory=list)
    up: list[tuple[str, str]] = field(default_factory=list)  # (property, upstream node)


@dataclass
class Hop:
    """One step of a readable chain: ``verb agent (time) [hedge]``; the first has no verb."""

    verb: str
    agents: list[tuple[str, str]]  # (iri, label)
    time_text: str = ""
    hedge: str = ""
    statement: str = ""
    anonymous: bool = False


@dataclass
class Chain:
    """The readable chains of one claim, from first speaker to this article."""

    claim: str
    lines: list[list[Hop]] = field(default_factory=list)
    first_speakers: list[tuple[str, str]] = field(default_factory=list)
    outlets: list[tuple[str, str]] = field(default_factory=list)  # the hop just before the article
    own_voice: bool = False  # no upstream statement: the article speaks for itself
    anonymous_only: bool = False  # every first speaker is an unnamed agent
    truncated: bool = False


def walk(kb: Any, roots: list[str]) -> tuple[dict[str, Node], bool]:
    """Fetch the nodes reachable upstream from ``roots``, level by level, within the caps.
    Nodes read since the store's last write are reused (kb.derived.memo): chains share statements."""
    known = memo(kb, "chain-nodes")
    nodes: dict[str, Node] = {}
    frontier, truncated = sorted(set(roots)), False
    # Every root asked for is walked (a page shows each one's chain), and as many nodes a level
    # above them: a claim rests on one statement or a few; a level wider than that is capped.
    width = max(MAX_WIDTH, len(frontier))
    for _depth in range(MAX_DEPTH + 1):
        if not frontier:
            break
        if len(frontier) > width:
            frontier, truncated = frontier[:width], True
        fresh = [i for i in frontier if known is None or i not in known]
        read: dict[str, Node] = {}
        for start in range(0, len(fresh), MAX_WIDTH):  # one bounded read per MAX_WIDTH nodes
            read.update(_read_nodes(kb, fresh[start:start + MAX_WIDTH]))
        if known is not None:
            remember(read, known)
        for iri in frontier:
            nodes[iri] = read[iri] if iri in read else known[iri]  # type: ignore[index]
        frontier = sorted({up for iri in frontier for _p, up in nodes[iri].up if up not in nodes})
    else:
        truncated = truncated or bool(frontier)
    return nodes, truncated


def _listed(iris: Iterable[str]) -> str:
    """IRIs for ``FILTER(?p IN (...))``: beside a VALUES of nodes, a second VALUES of properties
    made Oxigraph server scan every triple of those properties (labels at 10M: 11.3 s, not 12 ms)."""
    return ", ".join(f"<{i}>" for i in iris)


def _read_nodes(kb: Any, frontier: list[str]) -> dict[str, Node]:
    """One level of the walk read from the store: each node's links, attribution, time and hedge."""
    nodes = {iri: Node(iri) for iri in frontier}
    props = (*UPSTREAM, ATTRIBUTED, str(CKB.timeText), str(CKB.hedgeText), str(CKB.hedge))
    with reader(kb) as r:
        rows = pagerows.walk_rows(r, frontier, props) if r else kb.query(f"""SELECT ?s ?p ?o ?role
          WHERE {{ VALUES ?s {{ {values_block(frontier)} }}
          {{ ?s ?p ?o FILTER(?p IN ({_listed(props)})) }}
          UNION {{ ?s <{QUALIFIED}> ?q . ?q <{PROV}agent> ?o . BIND(<{QUALIFIED}> AS ?p)
                   OPTIONAL {{ ?q <{PROV}hadRole> ?role }} }} }}""", inferred=False).rows
    for row in rows:
        node, prop, obj = nodes[str(row["s"])], str(row["p"]), row["o"]
        if prop in UPSTREAM and isinstance(obj, URIRef):
            if (prop, str(obj)) not in node.up:
                node.up.append((prop, str(obj)))
        elif prop == ATTRIBUTED and str(obj) not in node.agents:
            node.agents.append(str(obj))
        elif prop == QUALIFIED:
            node.roles.append((str(obj), str(row.get("role") or "")))
        elif prop == str(CKB.timeText):
            node.time_text.append(str(obj))
        elif prop == str(CKB.hedgeText):
            node.hedge_text.append(str(obj))
        elif prop == str(CKB.hedge):
            node.hedges.append(str(obj))
    for node in nodes.values():  # sorted: the engine's row order is no order
        node.up.sort(key=lambda pu: (UPSTREAM.index(pu[0]), pu[1]))
        node.time_text.sort()
        node.hedge_text.sort()
        node.hedges.sort()
        node.roles.sort()
    return nodes


def _paths(nodes: dict[str, Node], claim: str) -> list[list[tuple[str, str]]]:
    """Paths claim -> ... -> origin as (property into node, node); primary-source jumps only
    when no derivation path reaches that statement."""
    paths: list[list[tuple[str, str]]] = []

    def extend(path: list[tuple[str, str]]) -> None:
        if len(paths) >= MAX_PATHS:
            return
        node = nodes.get(path[-1][1])
        steps = [(p, u) for p, u in (node.up if node else []) if p != PRIMARY and u in nodes
                 and u not in {n for _, n in path}]
        if not steps or len(path) > MAX_DEPTH:
            paths.append(path)
            return
        for prop, up in steps:
            extend([*path, (prop, up)])

    extend([("", claim)])
    reached = {n for path in paths for _, n in path}
    for prop, up in nodes[claim].up if claim in nodes else []:
        # A primary source past the walk's caps was never read: no line can be drawn to it.
        if prop == PRIMARY and up in nodes and up not in reached and len(paths) < MAX_PATHS:
            paths.append([("", claim), (prop, up)])
    return paths


def _verb(node: Node, prop: str) -> str:
    """How ``node`` took its statement from upstream: told, echoed by, cited by, quoted by..."""
    for _agent, role in node.roles:
        if role in ROLE_VERBS:
            return ROLE_VERBS[role]
    return "quoted by" if prop == QUOTED else "reported by"


def source_chains(kb: Any, claims: list[str],
                  walked: tuple[dict[str, Node], bool] | None = None) -> dict[str, Chain]:
    """The readable chains of each claim: first speaker -> ... -> this article, with verbs."""
    if not claims:
        return {}
    nodes, truncated = walked or walk(kb, claims)
    agents = {a for n in nodes.values() for a in n.agents} | {
        a for n in nodes.values() for a, _ in n.roles}
    hedges = {h for n in nodes.values() for h in n.hedges}
    names = labels(kb, agents | hedges)
    unnamed = _unnamed(kb, agents)
    out: dict[str, Chain] = {}
    for claim in claims:
        chain = Chain(claim, truncated=truncated)
        if claim not in nodes:  # a walk passed in by the caller did not reach it
            chain.truncated = True
            out[claim] = chain
            continue
        for path in _paths(nodes, claim):
            if len(path) == 1:
                # Own voice only with no upstream link at all; links past the caps are not silence.
                chain.own_voice = not nodes[claim].up
                continue
            line: list[Hop] = []
            stmts = path[1:][::-1]  # origin first
            for i, (_prop, iri) in enumerate(stmts):
                node = nodes[iri]
                # the node took its statement from the one before it in the line, by the
                # property that leads from it upstream (stored with the upstream entry).
                verb = "" if i == 0 else _verb(node, stmts[i - 1][0])
                ags = [(a, names.get(a, a)) for a in node.agents]
                line.append(Hop(verb, ags, ", ".join(node.time_text), _hedge(node, names), iri,
                                bool(node.agents) and all(a in unnamed for a in node.agents)))
            claim_node = nodes[claim]
            line.append(Hop("quoted in" if path[1][0] == QUOTED else "reported in", [],
                            ", ".join(claim_node.time_text), _hedge(claim_node, names), claim))
            chain.lines.append(line)
            for pair in line[0].agents:
                if pair not in chain.first_speakers:
                    chain.first_speakers.append(pair)
            for pair in line[-2].agents:
                if pair not in chain.outlets:
                    chain.outlets.append(pair)
        chain.anonymous_only = bool(chain.first_speakers) and not chain.own_voice and all(
            a in unnamed for a, _ in chain.first_speakers)
        out[claim] = chain
    return out


def _hedge(node: Node, names: dict[str, str]) -> str:
    """The node's hedges in the vocabulary's words ("Reports:" and "reportedly" both read
    "reportedly"), else the source's own words; a dataset coder's judgement is no hedge."""
    kinds = [names.get(h, h) for h in node.hedges if h not in CODING]
    return ", ".join(kinds) if kinds or node.hedges else ", ".join(node.hedge_text)


def _unnamed(kb: Any, agents: set[str]) -> set[str]:
    """The agents typed ckb:UnnamedAgent (anonymous persons, unnamed outlets and groups)."""
    if not agents:
        return set()
    with reader(kb) as r:
        if r is not None:
            return pagerows.typed(r, agents, str(CKB.UnnamedAgent))
    rows = kb.query(f"SELECT DISTINCT ?a WHERE {{ VALUES ?a {{ {values_block(agents)} }} "
                    f"?a a <{CKB.UnnamedAgent}> }}").rows
    return {str(r["a"]) for r in rows}


def downstream_claims(kb: Any, agent: str) -> tuple[dict[str, int], bool]:
    """Claims resting on ``agent`` directly or anywhere upstream: claim -> hops from the agent,
    from the data alone (the source pages' bitmaps, kb.derived.bitmaps, answer the same faster)."""
    with reader(kb) as look:
        if look is not None:
            return _downstream_by_pattern(look, agent)
    ref = values_block([agent])
    # the agent written into each branch: with a VALUES outside the UNION, Oxigraph server read
    # every attribution first (1.8 s for an unnamed source at 1M)
    said = kb.query(f"""SELECT DISTINCT ?s WHERE {{
      {{ ?s <{ATTRIBUTED}> {ref} }} UNION {{ ?s <{QUALIFIED}> ?q . ?q <{PROV}agent> {ref} }} }}""",
                    inferred=False)
    rows = said.rows

    def below(frontier: list[str]) -> set[str]:
        found = kb.query(f"""SELECT DISTINCT ?d WHERE {{ VALUES ?u {{ {values_block(frontier)} }}
          ?d ?p ?u FILTER(?p IN ({_listed(UPSTREAM)})) }}""", inferred=False).rows
        return {str(r["d"]) for r in found}

    depth_of, truncated = _walk_down({str(r["s"]) for r in rows}, below)
    claims = _claims_among(kb, list(depth_of))
    # an outlet at 10M has 81,000 statements: past the row limit the page says "at least"
    return {c: depth_of[c] for c in claims}, truncated or bool(said.truncated)


def _downstream_by_pattern(look: Any, agent: str) -> tuple[dict[str, int], bool]:
    """downstream_claims by pattern lookups, with the same caps."""
    depth_of, truncated = _walk_down(pagerows.said_by(look, agent),
                                     lambda frontier: pagerows.downstream(look, frontier, UPSTREAM))
    return {c: depth_of[c] for c in pagerows.claims_among(look, depth_of)}, truncated


def _walk_down(start: Iterable[str], below: Callable[[list[str]], set[str]]) -> tuple[dict[str, int], bool]:
    """Breadth-first from ``start`` along ``below``, at most MAX_DEPTH levels of MAX_WIDTH nodes."""
    depth_of = dict.fromkeys(start, 0)
    frontier, truncated = sorted(depth_of), False
    for depth in range(1, MAX_DEPTH + 1):
        if not frontier:
            break
        if len(frontier) > MAX_WIDTH:
            frontier, truncated = frontier[:MAX_WIDTH], True
        frontier = sorted(below(frontier) - set(depth_of))
        depth_of.update(dict.fromkeys(frontier, depth))
    return depth_of, truncated


def _claims_among(kb: Any, iris: list[str]) -> set[str]:
    """Those of ``iris`` that are claims (of any subclass of ckb:Claim)."""
    found: set[str] = set()
    for start in range(0, len(iris), 300):
        part = iris[start:start + 300]
        # the classes as a filter: a second VALUES (of the classes) made Oxigraph server scan
        # every typed thing (1.2 s per 300 statements at 1M)
        kinds = ", ".join(f"<{c}>" for c in classes.below(kb, str(CKB.Claim)))
        rows = kb.query(f"""SELECT DISTINCT ?c WHERE {{ VALUES ?c {{ {values_block(part)} }}
          ?c a ?t FILTER(?t IN ({kinds})) }}""").rows
        found |= {str(r["c"]) for r in rows}
    return found


def supported(kb: Any, claims: list[str]) -> dict[str, list[str]]:
    """What each claim supports (ckb:supports), by pattern."""
    out: dict[str, list[str]] = defaultdict(list)
    with reader(kb) as r:
        if r is not None:
            for row in pagerows.supported_rows(r, claims):
                out[str(row["c"])].append(str(row["x"]))
            return out
    if claims:
        rows = kb.query(f"SELECT ?c ?x WHERE {{ VALUES ?c {{ {values_block(claims)} }} "
                        f"?c <{CKB.supports}> ?x }} ORDER BY ?c ?x").rows
        for r in rows:
            out[str(r["c"])].append(str(r["x"]))
    return out
