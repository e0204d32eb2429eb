"""The reference model and the operations of the durability machine (tests/test_durability_model.py).

The model is an in-memory pyoxigraph Store that applies each operation the way the KB promises
to: the same SPARQL update text, the same Graph Store write, the same file's quads into the same
graphs. Operations that must be killed run in a child process (tests/durability_child.py) with
CKB_TEST_CRASH_AT set; the child prints ``ACK`` once the operation's data write returned, so the
parent knows whether it committed without any knowledge of the store's code paths.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

import pyoxigraph as ox

from kb import KnowledgeBase
from kb.namespaces import CKB, CKBR, GRAPH_BASE, import_graph
from kb.store.lifecycle import Meta
from kb.store.staging import counts_of

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "durability-token"
EX = "http://example.org/"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
XSD = "http://www.w3.org/2001/XMLSchema#"

# Derived or reserved graphs left out of the comparison: none. The claim index lives in a sidecar
# beside the store (kb.derived), not in it, so a graph by its old name is someone's data; staging
# graphs are reserved names, and one that survives a step is debris the store must never show.
IGNORED_GRAPHS: frozenset[str] = frozenset()
# A dataset import records when it ran (kb.imports.pipeline._record): the one value two runs of
# the same import cannot share. Compared as present, not by value.
CLOCK_PREDICATE = "http://www.w3.org/ns/prov#endedAtTime"
# Clocks an import writes: when it ended, and when each of its name matches was made (two imports
# of one file a second apart differ there and nowhere else).
CLOCK_PREDICATES = (CLOCK_PREDICATE, "http://www.w3.org/ns/prov#generatedAtTime")

# A small vocabulary: claims (so the claim index has something to derive), plain triples, and the
# two subclass axioms the actor matcher of a dataset import needs to see actors.
_N, _L = ox.NamedNode, ox.Literal
TRIPLES: list[ox.Triple] = [
    ox.Triple(_N(CKBR + "c0"), _N(RDF_TYPE), _N(CKB.Report)),
    ox.Triple(_N(CKBR + "c1"), _N(RDF_TYPE), _N(CKB.Assessment)),
    ox.Triple(_N(CKBR + "c0"), _N(CKB.hedgeText), _L("likely")),
    ox.Triple(_N(CKBR + "c1"), _N(CKB.hedgeText), _L("perhaps", language="en")),
    ox.Triple(_N(EX + "s0"), _N(EX + "p"), _N(EX + "s1")),
    ox.Triple(_N(EX + "s1"), _N(EX + "p"), _L("a")),
    ox.Triple(_N(EX + "s0"), _N(EX + "q"), _L("7", datatype=_N(XSD + "integer"))),
    ox.Triple(_N(EX + "s1"), _N(EX + "q"), _L("b")),
    ox.Triple(_N(CKB.ArmedGroup), _N(RDFS + "subClassOf"), _N(CKB.Actor)),
    ox.Triple(_N(CKB.PersonGroup), _N(RDFS + "subClassOf"), _N(CKB.Actor)),
    ox.Triple(_N(CKBR + "x"), _N(RDF_TYPE), _N(CKB.ArmedGroup)),  # the reasoner infers: an Actor
]
# Graphs by short name (as failing examples print them): None is the default graph; "ex:g" is
# outside the KB's namespace (a client's own).
GRAPH_IRIS: dict[str, str] = {"import/a": import_graph("a"), "import/b": import_graph("b"),
                              "g1": GRAPH_BASE + "g1", "ex:g": EX + "g"}
GRAPHS: list[str | None] = [None, *GRAPH_IRIS]


def iri(graph: str | None) -> str | None:
    """The IRI of a graph's short name (None: the default graph)."""
    return None if graph is None else GRAPH_IRIS[graph]


def pick(indexes: Iterable[int]) -> list[ox.Triple]:
    """The vocabulary's triples at ``indexes``."""
    return [TRIPLES[i] for i in indexes]


def quads(pairs: Iterable[tuple[int, str | None]]) -> list[ox.Quad]:
    """(triple index, short graph name) pairs as quads."""
    return [ox.Quad(*TRIPLES[i], graph_term(iri(g))) for i, g in pairs]
IMPORT_NAMES = ["a", "b"]
FORMATS = {"ttl": ox.RdfFormat.TURTLE, "nt": ox.RdfFormat.N_TRIPLES, "rdf": ox.RdfFormat.RDF_XML,
           "jsonld": ox.RdfFormat.JSON_LD, "nq": ox.RdfFormat.N_QUADS, "trig": ox.RdfFormat.TRIG}
GSP_FORMATS = {"text/turtle": ox.RdfFormat.TURTLE, "application/n-triples": ox.RdfFormat.N_TRIPLES,
               "application/rdf+xml": ox.RdfFormat.RDF_XML, "application/ld+json": ox.RdfFormat.JSON_LD}
# Updates by pattern and graph management, as a client would send them.
PATTERN_UPDATES = [
    f"DELETE WHERE {{ ?s <{EX}p> ?o }}",
    f"DELETE WHERE {{ GRAPH ?g {{ ?s <{EX}q> ?o }} }}",
    f"INSERT {{ GRAPH <{GRAPH_BASE}g1> {{ ?s ?p ?o }} }} WHERE {{ ?s ?p ?o }}",
    f"DELETE {{ GRAPH ?g {{ ?s ?p ?o }} }} INSERT {{ ?s ?p ?o }} WHERE {{ GRAPH ?g {{ ?s ?p ?o }} "
    f"FILTER(?g = <{import_graph('a')}>) }}",
    "CLEAR DEFAULT",
    f"DROP SILENT GRAPH <{import_graph('a')}>",
    f"COPY DEFAULT TO <{EX}g>",
    f"MOVE SILENT <{GRAPH_BASE}g1> TO DEFAULT",
    f"ADD SILENT <{import_graph('b')}> TO <{GRAPH_BASE}g1>",
    "CLEAR SILENT NAMED",
    f"DROP SILENT GRAPH <{import_graph('ged-1')}>",  # one dataset import dropped: others keep their facts
]

# Tiny UCDP GED files: two rows each; A2 is A with one fatality figure changed; B shares an actor.
_GED = ROOT / "tests" / "fixtures" / "ucdp-ged-tiny.csv"  # the first rows of UCDP GED 19.1 Bangladesh


def ged_files(folder: Path) -> dict[str, Path]:
    """Write the tiny GED files into ``folder``: {"A": ..., "A2": ..., "B": ...}."""
    lines = _GED.read_text(encoding="utf-8").splitlines(keepends=True)
    header, rows = lines[0], lines[1:]
    out = {"A": [rows[0], rows[1]], "B": [rows[2], rows[3]]}
    changed = rows[1].rstrip("\n").split(",")
    changed[-2] = str(int(changed[-2]) + 1)  # "best": one more death
    out["A2"] = [rows[0], ",".join(changed) + "\n"]
    paths = {}
    for key, body in out.items():
        paths[key] = folder / f"ged-{key.lower()}.csv"
        paths[key].write_text(header + "".join(body), encoding="utf-8")
    return paths


def graph_term(graph: str | None) -> ox.NamedNode | ox.DefaultGraph:
    return ox.DefaultGraph() if graph is None else ox.NamedNode(graph)


def insert_text(graph: str | None, triples: Iterable[ox.Triple], verb: str = "INSERT") -> str:
    """INSERT DATA / DELETE DATA of ``triples`` into one graph, with or without GRAPH."""
    body = " ".join(f"{t.subject} {t.predicate} {t.object} ." for t in triples)
    return f"{verb} DATA {{ {body if graph is None else f'GRAPH <{graph}> {{ {body} }}'} }}"


def write_rdf(path: Path, quads: Sequence[ox.Quad]) -> None:
    """Serialise ``quads`` in the format of ``path``'s extension (triple formats: their triples)."""
    fmt = FORMATS[path.suffix.lstrip(".")]
    data = quads if fmt.supports_datasets else [q.triple for q in quads]
    path.write_bytes(ox.serialize(data, format=fmt))  # empty: a complete empty document


# -- the model -------------------------------------------------------------
def key(quad: ox.Quad) -> tuple[str, str, str, str]:
    """A quad as comparable text, the clock of an import (and of its name matches) recorded as present."""
    obj = "<a time>" if quad.predicate.value in CLOCK_PREDICATES else str(quad.object)
    return str(quad.subject), str(quad.predicate), obj, str(quad.graph_name)


def row_key(row: dict, graph: str = "DEFAULT") -> tuple[str, str, str, str]:
    """A query answer's row (?s ?p ?o, rdflib terms) as key() writes a quad of ``graph``."""
    s, p, o = (row[v].n3() for v in ("s", "p", "o"))
    return s, p, "<a time>" if p[1:-1] in CLOCK_PREDICATES else o, graph


def visible(quads: Iterable[ox.Quad]) -> set[tuple[str, str, str, str]]:
    """Every quad of a dataset, default graph included, but the IGNORED_GRAPHS."""
    return {key(q) for q in quads
            if not (isinstance(q.graph_name, ox.NamedNode) and q.graph_name.value in IGNORED_GRAPHS)}


def counts(store: ox.Store) -> dict[str, int]:
    """Named graphs (not the ignored ones) with their triple counts."""
    return {g: n for g, n in counts_of(store).items() if g not in IGNORED_GRAPHS}


class Model:
    """The reference: an in-memory Store to which each operation is applied as promised."""

    def __init__(self) -> None:
        self.store = ox.Store()

    def has(self, graph: str | None) -> bool:
        return any(True for _ in self.store.quads_for_pattern(None, None, None, graph_term(graph)))

    def update(self, text: str) -> None:
        self.store.update(text)

    def gsp_write(self, graph: str | None, triples: Sequence[ox.Triple], replace: bool) -> None:
        g = graph_term(graph)
        if replace:
            self.drop(graph)
        self.store.extend([ox.Quad(t.subject, t.predicate, t.object, g) for t in triples])

    def drop(self, graph: str | None) -> None:
        if graph is None:
            self.store.clear_graph(ox.DefaultGraph())
        else:
            self.store.remove_graph(ox.NamedNode(graph))

    def import_rdf(self, graph: str, quads: Sequence[ox.Quad]) -> None:
        """The file's default graph replaces ``graph``; each named graph it holds replaces that
        graph, under its own name (kb.store.replace)."""
        for g in {graph, *(q.graph_name.value for q in quads if isinstance(q.graph_name, ox.NamedNode))}:
            self.drop(g)
        target = ox.NamedNode(graph)
        self.store.extend([ox.Quad(q.subject, q.predicate, q.object,
                                   target if isinstance(q.graph_name, ox.DefaultGraph) else q.graph_name)
                           for q in quads])

    def load(self, files: dict[str, list[ox.Triple]]) -> None:
        """``ckb load``: the KB's own graphs and the default graph are replaced by the files'
        graphs; graphs outside the KB's namespace are kept (kb.store.replace)."""
        for q in list(self.store):
            g = q.graph_name
            if isinstance(g, ox.DefaultGraph) or g.value.startswith(GRAPH_BASE):
                self.store.remove(q)
        for name, triples in files.items():
            self.import_rdf(import_graph(name), [ox.Quad(t.subject, t.predicate, t.object) for t in triples])

    def dataset(self, csv: Path, name: str) -> None:
        """A dataset import, converted by the KB's own importer on a memory store holding the
        model's quads (the conversion is not under test here; what the store keeps is)."""
        from kb.imports import run_import

        with KnowledgeBase.open(memory=True) as mirror:
            mirror.backend.store.extend(self.store)
            mirror.backend.meta = Meta(graphs=counts_of(mirror.backend.store))
            run_import(mirror, csv, "ucdp-ged", name=name)
            self.store = ox.Store()
            self.store.extend(mirror.backend.store)

    def reason(self) -> None:
        """``ckb reason``: the inferred graph replaced by what the reasoner entails, run by the KB's
        own reasoning on a memory store holding the model's quads (the reasoner is not under test)."""
        with KnowledgeBase.open(memory=True) as mirror:
            mirror.backend.store.extend(self.store)
            mirror.backend.meta = Meta(graphs=counts_of(mirror.backend.store))
            report = mirror.reason()
            assert report.consistent, report.explanation
            self.store = ox.Store()
            self.store.extend(mirror.backend.store)

    def unnamed_actors(self) -> list[str]:
        """Actors an event's participation names that have no rdfs:label anywhere (issue 18 #3)."""
        rows = self.store.query(
            f"SELECT DISTINCT ?a WHERE {{ ?p <{CKB.participationActor}> ?a "
            f"FILTER NOT EXISTS {{ ?a <{RDFS}label> ?l }} }}", use_default_graph_as_union=True)
        return sorted(r["a"].value for r in rows)


# -- children that may be killed ---------------------------------------------
# Each named crash point, by whether the write it interrupts has committed there (kb/store/*.py);
# upgrade-shapes-saved is on the open of an older store's layout, which changes no quad.
# The update worker's points (update-*) kill the worker, not the child: the KB then tells the
# child the truth (ACK or NACK), which decides; they are classified all the same.
PRE_COMMIT = frozenset({"journal-written", "bulk-loaded", "before-commit", "gsp-staged", "rebuild-copied",
                        "rebuild-loaded", "rebuild-built", "upgrade-shapes-saved", "update-started"})
POST_COMMIT = frozenset({"before-swap", "between-renames", "after-renames", "after-write",
                         "update-applied", "update-flushed", "before-settle"})


def crash_points() -> list[str]:
    """Every crash point: kb.store.lifecycle.CRASH_POINTS, or what the code names (kb/**/*.py)."""
    from kb.store import lifecycle

    if hasattr(lifecycle, "CRASH_POINTS"):
        return sorted(lifecycle.CRASH_POINTS)
    names: set[str] = set()
    for path in (ROOT / "kb").rglob("*.py"):
        names.update(re.findall(r"""crash_point\(\s*["']([^"']+)["']""", path.read_text(encoding="utf-8")))
    return sorted(names)


def run_child(job: dict, crash: str | None, timeout: float = 120) -> tuple[str, str]:
    """Run one job in a child, killed at ``crash``: ("acked" | "refused" | "killed", output).

    "refused": the KB told the writer that nothing was written (a kill of its update worker)."""
    env = {k: v for k, v in os.environ.items() if k not in ("CKB_STORE", "CKB_TEST_CRASH_AT")}
    env["PYTHONUNBUFFERED"] = "1"  # an ACK printed before the kill must reach us
    if crash:
        env["CKB_TEST_CRASH_AT"] = crash
    if job["op"] in ("load", "index", "reason"):
        cmd = [sys.executable, "-m", "kb.cli", job["op"], "--store", job["store"], *job.get("files", [])]
    else:
        cmd = [sys.executable, str(ROOT / "tests" / "durability_child.py"), json.dumps(job)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT)
    out = proc.stdout
    if proc.returncode == 3 and out.startswith("NACK") and crash:
        return "refused", out
    killed = proc.returncode == -signal.SIGKILL
    if not killed and proc.returncode != 0:
        raise AssertionError(f"child {job['op']} failed ({proc.returncode}): {(out + proc.stderr)[-800:]}")
    # ckb load prints its graph table ("total" row) once the rebuild returned, ckb reason its
    # report once the inferred graph is replaced; both before they index.
    acked = "ACK" in out or (job["op"] == "load" and "total" in out) or (
        job["op"] == "reason" and "consistent (" in out)
    return ("acked" if acked or not killed else "killed"), out + proc.stderr


def committed(outcome: str, point: str | None) -> bool:
    """Whether the child's data write committed: acknowledged, or killed past its commit."""
    if outcome != "killed":
        return outcome == "acked"
    assert point in PRE_COMMIT | POST_COMMIT, f"crash point {point!r} is not classified"
    return point in POST_COMMIT
