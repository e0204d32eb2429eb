"""The claim index of a KB on a SPARQL server, built beside the client by the same rules, in chunks.

The embedded store runs kb.derived.claimindex's CONSTRUCT rules over everything at once; a
server would have to answer each rule over every claim in one response (and Virtuoso caps
answers at its ResultSetMaxRows). Here the claims are listed first, in pages, and each rule runs
for one chunk of them at a time (``VALUES ?c { ... }`` before the rule's own pattern), its
N-Triples written to a file; the claims' labels come along, so that kb.derived.bitmaps needs no
store of its own to order them. The files go to the KB's sidecar on this machine
(kb.derived.sidecar.remote_folder).

Which store state the index was built from: the graph registry's entries (kb.store.registry),
which every write through the KB rewrites with a new token, name it. The index is current while
the registry holds the entries it was built from; a write through the KB (by this client or
another) makes it stale within the registry's read interval (GRAPHS_TTL). A write made on the
server directly is not seen, as it is not in the counts, until 'ckb index --counts' recounts.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from kb.derived import claimindex
from kb.store import registry
from kb.terms import iri_ref

CLAIM_PAGE = 10_000  # claims listed per request: below Virtuoso's usual ResultSetMaxRows
CHUNK = 400  # claims per rule request: the VALUES block stays well inside the query length limit
LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
# The claims' labels (kb.derived.bitmaps orders the claims by them): read along with the index.
LABELS = ("CONSTRUCT { ?c rdfs:label ?l } WHERE { ?c rdfs:label ?l . FILTER(isLiteral(?l)) "
          f"{claimindex.KINDS_PATTERN} }}")


def is_remote(kb: Any) -> bool:
    """Whether ``kb`` is on a SPARQL server (its backend keeps the graph registry)."""
    return hasattr(getattr(kb, "backend", None), "counts")


def marker(kb: Any) -> str:
    """The stamp an index built from the store as it is now carries: the rules' fingerprint and
    a digest of the registry's entries (each graph's size, count time and write token)."""
    return claimindex.RULES_VERSION + registry.digest(kb.backend.counts())


def _rules(kb: Any) -> dict[str, str]:
    """The rules as the server gets them: class paths written as lists (kb.views.classes), as
    Virtuoso's zero-or-more path loses rows in joins; the claims of one chunk bound first."""
    from kb.views import classes

    out = {}
    rules = {**claimindex.RULES, "labels": LABELS, "accordingTo": ACCORDING, "fromDocument": DOCUMENTS,
             "concernsEventType": EVENT_TYPES, "concernsActor": NAMED_ACTORS}
    for name, rule in rules.items():
        # the outlets by full IRI, so that the class-list rewrite can read them
        rule = rule.replace(claimindex.OUTLETS, ", ".join(iri_ref(str(claimindex.CKB) + c.split(":")[1])
                                                          for c in claimindex.OUTLETS.split(", ")))
        out[name] = classes.listed(kb, claimindex.PREFIXES + rule)
    return out


# The most specific event types as the rule states them, but decided here: Virtuoso took minutes
# per chunk over the rule's FILTER NOT EXISTS with the class pairs written out. The classes at or
# below ckb:Event are tested here too: written as VALUES ?t { ... }, the list of classes, the
# engines started from every event of those classes, not from the chunk's claims (Oxigraph
# server: more than 16 minutes for this rule at 1M).
EVENT_TYPES = ("SELECT DISTINCT ?c ?ev ?t WHERE { ?c ckb:supports ?ev . ?ev a ?t . "
               f"{claimindex.KINDS_PATTERN} }}")


def _most_specific(kb: Any, rows: list[dict[str, Any]]) -> bytes:
    """``?c ckb:concernsEventType ?t`` for each type ?t at or below ckb:Event of an event ?c
    supports that no other type of that event is strictly below (the rule concernsEventType)."""
    from kb.views import classes

    event = set(classes.below(kb, str(claimindex.CKB.Event)))
    rows = [r for r in rows if str(r["t"]) in event]
    strict = set(classes.strictly_below(kb, str(claimindex.CKB.Event)))
    types: dict[str, set[str]] = {}
    for r in rows:
        types.setdefault(str(r["ev"]), set()).add(str(r["t"]))
    out = set()
    for r in rows:
        t, mine = str(r["t"]), types[str(r["ev"])]
        if not any((sub, t) in strict for sub in mine if sub != t):
            out.add(f"{iri_ref(str(r['c']))} <{claimindex.CKB}concernsEventType> {iri_ref(t)} .\n")
    return "".join(sorted(out)).encode("utf-8")


# The actors a claim names, their classes tested beside the client: Virtuoso joined the list of
# actor classes first, minutes per chunk.
NAMED_ACTORS = ("SELECT DISTINCT ?c ?v ?at WHERE { "
                "?c ckb:supports|ckb:about|ckb:mentions|ckb:characterises ?v . "
                f"?v a ?at . {claimindex.KINDS_PATTERN} }}")


def _actors(kb: Any, rows: list[dict[str, Any]]) -> bytes:
    """``?c ckb:concernsActor ?v`` where ?v has a class at or below ckb:Actor (the rule concernsActor)."""
    from kb.views import classes

    actor = set(classes.below(kb, str(claimindex.CKB.Actor)))
    out = {f"{iri_ref(str(r['c']))} <{claimindex.CKB}concernsActor> {iri_ref(str(r['v']))} .\n"
           for r in rows if str(r["at"]) in actor and not str(r["v"]).startswith("_:")}
    return "".join(sorted(out)).encode("utf-8")


# The outlet cited, its class tested here (as EVENT_TYPES: a list of classes made the engine start
# from every member of them).
ACCORDING = ("SELECT DISTINCT ?c ?a ?t WHERE { ?c prov:wasDerivedFrom|prov:wasQuotedFrom ?s . "
             f"?s prov:wasAttributedTo ?a . ?a a ?t . {claimindex.KINDS_PATTERN} }}")


def _outlets(kb: Any, rows: list[dict[str, Any]]) -> bytes:
    """``?c ckb:accordingTo ?a`` where ?a has a class at or below an outlet class (the rule accordingTo)."""
    from kb.views import classes

    outlet = {c for top in claimindex.OUTLETS.split(", ")
              for c in classes.below(kb, str(claimindex.CKB) + top.split(":")[1])}
    out = {f"{iri_ref(str(r['c']))} <{claimindex.CKB}accordingTo> {_term(r['a'])} .\n"
           for r in rows if str(r["t"]) in outlet}
    return "".join(sorted(out)).encode("utf-8")


# The imported file a claim came in with, else its quote's document (the rule fromDocument), decided
# here from the claim's graphs and quotes: the rule's GRAPH ?g { ?c a ?k . ?d a ckb:ImportedFile }
# made Oxigraph server pair every claim with every file of a graph, about 25 minutes at 1M.
DOCUMENTS = ("SELECT ?c ?g ?d WHERE { { GRAPH ?g { ?c a ?k0 } } UNION "
             f"{{ ?c ckb:hasQuote ?q . ?q ckb:inDocument ?d }} {claimindex.KINDS_PATTERN} }}")
FILES = "SELECT DISTINCT ?g ?d WHERE { GRAPH ?g { ?d a ckb:ImportedFile } }"


def _documents(kb: Any, rows: list[dict[str, Any]], files: dict[str, set[str]]) -> bytes:
    """``?c ckb:fromDocument ?d``: the imported files of the graphs ?c is typed in, if any; else
    the documents of its quotes. ``files``: each graph's imported files."""
    graphs: dict[str, set[str]] = {}
    quoted: dict[str, set[str]] = {}
    for r in rows:
        if r.get("g") is not None:
            graphs.setdefault(str(r["c"]), set()).add(str(r["g"]))
        if r.get("d") is not None:
            quoted.setdefault(str(r["c"]), set()).add(_term(r["d"]))
    out = set()
    for c in graphs.keys() | quoted.keys():
        came = {iri_ref(d) for g in graphs.get(c, ()) for d in files.get(g, ())}
        out.update(f"{iri_ref(c)} <{claimindex.CKB}fromDocument> {d} .\n" for d in came or quoted.get(c, ()))
    return "".join(sorted(out)).encode("utf-8")


DECIDED_HERE = {"concernsEventType": _most_specific, "concernsActor": _actors, "accordingTo": _outlets}

# restsOn, walked here one step at a time: the rule's zero-or-more path, joined to a chunk of
# claims, took the servers seconds per chunk (636 s of the 1M build on Virtuoso), and Virtuoso's
# zero-or-more path loses rows in joins. Each request names the statements reached so far
# (VALUES ?s, IRIs only) and asks for their attributions and the statements they derive from;
# a blank statement upstream is not nameable in a later request, so what lies behind it comes
# in the same request (anchored at it: none at all in the generated data).
UPSTREAM = "prov:wasDerivedFrom|prov:wasQuotedFrom|prov:hadPrimarySource"
_SAID = "{{ {s} prov:wasAttributedTo ?a }} UNION {{ {s} prov:qualifiedAttribution/prov:agent ?a }}"
STEP = (f"SELECT ?s ?t ?a WHERE {{ __VALUES__ {{ ?s {UPSTREAM} ?t . FILTER(!isBlank(?t)) }} UNION "
        f"{{ {_SAID.format(s='?s')} }} UNION {{ ?s {UPSTREAM} ?b . FILTER(isBlank(?b)) "
        f"?b ({UPSTREAM})* ?u . {_SAID.format(s='?u')} }} }}")


def _rests_on(kb: Any, every: list[str], query: Callable[[str], list[dict[str, Any]]]) -> bytes:
    """``?c ckb:restsOn ?a`` for each claim ?c and each agent ?a a statement at or upstream of it
    is attributed to (the rule restsOn), as N-Triples: the statements' graph is walked breadth
    first, CHUNK named statements per request, and the closure taken here."""
    upstream: dict[str, set[str]] = {}
    said: dict[str, set[str]] = {}
    seen, frontier = set(every), list(every)
    while frontier:
        reached: list[str] = []
        for i in range(0, len(frontier), CHUNK):
            chunk = frontier[i:i + CHUNK]
            bound = "VALUES ?s { " + " ".join(iri_ref(s) for s in chunk) + " } "
            for r in query(claimindex.PREFIXES + STEP.replace("__VALUES__", bound)):
                s, t, a = str(r["s"]), r.get("t"), r.get("a")
                if a is not None:
                    said.setdefault(s, set()).add(_term(a))
                if t is not None:
                    upstream.setdefault(s, set()).add(str(t))
                    if str(t) not in seen:
                        seen.add(str(t))
                        reached.append(str(t))
        frontier = reached
    lines = set()
    for c in every:
        todo, done = [c], {c}
        while todo:
            s = todo.pop()
            lines.update(f"{iri_ref(c)} <{claimindex.CKB}restsOn> {a} .\n" for a in said.get(s, ()))
            for t in upstream.get(s, ()):
                if t not in done:
                    done.add(t)
                    todo.append(t)
    return "".join(sorted(lines)).encode("utf-8")


def _term(term: Any) -> str:
    """An agent as N-Triples: an IRI, a literal (rdflib's n3 is N-Triples for these), a blank node."""
    return term.n3()


def claims(kb: Any, timeout: float) -> list[str]:
    """Every claim (a member of one of the kinds), listed page by page in the server's order of
    their IRIs: each page starts after the last one's end (Virtuoso refuses to sort past
    OFFSET + LIMIT > 10,000 rows; a page of its own top rows it sorts)."""
    found: list[str] = []
    while True:
        after = f"FILTER(STR(?c) > {ox.Literal(found[-1])}) " if found else ""
        page = kb.query(f"{claimindex.PREFIXES}SELECT DISTINCT ?c WHERE {{ {claimindex.KINDS_PATTERN} "
                        f"FILTER(isIRI(?c)) {after}}} ORDER BY STR(?c) LIMIT {CLAIM_PAGE}",
                        limit=CLAIM_PAGE, timeout=timeout).rows
        found += [str(r["c"]) for r in page]
        if len(page) < CLAIM_PAGE:
            return found


def derive(kb: Any, folder: Path, threads: int = 2) -> tuple[list[Path], int]:
    """Run the rules, chunk by chunk of claims, into N-Triples files in ``folder``; with their
    number of triples."""
    timeout = float(getattr(kb.backend, "write_timeout", 600))
    # The dataset named, as kb.query's default would be: the query text is then not parsed for
    # FROM clauses by rdflib (its parser is not thread-safe; "wasDerivedFrom" sends it there).
    graphs = list(kb.graphs())
    rules = _rules(kb)
    del rules["restsOn"]  # walked step by step (_rests_on)
    every = claims(kb, timeout)
    files: dict[str, set[str]] = {}
    for r in kb.query(claimindex.PREFIXES + FILES, timeout=timeout, limit=10_000_000,
                      default_graphs=graphs, named_graphs=graphs).rows:
        files.setdefault(str(r["g"]), set()).add(str(r["d"]))
    decided = {**DECIDED_HERE, "fromDocument": lambda kb, rows: _documents(kb, rows, files)}
    chunks = [every[i:i + CHUNK] for i in range(0, len(every), CHUNK)]
    parts = [folder / f"{name}.nt" for name in rules]

    def run(name: str, part: Path) -> int:
        n = 0
        with part.open("wb") as out:
            for chunk in chunks:
                bound = "VALUES ?c { " + " ".join(iri_ref(c) for c in chunk) + " } "
                # first in every group pattern named WHERE (a rule's subquery too): the engine
                # then starts from the chunk's claims, not from every claim
                text = rules[name].replace("WHERE { ", "WHERE { " + bound)
                if name in decided:
                    body = decided[name](kb, kb.query(text, timeout=timeout, limit=10_000_000,
                                                           default_graphs=graphs, named_graphs=graphs).rows)
                else:
                    body = kb.query(text, timeout=timeout, limit=10_000_000, format="nt",
                                    default_graphs=graphs, named_graphs=graphs).body
                n += body.count(b"\n")
                out.write(body if body.endswith(b"\n") or not body else body + b"\n")
        return n

    def walk(part: Path) -> int:
        body = _rests_on(kb, every, lambda text: kb.query(
            text, timeout=timeout, limit=10_000_000, default_graphs=graphs, named_graphs=graphs).rows)
        part.write_bytes(body)
        return body.count(b"\n")

    with ThreadPoolExecutor(max(1, threads)) as pool:
        # the walk first: the longest task, started while the rules run beside it
        walked = pool.submit(walk, folder / "restsOn.nt")
        triples = sum(pool.map(run, rules, parts)) + walked.result()
    return [*parts, folder / "restsOn.nt"], triples
