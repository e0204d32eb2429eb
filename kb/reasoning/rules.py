"""The OWL 2 RL rules (W3C OWL 2 Profiles, section 4.3) the ontology needs, as SPARQL updates.

Each rule is one ``INSERT { head } WHERE { body }`` that pyoxigraph runs over the asserted
triples plus what earlier rounds inserted; kb.reasoning.rulerun repeats the set until no rule
adds a triple. The names are the specification's (cax-sco, prp-inv1, cls-int1, ...). Hierarchies
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

# the class and property hierarchies, with equivalence read both ways (cax-eqc1/2, prp-eqp1/2)
_SUPERCLASS = "(rdfs:subClassOf|owl:equivalentClass|^owl:equivalentClass)+"
_SUPERPROPERTY = "(rdfs:subPropertyOf|owl:equivalentProperty|^owl:equivalentProperty)+"

RULES: dict[str, str] = {
    # a member of a class is a member of its superclasses and equivalent classes
    "cax-sco": f"""INSERT {{ ?x a ?d }} WHERE {{
        ?c {_SUPERCLASS} ?d . FILTER(?c != ?d) ?x a ?c }}""",
    # a statement with a property holds for its super-properties and equivalent properties
    "prp-spo1": f"""INSERT {{ ?x ?q ?y }} WHERE {{
        ?p {_SUPERPROPERTY} ?q . FILTER(?p != ?q && isIRI(?q)) ?x ?p ?y }}""",
    # two-step property chains (owl:propertyChainAxiom ( p1 p2 ))
    "prp-spo2": """INSERT { ?x ?p ?z } WHERE {
        ?p owl:propertyChainAxiom ?l . ?l rdf:first ?p1 ; rdf:rest ?l2 .
        ?l2 rdf:first ?p2 ; rdf:rest rdf:nil . ?x ?p1 ?y . ?y ?p2 ?z }""",
    "prp-inv": """INSERT { ?y ?q ?x } WHERE {
        ?p owl:inverseOf|^owl:inverseOf ?q . FILTER(isIRI(?q)) ?x ?p ?y . FILTER(!isLiteral(?y)) }""",
    "prp-symp": """INSERT { ?y ?p ?x } WHERE { ?p a owl:SymmetricProperty . ?x ?p ?y }""",
    "prp-trp": """INSERT { ?x ?p ?z } WHERE { ?p a owl:TransitiveProperty . ?x ?p ?y . ?y ?p ?z }""",
    # domains and ranges of object and datatype properties (an annotation property's are not
    # semantic in OWL 2 DL, so HermiT ignores them and so do these rules)
    "prp-dom": """INSERT { ?x a ?c } WHERE {
        ?p rdfs:domain ?c . FILTER NOT EXISTS { ?p a owl:AnnotationProperty } ?x ?p ?y }""",
    "prp-rng": """INSERT { ?y a ?c } WHERE {
        ?p rdfs:range ?c . FILTER NOT EXISTS { ?p a owl:AnnotationProperty }
        ?x ?p ?y . FILTER(!isLiteral(?y)) }""",
    # an individual of every class of an intersection is of the intersection, and back
    "cls-int1": """INSERT { ?x a ?c } WHERE {
        ?c owl:intersectionOf ?l . ?l rdf:first ?first . ?x a ?first .
        FILTER NOT EXISTS { ?l rdf:rest*/rdf:first ?m . FILTER NOT EXISTS { ?x a ?m } } }""",
    "cls-int2": """INSERT { ?x a ?m } WHERE { ?c owl:intersectionOf/rdf:rest*/rdf:first ?m . ?x a ?c }""",
    "cls-uni": """INSERT { ?x a ?c } WHERE { ?c owl:unionOf/rdf:rest*/rdf:first ?m . ?x a ?m }""",
    # existential and value restrictions (owl:Thing as filler: cls-svf2)
    "cls-svf1": """INSERT { ?x a ?r } WHERE {
        ?r owl:someValuesFrom ?d ; owl:onProperty ?p . FILTER(?d != owl:Thing) ?x ?p ?y . ?y a ?d }""",
    "cls-svf2": """INSERT { ?x a ?r } WHERE {
        ?r owl:someValuesFrom owl:Thing ; owl:onProperty ?p . ?x ?p ?y }""",
    "cls-hv1": """INSERT { ?x ?p ?v } WHERE { ?r owl:hasValue ?v ; owl:onProperty ?p . ?x a ?r }""",
    "cls-hv2": """INSERT { ?x a ?r } WHERE { ?r owl:hasValue ?v ; owl:onProperty ?p . ?x ?p ?v }""",
    "cls-oo": """INSERT { ?y a ?c } WHERE { ?c owl:oneOf/rdf:rest*/rdf:first ?y }""",
    # pairwise disjointness and difference, stated once so that the rules below join on them
    "scm-adc": """INSERT { ?c1 owl:disjointWith ?c2 } WHERE {
        ?adc a owl:AllDisjointClasses ; owl:members ?l .
        ?l rdf:rest*/rdf:first ?c1 . ?l rdf:rest*/rdf:first ?c2 . FILTER(?c1 != ?c2) }""",
    "scm-dw": """INSERT { ?c2 owl:disjointWith ?c1 } WHERE { ?c1 owl:disjointWith ?c2 }""",
    "eq-diff2": """INSERT { ?y1 owl:differentFrom ?y2 } WHERE {
        ?all a owl:AllDifferent ; owl:members|owl:distinctMembers ?l .
        ?l rdf:rest*/rdf:first ?y1 . ?l rdf:rest*/rdf:first ?y2 . FILTER(?y1 != ?y2) }""",
    "eq-diff1": """INSERT { ?y2 owl:differentFrom ?y1 } WHERE { ?y1 owl:differentFrom ?y2 }""",
    # min cardinality 1 is an existential; 2 needs two values OWL knows to be different:
    # stated so, or members of disjoint classes (OWL has no unique-name assumption)
    "cls-minqc1": """INSERT { ?x a ?r } WHERE {
        { ?r owl:minQualifiedCardinality ?n ; owl:onClass ?d ; owl:onProperty ?p . ?x ?p ?y . ?y a ?d }
        UNION { ?r owl:minCardinality ?n ; owl:onProperty ?p . ?x ?p ?y }
        FILTER(?n = 1) }""",
    "cls-minqc2": """INSERT { ?x a ?r } WHERE {
        { ?r owl:minQualifiedCardinality ?n ; owl:onClass ?d ; owl:onProperty ?p .
          ?y1 a ?d . ?x ?p ?y1 . ?x ?p ?y2 . ?y2 a ?d }
        UNION { ?r owl:minCardinality ?n ; owl:onProperty ?p . ?x ?p ?y1 . ?x ?p ?y2 }
        FILTER(?n = 2 && ?y1 != ?y2)
        FILTER EXISTS { { ?y1 owl:differentFrom ?y2 }
                        UNION { ?y1 a ?c1 . ?c1 owl:disjointWith ?c2 . ?y2 a ?c2 } } }""",
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

def updates() -> list[tuple[str, str]]:
    """Each rule's name and its full SPARQL update text (with prefixes)."""
    return [(name, PREFIXES + body) for name, body in RULES.items()]
