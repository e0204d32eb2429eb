"""An entity's neighbourhood as a person reads it: the actors, events and places next to it.

The raw neighbourhood (kb.views.browse.neighbourhood) draws every IRI one triple away: claims,
quotes, reified facts (``fact-...``), participation and relation nodes, each edge named by its
property. Here only actors, events and places are drawn; a relation node (a backing, an
alliance, a territorial control) becomes one edge named for the relation ("backs", "allied
with", "controls"), and each edge reads in words ("took part in", "at", "within"). Each kind of
link shows at most ``cap`` neighbours, with the number of the others, so the graph stays
readable whatever the entity's size.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from kb.derived.memo import memo
from kb.errors import KBError
from kb.namespaces import CKB, PREFIXES
from kb.terms import check_iri, iri_ref
from kb.views.facts import EDGES
from kb.views.naming import labels

KINDS = {"actor": str(CKB.Actor), "event": str(CKB.Event), "place": str(CKB.Place)}
MAX_LINKS = 2000  # links of one entity read; past it the counts say "at least"
# Statements pointing at the entity read, at most: a class has one per instance (300,000
# rdf:type at 300k events), none of them a link, so the engine must not read them all to
# find the few that are; past it the counts say "at least" as well.
MAX_INCOMING = 5000
# Properties read the other way round, in words: (event) ckb:participant (actor) is drawn
# actor "took part in" event.
INVERSE_WORDS = {str(CKB.participant): "took part in"}
WORDS = {str(CKB.place): "at", str(CKB.partOfPlace): "within", str(CKB.controlledPlace): "controls"}
# A relation node's roles: (role of the one, role of the other) -> words, from the actor graph's
# own table (kb.views.facts.EDGES), and territorial control.
ROLE_WORDS = {(a, b): label for _k, a, b, label, _s in EDGES} | {
    (str(CKB.controller), str(CKB.controlledPlace)): "controls"}
_VALUES = " ".join(f'({iri_ref(c)} "{k}")' for k, c in KINDS.items())
_PREFIXES = "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in PREFIXES.items() if p in ("rdf", "rdfs"))


def _classes(kb: Any) -> dict[str, str]:
    """Every class below an actor, event or place -> "actor", "event" or "place" (read once per
    store generation: the link queries then test a node's types with FILTER IN)."""
    held = memo(kb, "neighbour-classes")
    if held is not None and "classes" in held:
        return held["classes"]
    rows = kb.query(f"""{_PREFIXES}SELECT DISTINCT ?t ?kind WHERE {{
      VALUES (?k ?kind) {{ {_VALUES} }} ?t rdfs:subClassOf* ?k . FILTER(isIRI(?t)) }}""").rows
    classes = {str(r["t"]): str(r["kind"]) for r in rows}
    if held is not None:
        held["classes"] = classes
    return classes


def _kind_of(var: str, classes: dict[str, str]) -> str:
    """The pattern binding ?t to a class of ``var`` below an actor, event or place."""
    return f"{var} rdf:type ?t . FILTER(?t IN ({', '.join(iri_ref(c) for c in sorted(classes))}))"


def _links(kb: Any, iri: str) -> tuple[list[tuple[str, str, str, str]], bool]:
    """(source, words, target, kind of the other end) for each link of ``iri`` to an actor,
    event or place, directly or through one relation node; and whether MAX_LINKS cut them."""
    ref, classes = iri_ref(iri), _classes(kb)
    if not classes:
        return [], False
    direct = kb.query(f"""{_PREFIXES}SELECT DISTINCT ?x ?p ?out ?t WHERE {{
      {{ {ref} ?p ?x BIND(true AS ?out) }} UNION {{ {_incoming(ref, "?x ?p")} BIND(false AS ?out) }}
      FILTER(isIRI(?x) && ?x != {ref} && ?p != rdf:type)
      {_kind_of("?x", classes)}
    }}""", limit=MAX_LINKS, inferred=False)
    related = kb.query(f"""{_PREFIXES}SELECT DISTINCT ?x ?mine ?theirs ?rt ?t WHERE {{
      {_incoming(ref, "?rel ?mine")} FILTER(?mine != rdf:type)
      ?rel rdf:type ?rt . ?rt rdfs:subClassOf* <{CKB.Relation}> .
      ?rel ?theirs ?x . FILTER(isIRI(?x) && ?x != {ref} && ?theirs != rdf:type)
      {_kind_of("?x", classes)}
    }}""", limit=MAX_LINKS, inferred=False)
    names = labels(kb, {str(r["p"]) for r in direct.rows} | {str(r["rt"]) for r in related.rows})
    found: set[tuple[str, str, str, str]] = set()
    for r in related.rows:
        x, mine, theirs, kind = str(r["x"]), str(r["mine"]), str(r["theirs"]), classes[str(r["t"])]
        if (mine, theirs) in ROLE_WORDS:
            found.add((iri, ROLE_WORDS[(mine, theirs)], x, kind))
        elif (theirs, mine) in ROLE_WORDS:
            found.add((x, ROLE_WORDS[(theirs, mine)], iri, kind))
        else:  # another kind of relation: named for its class
            found.add((iri, names.get(str(r["rt"]), "related to").lower(), x, kind))
    # A relation node says it best: the data's shortcuts between the same two (org:hasMember
    # beside a membership, both directions of a sub-organization) would only repeat it.
    said = {frozenset((s, o)) for s, _w, o, _k in found}
    for r in direct.rows:
        x, p, kind = str(r["x"]), str(r["p"]), classes[str(r["t"])]
        if frozenset((iri, x)) in said:
            continue
        out = r["out"].toPython() if hasattr(r["out"], "toPython") else bool(r["out"])
        s, o = (iri, x) if out else (x, iri)
        if p in INVERSE_WORDS:
            found.add((o, INVERSE_WORDS[p], s, kind))
        else:
            found.add((s, WORDS.get(p) or names.get(p, p), o, kind))
    many = kb.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ {_incoming(ref, '?x ?p')} }}", inferred=False)
    cut = int(many.rows[0]["n"]) > MAX_INCOMING
    return sorted(found), bool(direct.truncated or related.truncated or cut)


def _incoming(ref: str, variables: str) -> str:
    """A subquery: the first MAX_INCOMING (+1, to tell a cut) statements ``?s ?p ref``."""
    return f"{{ SELECT {variables} WHERE {{ {variables} {ref} }} LIMIT {MAX_INCOMING + 1} }}"


def neighbours(kb: Any, iri: str, cap: int = 6) -> dict[str, Any]:
    """The actors, events and places linked to ``iri``, Cytoscape-ready: at most ``cap`` per
    kind of link (its words, direction and the other end's kind), the rest counted in "more"."""
    if cap < 1:
        raise KBError(f"cap must be at least 1, not {cap}")
    root = check_iri(iri)
    links, cut = _links(kb, root)
    names = labels(kb, {root} | {x for s, _w, o, _k in links for x in (s, o)})
    groups: dict[tuple[str, bool, str], list[tuple[str, str, str, str]]] = defaultdict(list)
    for link in links:
        s, words, o, kind = link
        groups[(words, s == root, kind)].append(link)
    nodes: dict[str, dict[str, Any]] = {root: {"id": root, "label": names.get(root, root), "kind": "focus"}}
    edges, more = [], []
    for (words, outgoing, kind), members in sorted(groups.items()):
        members.sort(key=lambda m: names.get(m[2] if outgoing else m[0], "").lower())
        for s, w, o, k in members[:cap]:
            other = o if outgoing else s
            nodes.setdefault(other, {"id": other, "label": names.get(other, other), "kind": k})
            edges.append({"id": f"{s} {w} {o}", "source": s, "target": o, "label": w, "kind": k})
        if len(members) > cap:
            more.append({"words": words, "outgoing": outgoing, "kind": kind,
                         "count": len(members) - cap, "atLeast": cut})
    return {"nodes": list(nodes.values()), "edges": edges, "more": more, "truncated": cut}
