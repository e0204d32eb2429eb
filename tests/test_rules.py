"""Rule-based reasoning (kb.reasoning.rules, run by pyoxigraph): equal to HermiT where both run,
and the ontology's entailments for imported data, with or without Java (issue 21 #5)."""

from __future__ import annotations

import functools
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import owlready2
import pyoxigraph as ox
import pytest
from rdflib import Graph

from kb.namespaces import GRAPH_DATA, GRAPH_MATCHES, GRAPH_ONTOLOGY
from kb.reasoning import reason as R
from kb.reasoning import rulerun
from kb.store import loader

ROOT = Path(__file__).resolve().parent.parent
FIX = Path(__file__).parent / "fixtures"
SHIPPED = ROOT / "data" / "inferred" / "inferred.ttl"
CKB = "https://w3id.org/conflict-kb/ontology#"
EX = "https://example.org/rules/"
ORG = "http://www.w3.org/ns/org#"
needs_java = pytest.mark.skipif(not R.java_available(), reason="no Java runtime on this machine")

# Entailments HermiT gives on the bundle that the rules deliberately do not, or the other way
# round, each with its reason. Empty: on the bundle the two answers are the same set of triples.
INTENDED_DIFFERENCES: dict[str, str] = {}


def bundle_triples() -> list[ox.Triple]:
    """The ontology, the modelled article and the reviewed matches, as the OWL reasoner sees them."""
    out: list[ox.Triple] = []
    for path in loader.bundled_files(ROOT):
        if loader.graph_for(path) in (GRAPH_ONTOLOGY, GRAPH_DATA, GRAPH_MATCHES):
            out += ox.parse(path=str(path), format=ox.RdfFormat.TURTLE)
    return out


def as_set(triples: object) -> set[str]:
    """Triples as N-Triples strings (no blank nodes in either answer)."""
    return {str(t) for t in triples}  # type: ignore[attr-defined]


def test_rules_equal_hermit_on_the_bundle() -> None:
    """The rules' closure of the bundle is the shipped HermiT graph, triple for triple.

    data/inferred/inferred.ttl is HermiT's answer (test_reason checks it against a fresh run):
    the types of every named individual and class, the values of the ontology's properties
    (inverses, symmetric, transitive, sub-properties, chains), the defined classes ProxyForce and
    ProAssadCoalitionInfighting, and the subsumptions of classes defined by intersections.
    """
    out = rulerun.entail(bundle_triples())
    hermit = as_set(ox.parse(path=str(SHIPPED), format=ox.RdfFormat.TURTLE))
    rules = as_set(out.inferred)
    only_hermit = sorted(hermit - rules - INTENDED_DIFFERENCES.keys())
    only_rules = sorted(rules - hermit - INTENDED_DIFFERENCES.keys())
    assert (only_hermit, only_rules) == ([], []), "rules and HermiT differ"
    assert len(hermit) > 700 and out.clashes == []
    kinds = {t.split(" ", 2)[1] for t in rules}
    for kind in ("rdf-syntax-ns#type", "ontology#backedBy", "ontology#rivalOf", "ontology#partOfPlace",
                 "org#subOrganizationOf", "rdf-schema#subClassOf"):
        assert any(kind in k for k in kinds), kind


@needs_java
def test_rules_equal_hermit_on_the_fixture() -> None:
    """On tests/fixtures/reason_small.ttl (inverse, symmetric, transitive, sub-property, domain,
    defined class, an unsatisfiable class) the rules answer what a fresh HermiT run answers."""
    hermit = R.reason(Graph().parse(FIX / "reason_small.ttl"), reasoner="hermit")
    nt = hermit.inferred.serialize(format="nt", encoding="utf-8")
    expected = as_set(ox.parse(nt, format=ox.RdfFormat.N_TRIPLES))
    got = as_set(rulerun.entail(ox.parse(path=str(FIX / "reason_small.ttl"))).inferred)
    assert got == expected and len(got) > 10


@functools.cache
def imported_outcome() -> set[str]:
    """The rules over the bundle plus tests/fixtures/rules_import.ttl."""
    data = bundle_triples() + list(ox.parse(path=str(FIX / "rules_import.ttl")))
    return as_set(rulerun.entail(data).inferred)


def t(s: str, p: str, o: str) -> str:
    """One triple as N-Triples, from full IRIs."""
    return f"<{s}> <{p}> <{o}>"


TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"


@pytest.mark.parametrize("triple", [
    t(EX + "group", TYPE, CKB + "ProxyForce"),  # defined class through an inverse and a value
    t(EX + "group", CKB + "backedBy", EX + "state"),  # property chain, then its inverse
    t(EX + "clash", TYPE, CKB + "IntraCoalitionClash"),  # min 2 different coalition members
    t(EX + "clash", TYPE, "https://w3id.org/conflict-kb/id/ProAssadCoalitionInfighting"),
    t(EX + "town", CKB + "partOfPlace", EX + "country"),  # transitive
    t(EX + "town", TYPE, CKB + "Place"),  # domain
    t(EX + "country", TYPE, CKB + "Place"),  # superclass
    t(EX + "division", ORG + "subOrganizationOf", EX + "army"),  # sub-property
    t(EX + "army", ORG + "hasUnit", EX + "division"),  # inverse
    t(EX + "ally", CKB + "alliedWith", EX + "state"),  # symmetric
    t(EX + "group", TYPE, CKB + "Actor"),  # superclass of Militia
])
def test_rules_entail_for_imported_data(triple: str) -> None:
    assert triple in imported_outcome()


def test_rules_infer_no_more_than_owl_allows() -> None:
    out = imported_outcome()
    assert t(EX + "other", TYPE, CKB + "ProxyForce") not in out  # air support is not proxy sponsorship
    # two coalition members OWL cannot tell apart may be one: no intra-coalition clash
    assert t(EX + "clash2", TYPE, CKB + "IntraCoalitionClash") not in out
    assert not any(x.startswith("_:") or " _:" in x for x in out)


def test_rules_report_a_disjointness_clash() -> None:
    bad = f"<https://example.org/rules/x> a <{CKB}ArmedForce>, <{CKB}RebelGroup> ."
    out = rulerun.entail(bundle_triples() + list(ox.parse(bad, format=ox.RdfFormat.TURTLE)))
    assert out.clashes and out.clashes[0].startswith("<https://example.org/rules/x>: ")
    assert "ArmedForce" in out.clashes[0] and "ArmedGroup" in out.clashes[0]


def cli(*args: str, store: Path, path: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real ckb command (optionally with a PATH that has no java on it)."""
    env = {k: v for k, v in os.environ.items() if k not in ("CKB_STORE", "JAVA_HOME")}
    if path is not None:
        env["PATH"] = path
    return subprocess.run([sys.executable, "-m", "kb.cli", *args, "--store", str(store)],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)


COUNT = ("SELECT (COUNT(*) AS ?n) WHERE { GRAPH <https://w3id.org/conflict-kb/graph/inferred> "
         "{ <https://example.org/rules/group> a <https://w3id.org/conflict-kb/ontology#ProxyForce> } }")


def test_reason_without_java_runs_the_rules(tmp_path: Path) -> None:
    """No Java: one line says so, the shipped graph is served, and imports still get inferences."""
    store = tmp_path / "store"
    assert cli("load", store=store).returncode == 0
    assert cli("import", str(FIX / "rules_import.ttl"), store=store).returncode == 0
    assert cli("query", COUNT, "--format", "csv", store=store).stdout.split() == ["n", "0"]
    proc = cli("reason", store=store, path=str(Path(sys.executable).parent))
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip().splitlines() == [f"ckb: {R.NO_JAVA}"]
    assert proc.stdout.startswith("rules: ")
    assert cli("query", COUNT, "--format", "csv", store=store).stdout.split() == ["n", "1"]
    # the shipped HermiT answer for the article is still there
    hezbollah = ("ASK { GRAPH <https://w3id.org/conflict-kb/graph/inferred> { "
                 f"<https://w3id.org/conflict-kb/id/Hezbollah> a <{CKB}ProxyForce> }} }}")
    assert "true" in cli("query", hezbollah, "--format", "csv", store=store).stdout.lower()


def test_reason_refuses_data_that_contradicts_the_ontology(tmp_path: Path) -> None:
    store = tmp_path / "store"
    bad = tmp_path / "bad.ttl"
    bad.write_text(f"<{EX}x> a <{CKB}ArmedForce>, <{CKB}RebelGroup> .\n", encoding="utf-8")
    assert cli("load", store=store).returncode == 0
    assert cli("import", str(bad), store=store).returncode == 0
    proc = cli("reason", store=store, path=str(Path(sys.executable).parent))
    assert proc.returncode == 1
    assert proc.stderr.splitlines()[-1].startswith(f"ckb: inconsistent (rules): <{EX}x>: ")


def pellet_consistency(nt: bytes) -> str:
    """Pellet's own consistency check (its command line, as reason._explain_inconsistency runs it)."""
    with tempfile.NamedTemporaryFile("wb", suffix=".nt", delete=False) as tmp:
        tmp.write(nt)
    try:
        proc = subprocess.run(
            ["java", "-Xmx1024M", "-cp", owlready2.reasoning._PELLET_CLASSPATH, "pellet.Pellet",
             "consistency", "--ignore-imports", tmp.name], capture_output=True, timeout=300)
    finally:
        os.unlink(tmp.name)
    return proc.stdout.decode("utf-8", "replace")


@needs_java
def test_pellet_accepts_imported_coordinates() -> None:
    """GED places carry "POINT(lon lat)"^^geo:wktLiteral; the reasoner's input types them as the
    ontology defines the datatype (xsd:string), so Pellet finds the KB consistent (it did not)."""
    graph = R.bundled_asserted(ROOT).parse(FIX / "rules_import.ttl")
    raw = Graph()
    for triple in graph:
        raw.add(triple)
    before = pellet_consistency(raw.serialize(format="nt", encoding="utf-8"))
    assert "Consistent: No" in before and "wktLiteral" in before  # what the issue saw
    after = pellet_consistency(R._input_triples(graph).serialize(format="nt", encoding="utf-8"))
    assert "Consistent: Yes" in after, after
