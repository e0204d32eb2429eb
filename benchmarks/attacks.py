"""The attacks of issue 19 that are texts or bodies: shared by the abuse tests and benchmarks.abuse_serve."""

from __future__ import annotations

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"


def _concat(var: str, into: str, times: int = 10) -> str:
    return f"BIND(CONCAT({', '.join([var] * times)}) AS {into})"


def _tower(seed: str, levels: int, last: str) -> str:
    """BINDs that multiply ``seed``'s length by 10 ``levels`` times, ending in ``last``."""
    names = [f"?l{i}" for i in range(levels)] + [last]
    binds = [f'BIND({seed} AS {names[0]})']
    binds += [_concat(names[i], names[i + 1]) for i in range(levels)]
    return " ".join(binds)


# The issue's memory queries (each would need gigabytes, even on a store of ~45 triples).
MEMORY_QUERIES = {
    # nested CONCAT to 10^9 characters
    "concat": f'SELECT (STRLEN(?z) AS ?n) WHERE {{ {_tower(chr(34) + "a" * 10 + chr(34), 8, "?z")} }}',
    # a REPLACE that squares its input: 10^5 characters, then 10^10
    "replace": 'SELECT (STRLEN(?z) AS ?n) WHERE { '
               + _tower('"' + "b" * 10 + '"', 4, "?a")
               + ' BIND(REPLACE(?a, "", ?a) AS ?z) }',
    # ORDER BY over a five-way cross join (80 million rows to sort)
    "order-by": "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . ?m ?n ?o } ORDER BY ?a ?o",
    # one 100 MB literal in the answer
    "literal": f'SELECT ?z WHERE {{ {_tower(chr(34) + "d" * 10 + chr(34), 7, "?z")} }}',
}


def billion_laughs(levels: int, fanout: int = 10) -> bytes:
    """RDF/XML whose one literal expands to fanout ** levels copies of 'lol' (under 800 bytes)."""
    names = "abcdefghijklmnop"
    entities = ['<!ENTITY a "lol">'] + [
        f'<!ENTITY {names[i]} "{f"&{names[i - 1]};" * fanout}">' for i in range(1, levels + 1)]
    return (f'<?xml version="1.0"?>\n<!DOCTYPE r:RDF [\n{chr(10).join(entities)}\n]>\n'
            f'<r:RDF xmlns:r="{RDF}" xmlns:x="http://e/">'
            f'<r:Description r:about="http://e/b"><x:p>&{names[levels]};</x:p>'
            '</r:Description></r:RDF>\n').encode()


def heavy_text(n: int, sent: int) -> str:
    """A five-way cross join, new for every (attacker, request): never known to be cheap or heavy."""
    return (f"SELECT (COUNT(*) AS ?n) WHERE {{ ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . "
            f"?m ?o ?q FILTER(?a != <urn:attacker:{n}:{sent}>) }}")
