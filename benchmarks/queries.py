"""The benchmark queries, written against the vocabulary benchmarks.generate writes."""

from __future__ import annotations

PREFIXES = """\
PREFIX ckb: <https://w3id.org/conflict-kb/ontology#>
PREFIX ckbr: <https://w3id.org/conflict-kb/id/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX org: <http://www.w3.org/ns/org#>
"""

# name -> (what it asks, SPARQL). Each returns the same rows on every store.
QUERIES: dict[str, tuple[str, str]] = {
    "join5": (
        "every participant of every event, with the actor's label and the place's label "
        "(5 triple patterns, all rows returned)",
        PREFIXES + """SELECT ?event ?actor ?actorLabel ?placeLabel WHERE {
  ?event ckb:hasParticipation ?p .
  ?p ckb:participationActor ?actor .
  ?actor rdfs:label ?actorLabel .
  ?event ckb:place ?place .
  ?place rdfs:label ?placeLabel .
}""",
    ),
    "group_by": (
        "events and summed best fatality estimate per actor, top 20 (GROUP BY, COUNT, SUM)",
        PREFIXES + """SELECT ?actor (COUNT(DISTINCT ?event) AS ?events) (SUM(?best) AS ?deaths)
WHERE {
  ?event ckb:hasParticipation ?p ; ckb:fatalitiesBest ?best .
  ?p ckb:participationActor ?actor .
} GROUP BY ?actor ORDER BY DESC(?deaths) ?actor LIMIT 20""",
    ),
    "contains": (
        "case-insensitive substring search over labels and aliases "
        "(rdfs:label|skos:altLabel, FILTER CONTAINS(LCASE))",
        PREFIXES + """SELECT ?s ?label WHERE {
  ?s rdfs:label|skos:altLabel ?label .
  FILTER(CONTAINS(LCASE(STR(?label)), "hawks"))
}""",
    ),
    "path": (
        "for each top-level state armed force, how many units sit under it at any depth "
        "(org:subOrganizationOf+)",
        PREFIXES + """SELECT ?top (COUNT(?unit) AS ?units) WHERE {
  ?top a ckb:ArmedForce .
  FILTER NOT EXISTS { ?top org:subOrganizationOf ?up }
  ?unit org:subOrganizationOf+ ?top .
} GROUP BY ?top""",
    ),
}

QUERY_ORDER = ("join5", "group_by", "contains", "path")

# Run once straight after loading: for kb this includes starting its query worker process.
FIRST_QUERY = "SELECT ?s WHERE { ?s ?p ?o } LIMIT 1"
