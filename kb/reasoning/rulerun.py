"""Materialise what the ontology entails for any amount of data: kb.reasoning.rules run by pyoxigraph.

The OWL reasoner (HermiT, Pellet) works on the ontology and the modelled articles; the imported
datasets, hundreds of thousands of triples, get the same entailments from the rule set, which
the engine evaluates in a scratch in-memory store until a round adds nothing. The answer is
filtered as kb.reasoning.entail filters the reasoner's: named subjects, named classes, the
ontology's own properties, nothing already asserted.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field

import pyoxigraph as ox

from kb.errors import KBError
from kb.reasoning import rules

MAX_ROUNDS = 50  # a fixpoint of these rules is reached in a handful; more means a bug
_DERIVED = ox.NamedNode("urn:x-ckb:rules:derived")  # everything the rules added, round by round
_BUILTIN = ("http://www.w3.org/1999/02/22-rdf-syntax-ns#", "http://www.w3.org/2000/01/rdf-schema#",
            "http://www.w3.org/2002/07/owl#", "http://www.w3.org/2001/XMLSchema#")
_RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
_SUBCLASS = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#subClassOf")
_PROPERTY_TYPES = ("ObjectProperty", "DatatypeProperty", "TransitiveProperty", "SymmetricProperty",
                   "FunctionalProperty", "InverseFunctionalProperty")


@dataclass
class RuleOutcome:
    """What the rules entail beyond the input, and how they got there."""

    inferred: list[ox.Triple]
    rounds: int
    seconds: float
    clashes: list[str] = field(default_factory=list)  # "x: C1 and C2 are disjoint", at most five
    per_rule: dict[str, float] = field(default_factory=dict)  # CPU seconds in each rule


def _named(term: object) -> bool:
    """True for an IRI outside RDF, RDFS, OWL and XSD."""
    return isinstance(term, ox.NamedNode) and not term.value.startswith(_BUILTIN)


def entail(triples: Iterable[ox.Triple | ox.Quad], given: Iterable[ox.Triple] = ()) -> RuleOutcome:
    """Run the rules to a fixpoint over `triples` (plus `given`, e.g. a reasoner's answer).

    Returns the entailed triples that are neither in `triples` nor in `given`.
    """
    t0 = time.perf_counter()
    store = ox.Store()  # in memory: scratch space, never the KB's store
    default = ox.DefaultGraph()
    for source in (triples, given):  # everything known goes to the default graph
        store.extend(ox.Quad(t.subject, t.predicate, t.object, default) for t in source)
    per_rule = {name: 0.0 for name in rules.RULES}
    delta, rounds = None, 0  # the first round's news is everything
    new = ox.NamedNode(rules.NEW)
    while True:
        rounds += 1
        if rounds > MAX_ROUNDS:
            raise KBError(f"the reasoning rules found no fixpoint in {MAX_ROUNDS} rounds")
        for name, update in rules.updates(delta):
            t = time.process_time()  # CPU, not wall: the machine may be shared
            store.update(update)
            per_rule[name] += time.process_time() - t
        if next(iter(store.quads_for_pattern(None, None, None, new)), None) is None:
            break
        # what this round found is known from now on, and is the next round's news
        store.update(f"DROP SILENT GRAPH <{rules.DELTA}> ; ADD <{rules.NEW}> TO DEFAULT ; "
                     f"ADD <{rules.NEW}> TO <{_DERIVED.value}> ; MOVE <{rules.NEW}> TO <{rules.DELTA}>")
        delta = rules.DELTA
    out = _filtered(store) + _subsumptions(store)
    return RuleOutcome(out, rounds, time.perf_counter() - t0, _clashes(store), per_rule)


def _usable(store: ox.Store) -> list[ox.NamedNode]:
    """The ontology's own properties, their super-properties and inverses (entail.materialise's set)."""
    types = " ".join(f"owl:{t}" for t in _PROPERTY_TYPES)
    query = rules.PREFIXES + f"""SELECT DISTINCT ?q WHERE {{
      VALUES ?t {{ {types} }} ?p a ?t .
      {{ ?p (rdfs:subPropertyOf|owl:equivalentProperty|^owl:equivalentProperty)* ?q }}
      UNION {{ ?p owl:inverseOf|^owl:inverseOf ?q }} }}"""
    return [row[0] for row in store.query(query) if _named(row[0])]


def _filtered(store: ox.Store) -> list[ox.Triple]:
    """New triples on named subjects: types in named classes, values of the ontology's properties."""
    props = " ".join(str(p) for p in _usable(store))
    query = f"""SELECT ?s ?p ?o WHERE {{ GRAPH <{_DERIVED.value}> {{
      {{ BIND(<{_RDF_TYPE.value}> AS ?p) ?s ?p ?o . FILTER(isIRI(?o)) }}
      UNION {{ VALUES ?p {{ {props} }} ?s ?p ?o . FILTER(!isBlank(?o) && ?s != ?o) }}
      FILTER(isIRI(?s)) }} }}"""
    out = []
    for s, p, o in store.query(query):
        if _named(s) and (p != _RDF_TYPE or _named(o)):
            out.append(ox.Triple(s, p, o))
    return out


def _subsumptions(store: ox.Store) -> list[ox.Triple]:
    """Named classes under the named classes of their intersection definitions (not yet asserted)."""
    found = []
    for c, m in store.query(rules.SUBSUMPTIONS):
        t = ox.Triple(c, _SUBCLASS, m)
        if _named(c) and _named(m) and ox.Quad(c, _SUBCLASS, m, ox.DefaultGraph()) not in store:
            found.append(t)
    return found


def _clashes(store: ox.Store) -> list[str]:
    """Individuals the rules put in two disjoint classes (the data contradicts the ontology)."""
    return [f"{x}: {c1} and {c2} are disjoint" for x, c1, c2 in store.query(rules.CLASHES)]
