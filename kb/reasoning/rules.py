"""The OWL 2 RL rules (W3C OWL 2 Profiles, section 4.3) the ontology needs, as SPARQL updates.

Each rule is one ``INSERT { head } WHERE { body }`` that pyoxigraph runs over the asserted
triples plus what earlier rounds inserted; kb.reasoning.rulerun repeats the set until no rule
adds a triple (semi-naive: a round joins what the last one found with everything known; the
schema, i.e. the ontology and a reasoner's classification, is fixed during a run: no rule
derives rdfs:subClassOf, rdfs:subPropertyOf, rdfs:domain, rdfs:range or owl:inverseOf).
The names are the specification's (cax-sco, prp-inv1, cls-int1, ...). Hierarchies
are walked with property paths (``rdfs:subClassOf+``), so one round climbs a whole hierarchy
instead of one step of it.

Beyond OWL 2 RL, one rule reads ``owl:minQualifiedCardinality 2`` (how the ontology defines
intra-coalition clashes): an individual with two ``onProperty`` values of the ``onClass`` that
are provably different (``owl:differentFrom``, ``owl:AllDifferent`` or members of disjoint
classes: OWL has no unique-name assumption) gets the restriction's type. Sound, and as complete
as the difference the data states; larger cardinalities are not materialised.

Not materialised (nothing in the ontology needs them; the equality test on the bundle would
show it if it did): owl:sameAs and its consequences (functional and inverse-functional
properties, keys), property chains longer than two, and datatype reasoning.
"""

from __future__ import annotations

PREFIXES = """\
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX owl: <http://www.w3.org/2002/07/owl#>
"""
# Semi-naive evaluation: the default graph holds everything known; DELTA what the last round
# found (the whole input in the first); each rule joins at least one of its data atoms with DELTA,
# so a round costs what is new rather than what is known. Heads go to NEW when not yet known.
DELTA = "urn:x-ckb:rules:delta"
NEW = "urn:x-ckb:rules:new"
_D = f"GRAPH <{DELTA}>"

# the class and property hierarchies, with equivalence read both ways (cax-eqc1/2, prp-eqp1/2)
_SUPERCLASS = "(rdfs:subClassOf|owl:equivalentClass|^owl:equivalentClass)+"
_SUPERPROPERTY = "(rdfs:subPropertyOf|owl:equivalentProperty|^owl:equivalentProperty)+"
_MEMBER = "rdf:rest*/rdf:first"

# name: (head, body); the head is one triple pattern
RULES: dict[str, tuple[str, str]] = {
    # a member of a class is a member of its superclasses and equivalent classes
    "cax-sco": ("?x a ?d", f"{_D} {{ ?x a ?c }} ?c {_SUPERCLASS} ?d . FILTER(?c != ?d)"),
    # a statement with a property holds for its super-properties and equivalent properties
    "prp-spo1": ("?x ?q ?y", f"?p {_SUPERPROPERTY} ?q . FILTER(?p != ?q && isIRI(?q)) {_D} {{ ?x ?p ?y }}"),
    # two-step property chains (owl:propertyChainAxiom ( p1 p2 ))
    "prp-spo2": ("?x ?p ?z", f"""?p owl:propertyChainAxiom ?l . ?l rdf:first ?p1 ; rdf:rest ?l2 .
        ?l2 rdf:first ?p2 ; rdf:rest rdf:nil .
        {{ {_D} {{ ?x ?p1 ?y }} ?y ?p2 ?z }} UNION {{ ?x ?p1 ?y . {_D} {{ ?y ?p2 ?z }} }}"""),
    "prp-inv": ("?y ?q ?x", f"""?p owl:inverseOf|^owl:inverseOf ?q . FILTER(isIRI(?q))
        {_D} {{ ?x ?p ?y }} FILTER(!isLiteral(?y))"""),
    "prp-symp": ("?y ?p ?x", f"?p a owl:SymmetricProperty . {_D} {{ ?x ?p ?y }}"),
    "prp-trp": ("?x ?p ?z", f"""?p a owl:TransitiveProperty .
        {{ {_D} {{ ?x ?p ?y }} ?y ?p ?z }} UNION {{ ?x ?p ?y . {_D} {{ ?y ?p ?z }} }}"""),
    # domains and ranges of object and datatype properties (an annotation property's are not
    # semantic in OWL 2 DL, so HermiT ignores them and so do these rules)
    "prp-dom": ("?x a ?c", f"""{{ SELECT ?p ?c WHERE {{ ?p rdfs:domain ?c .
        FILTER NOT EXISTS {{ ?p a owl:AnnotationProperty }} }} }} {_D} {{ ?x ?p ?y }}"""),
    "prp-rng": ("?y a ?c", f"""{{ SELECT ?p ?c WHERE {{ ?p rdfs:range ?c .
        FILTER NOT EXISTS {{ ?p a owl:AnnotationProperty }} }} }}
        {_D} {{ ?x ?p ?y }} FILTER(!isLiteral(?y))"""),
    # an individual of every class of an intersection is of the intersection (triggered by a new
    # membership in any of them), and back
    "cls-int1": ("?x a ?c", f"""?c owl:intersectionOf ?l . ?l {_MEMBER} ?new . {_D} {{ ?x a ?new }}
        FILTER NOT EXISTS {{ ?l {_MEMBER} ?m . FILTER NOT EXISTS {{ ?x a ?m }} }}"""),
    "cls-int2": ("?x a ?m", f"?c owl:intersectionOf/{_MEMBER} ?m . {_D} {{ ?x a ?c }}"),
    "cls-uni": ("?x a ?c", f"?c owl:unionOf/{_MEMBER} ?m . {_D} {{ ?x a ?m }}"),
    # existential and value restrictions (owl:Thing as filler: cls-svf2)
    "cls-svf1": ("?x a ?r", f"""?r owl:someValuesFrom ?d ; owl:onProperty ?p . FILTER(?d != owl:Thing)
        {{ {_D} {{ ?x ?p ?y }} ?y a ?d }} UNION {{ ?x ?p ?y . {_D} {{ ?y a ?d }} }}"""),
    "cls-svf2": ("?x a ?r", f"?r owl:someValuesFrom owl:Thing ; owl:onProperty ?p . {_D} {{ ?x ?p ?y }}"),
    "cls-hv1": ("?x ?p ?v", f"?r owl:hasValue ?v ; owl:onProperty ?p . {_D} {{ ?x a ?r }}"),
    "cls-hv2": ("?x a ?r", f"?r owl:hasValue ?v ; owl:onProperty ?p . {_D} {{ ?x ?p ?v }}"),
    "cls-oo": ("?y a ?c", f"?c owl:oneOf/{_MEMBER} ?y"),
    # pairwise disjointness and difference, stated once so that the rules below join on them
    "scm-adc": ("?c1 owl:disjointWith ?c2", f"""?adc a owl:AllDisjointClasses ; owl:members ?l .
        ?l {_MEMBER} ?c1 . ?l {_MEMBER} ?c2 . FILTER(?c1 != ?c2)"""),
    "scm-dw": ("?c2 owl:disjointWith ?c1", "?c1 owl:disjointWith ?c2"),
    "eq-diff2": ("?y1 owl:differentFrom ?y2", f"""?all a owl:AllDifferent ;
        owl:members|owl:distinctMembers ?l . ?l {_MEMBER} ?y1 . ?l {_MEMBER} ?y2 . FILTER(?y1 != ?y2)"""),
    "eq-diff1": ("?y2 owl:differentFrom ?y1", "?y1 owl:differentFrom ?y2"),
    # min cardinality 1 is an existential; 2 needs two values OWL knows to be different:
    # stated so, or members of disjoint classes (OWL has no unique-name assumption). Few
    # individuals have the onClass: these join on it over everything known, every round.
    "cls-minqc1": ("?x a ?r", """
        { ?r owl:minQualifiedCardinality ?n ; owl:onClass ?d ; owl:onProperty ?p . ?y a ?d . ?x ?p ?y }
        UNION { ?r owl:minCardinality ?n ; owl:onProperty ?p . ?x ?p ?y }
        FILTER(?n = 1)"""),
    "cls-minqc2": ("?x a ?r", """
        { ?r owl:minQualifiedCardinality ?n ; owl:onClass ?d ; owl:onProperty ?p .
          ?y1 a ?d . ?x ?p ?y1 . ?x ?p ?y2 . ?y2 a ?d }
        UNION { ?r owl:minCardinality ?n ; owl:onProperty ?p . ?x ?p ?y1 . ?x ?p ?y2 }
        FILTER(?n = 2 && ?y1 != ?y2)
        FILTER EXISTS { { ?y1 owl:differentFrom ?y2 }
                        UNION { ?y1 a ?c1 . ?c1 owl:disjointWith ?c2 . ?y2 a ?c2 } }"""),
}

# a named class defined as an intersection is a subclass of each named class in it (scm-int),
# reported where the asserted hierarchy does not already say so, as HermiT's classification does
SUBSUMPTIONS = PREFIXES + """
SELECT DISTINCT ?c ?m WHERE {
  ?c owl:equivalentClass|^owl:equivalentClass ?e . FILTER(isIRI(?c))
  ?e owl:intersectionOf ?l . ?l rdf:rest*/rdf:first ?m . FILTER(isIRI(?m) && ?m != ?c)
  FILTER NOT EXISTS { ?c rdfs:subClassOf+ ?m }
  FILTER NOT EXISTS { ?l rdf:rest*/rdf:first ?m2 . FILTER(isIRI(?m2) && ?m2 != ?m) ?m2 rdfs:subClassOf+ ?m }
}"""

# the inconsistencies the rules see: an individual in two disjoint classes (cax-dw, cax-adc)
CLASHES = PREFIXES + """
SELECT DISTINCT ?x ?c1 ?c2 WHERE {
  ?c1 owl:disjointWith ?c2 . FILTER(STR(?c1) < STR(?c2)) ?x a ?c1 . ?x a ?c2
} ORDER BY ?x LIMIT 5"""

def updates(delta: str | None = DELTA) -> list[tuple[str, str]]:
    """Each rule's name and SPARQL update, reading what is new from the graph `delta` (None: the
    default graph, i.e. everything, as in the first round)."""
    out = []
    for name, (head, body) in RULES.items():
        body = body.replace(_D, f"GRAPH <{delta}>" if delta else "")
        out.append((name, f"{PREFIXES}INSERT {{ GRAPH <{NEW}> {{ {head} }} }} WHERE {{ {body}\n"
                          f"  FILTER NOT EXISTS {{ {head} }} }}"))
    return out
