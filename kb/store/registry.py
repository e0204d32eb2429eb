"""The graph registry on a SPARQL server: the KB's graphs and their sizes, written with each write.

Counting a big server's graphs costs time proportional to its triples (20-42 s on Virtuoso at
10M-23M), so the remote backend never counts on the request path: every write it makes also
rewrites, in the same update request, the registry entries of the graphs it writes (one node per
graph: ``void:triples`` and ``dcterms:modified``, when it was counted). Reading is one small
SELECT. The registry is derived: when it is missing it is rebuilt by one full count.

The registry's own node also holds the KB's identity (``IDENTITY``, a uuid minted when the registry
is first built and kept by every rebuild): derived state beside the client is kept in a folder named
by it (kb.derived.sidecar.remote_folder), so the same KB reached at another address finds its files.

A graph written on the server directly (not through the KB) is not seen until the next rebuild
(``RemoteBackend.recount``): listing graphs cheaply is not possible on Virtuoso 7.2 (``GRAPH ?g {}``
answers one empty row; ``SELECT DISTINCT ?g`` scans every quad, 1.4 s at 1M triples).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

import pyoxigraph as ox

from kb.namespaces import GRAPH_BASE
from kb.terms import iri_ref

REGISTRY = GRAPH_BASE + "registry"
TRIPLES = "<http://rdfs.org/ns/void#triples>"
COUNTED = "<http://purl.org/dc/terms/modified>"
# A token new with each write of a graph's entry: derived state beside the client (the claim
# index, kb.derived.remoteindex) is keyed by the entries, and two writes within one second that
# leave a graph's size as it was would otherwise look alike.
WRITTEN = "<https://w3id.org/conflict-kb/ontology#writeToken>"
# The KB's identity on the registry's own node: which KB the server holds, whatever its address.
IDENTITY = "<https://w3id.org/conflict-kb/ontology#kbIdentity>"
_REG = iri_ref(REGISTRY)

# One row per registered graph, plus the registry's own node (no count, maybe an identity):
# present once built.
READ = (f"SELECT ?g ?n ?t ?w ?id WHERE {{ GRAPH {_REG} {{ ?g {COUNTED} ?t "
        f"OPTIONAL {{ ?g {TRIPLES} ?n }} OPTIONAL {{ ?g {WRITTEN} ?w }} "
        f"OPTIONAL {{ ?g {IDENTITY} ?id }} }} }}")


@dataclass(frozen=True)
class Counted:
    """One graph's size as the registry holds it, and when it was counted (ISO 8601, UTC)."""

    triples: int
    counted: str
    written: str = ""  # the write's token ("" in a registry an older release wrote)


def now() -> str:
    """The current time as an xsd:dateTime lexical form."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _token() -> str:
    return str(ox.Literal(uuid.uuid4().hex))


def _time(stamp: str) -> str:
    return f"{ox.Literal(stamp)}^^<http://www.w3.org/2001/XMLSchema#dateTime>"


def _forget(graph: str) -> str:
    g = iri_ref(graph)
    return f"DELETE {{ GRAPH {_REG} {{ {g} ?p ?o }} }} WHERE {{ GRAPH {_REG} {{ {g} ?p ?o }} }}"


def set_counts(counts: dict[str, int], stamp: str | None = None) -> list[str]:
    """Update operations recording these graphs' sizes (a size of 0 removes the graph)."""
    stamp = stamp or now()
    ops = [_forget(g) for g in counts]
    data = " ".join(f"{iri_ref(g)} {TRIPLES} {n} ; {COUNTED} {_time(stamp)} ; {WRITTEN} {_token()} ."
                    for g, n in counts.items() if n > 0)
    if data:
        ops.append(f"INSERT DATA {{ GRAPH {_REG} {{ {data} }} }}")
    return ops


def recount(graphs: Iterable[str]) -> list[str]:
    """Update operations that count these graphs on the server, after the operations before them."""
    ops = []
    for graph in dict.fromkeys(graphs):
        g = iri_ref(graph)
        ops.append(_forget(graph))
        # The count runs on the server in the same request, after the write it follows.
        ops.append(f"INSERT {{ GRAPH {_REG} {{ {g} {TRIPLES} ?n ; {COUNTED} {_time(now())} ; "
                   f"{WRITTEN} {_token()} }} }} "
                   f"WHERE {{ {{ SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH {g} {{ ?s ?p ?o }} }} }} "
                   f"FILTER(?n > 0) }}")
    return ops


def rebuild(counts: dict[str, int]) -> list[str]:
    """Update operations replacing the whole registry with these counts (from one full count),
    keeping the KB's identity (or giving it one, if it has none)."""
    stamp = now()
    # Everything but the identity goes: a recount ('ckb index --counts') or a load is the same
    # KB, whose derived files beside clients stay where they are (their stamps say they are stale).
    return [f"DELETE {{ GRAPH {_REG} {{ ?s ?p ?o }} }} WHERE {{ GRAPH {_REG} {{ ?s ?p ?o }} "
            f"FILTER(?p != {IDENTITY}) }}",
            f"INSERT DATA {{ GRAPH {_REG} {{ {_REG} {COUNTED} {_time(stamp)} }} }}",
            adopt(), *set_counts(counts, stamp)]


def adopt() -> str:
    """The update operation giving the KB an identity if its registry has none (a new registry,
    or one an older release wrote); it leaves one that is there as it is."""
    # Anchored on the registry's own node: Virtuoso 7.2 ignores a lone FILTER NOT EXISTS (it
    # inserted a second identity) and inserts nothing for a lone OPTIONAL tested by !BOUND.
    return (f"INSERT {{ GRAPH {_REG} {{ {_REG} {IDENTITY} {ox.Literal(uuid.uuid4().hex)} }} }} "
            f"WHERE {{ GRAPH {_REG} {{ {_REG} {COUNTED} ?t }} "
            f"FILTER NOT EXISTS {{ GRAPH {_REG} {{ {_REG} {IDENTITY} ?old }} }} }}")


def identity(rows: Iterable[ox.QuerySolution]) -> str | None:
    """The KB's identity from the READ query's rows: None if the registry is missing, "" if it
    has none (written by an older release, or where the server refuses writes). Two clients
    adopting at once on a server that does not serialise updates may leave two: every client
    takes the least, so all name the same folder."""
    found: list[str] = []
    built = False
    for row in rows:
        if isinstance(row["g"], ox.NamedNode) and row["g"].value == REGISTRY:
            built = True
            if row["id"] is not None:
                found.append(row["id"].value)
    return min(found, default="") if built else None


def digest(counts: dict[str, Counted]) -> str:
    """A name for the registry's present entries: it changes with every write through the KB
    (each rewrites its graphs' entries with a new token), so derived state beside the client is
    keyed by it (kb.derived.remoteindex, kb.derived.memo)."""
    entries = sorted((g, c.triples, c.counted, c.written) for g, c in counts.items())
    return hashlib.sha256(repr(entries).encode("utf-8")).hexdigest()[:24]


def parse(rows: Iterable[ox.QuerySolution]) -> dict[str, Counted] | None:
    """The registry's entries from the READ query's rows; None if the registry is missing."""
    built = False
    out: dict[str, Counted] = {}
    for row in rows:
        graph = row["g"]
        if not isinstance(graph, ox.NamedNode):
            continue
        if graph.value == REGISTRY:
            built = True
        elif row["n"] is not None:
            written = row["w"].value if row["w"] is not None else ""
            out[graph.value] = Counted(int(row["n"].value), row["t"].value, written)
    return dict(sorted(out.items())) if built else None
