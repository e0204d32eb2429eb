# The claim index: per claim, the sources it rests on and the facets the claims explorer and the
# source pages count by, each one triple (ckb:restsOn, ckb:firstSpeaker, ckb:accordingTo,
# ckb:sourcing, ckb:concernsActor, ckb:concernsEventType). The store runs this after every write
# (kb.store.claimindex), over the KB's own graphs (USING, added there), into the index graph.
# It states nothing new: each triple follows from the data by the definitions in conflict.ttl.
PREFIX ckb: <https://w3id.org/conflict-kb/ontology#>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>

# rests on: the agent of the claim or of any statement upstream of it
INSERT { GRAPH ?index { ?claim ckb:restsOn ?agent } }
__USING__
WHERE {
  __INDEX__
  ?claim a ?kind . VALUES ?kind { ckb:Report ckb:Assessment ckb:Forecast ckb:Characterisation }
  ?claim (prov:wasDerivedFrom|prov:wasQuotedFrom|prov:hadPrimarySource)* ?statement .
  { ?statement prov:wasAttributedTo ?agent } UNION { ?statement prov:qualifiedAttribution/prov:agent ?agent }
  FILTER(isIRI(?agent))
} ;

# first speaker: the agent of a primary source; according to: the agent of the statement the
# claim itself derives from or quotes
INSERT { GRAPH ?index { ?claim ?facet ?agent } }
__USING__
WHERE {
  __INDEX__
  ?claim a ?kind . VALUES ?kind { ckb:Report ckb:Assessment ckb:Forecast ckb:Characterisation }
  { ?claim prov:hadPrimarySource ?statement . BIND(ckb:firstSpeaker AS ?facet) }
  UNION { ?claim prov:wasDerivedFrom|prov:wasQuotedFrom ?statement . BIND(ckb:accordingTo AS ?facet) }
  ?statement prov:wasAttributedTo ?agent .
  FILTER(isIRI(?agent))
} ;

# sourcing: own voice without an upstream statement; anonymous when every first speaker is unnamed
INSERT { GRAPH ?index { ?claim ckb:sourcing ?sourcing } }
__USING__
WHERE {
  __INDEX__
  { SELECT ?claim (IF(COUNT(DISTINCT ?up) = 0, ckb:OwnVoice,
        IF(COUNT(DISTINCT ?speaker) > 0 && COUNT(DISTINCT ?speaker) = COUNT(DISTINCT ?unnamed),
           ckb:AnonymousSourcing, ckb:NamedSourcing)) AS ?sourcing)
    WHERE {
      ?claim a ?kind . VALUES ?kind { ckb:Report ckb:Assessment ckb:Forecast ckb:Characterisation }
      OPTIONAL { ?claim prov:wasDerivedFrom|prov:wasQuotedFrom|prov:hadPrimarySource ?up }
      OPTIONAL { ?claim prov:hadPrimarySource ?primary . ?primary prov:wasAttributedTo ?speaker .
                 OPTIONAL { ?speaker a ckb:UnnamedAgent . BIND(?speaker AS ?unnamed) } }
    } GROUP BY ?claim }
} ;

# concerns: the actors a claim names, or that take a role in what it supports; the types of
# the events it supports
INSERT { GRAPH ?index { ?claim ckb:concernsActor ?actor } }
__USING__
WHERE {
  __INDEX__
  ?claim a ?kind . VALUES ?kind { ckb:Report ckb:Assessment ckb:Forecast ckb:Characterisation }
  { ?claim ckb:supports|ckb:about|ckb:mentions|ckb:characterises ?actor }
  UNION { ?claim ckb:supports ?thing . ?thing ?role ?actor .
          VALUES ?role { ckb:participant ckb:backer ckb:backedActor ckb:allyParty ckb:rivalParty
                         <http://www.w3.org/ns/org#member> <http://www.w3.org/ns/org#organization>
                         ckb:part ckb:whole ckb:leader ckb:ledActor ckb:loyalActor ckb:loyalToActor
                         ckb:controller } }
  ?actor a ?actorType . ?actorType rdfs:subClassOf* ckb:Actor .
} ;

INSERT { GRAPH ?index { ?claim ckb:concernsEventType ?eventType } }
__USING__
WHERE {
  __INDEX__
  ?claim a ?kind . VALUES ?kind { ckb:Report ckb:Assessment ckb:Forecast ckb:Characterisation }
  ?claim ckb:supports ?event . ?event a ?eventType . ?eventType rdfs:subClassOf* ckb:Event .
}
