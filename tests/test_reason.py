"""OWL reasoning (kb.reasoning.reason): fixture entailments, both reasoners, Java-missing, the real KB."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from rdflib import RDF, Graph, Namespace, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import OWL

from kb.reasoning import reason as R

FIX = Path(__file__).parent / "fixtures"
ROOT = Path(__file__).resolve().parent.parent
EX = Namespace("https://example.org/reason#")
EXR = Namespace("https://example.org/reason/id/")

needs_java = pytest.mark.skipif(not R.java_available(), reason="no Java runtime on this machine")


def fixture_graph(*names: str) -> Graph:
    """Parse fixture files into one graph."""
    g = Graph()
    for name in names:
        g.parse(FIX / name)
    return g


@pytest.fixture(scope="module")
def hermit() -> R.ReasonOutcome:
    return R.reason(fixture_graph("reason_small.ttl"), reasoner="hermit")


@pytest.fixture(scope="module")
def pellet() -> R.ReasonOutcome:
    try:
        return R.reason(fixture_graph("reason_small.ttl"), reasoner="pellet")
    except R.ReasonerUnavailable as exc:  # owlready2 0.51's Pellet needs a newer Java
        pytest.skip(str(exc))


@needs_java
@pytest.mark.parametrize("which", ["hermit", "pellet"])
class TestFixtureEntailments:
    @pytest.fixture
    def out(self, which: str, request: pytest.FixtureRequest) -> R.ReasonOutcome:
        return request.getfixturevalue(which)

    def test_consistent_and_labelled(self, out: R.ReasonOutcome, which: str) -> None:
        assert out.consistent and out.reasoner == which and out.seconds > 0
        assert f"consistent ({which})" in out.explanation

    def test_inverse(self, out: R.ReasonOutcome) -> None:
        # asserted fifthCorps backedBy russia and iran backs fourthDivision
        assert (EXR.russia, EX.backs, EXR.fifthCorps) in out.inferred
        assert (EXR.fourthDivision, EX.backedBy, EXR.iran) in out.inferred

    def test_symmetric(self, out: R.ReasonOutcome) -> None:
        assert (EXR.tigerForces, EX.alliedWith, EXR.fifthCorps) in out.inferred

    def test_transitive(self, out: R.ReasonOutcome) -> None:
        assert (EXR.brigade, EX.subUnitOf, EXR.army) in out.inferred

    def test_sub_property(self, out: R.ReasonOutcome) -> None:
        assert (EXR.iran, EX.supports, EXR.fourthDivision) in out.inferred
        estimates = list(out.inferred.objects(EXR.clash1, EX.estimate))
        assert [e.toPython() for e in estimates] == [12]

    def test_defined_class_and_domain(self, out: R.ReasonOutcome) -> None:
        assert (EXR.fifthCorps, RDF.type, EX.ProxyForce) in out.inferred
        assert (EXR.fourthDivision, RDF.type, EX.ProxyForce) in out.inferred
        assert (EXR.tigerForces, RDF.type, EX.ProxyForce) not in out.inferred  # not backed
        assert (EXR.clash1, RDF.type, EX.Clash) in out.inferred  # from rdfs:domain
        assert (EXR.fifthCorps, RDF.type, EX.Actor) in out.inferred  # superclass

    def test_unsatisfiable_class_noted(self, out: R.ReasonOutcome) -> None:
        assert "unsatisfiable classes: <https://example.org/reason#StateMilitia>" in out.explanation

    def test_no_noise(self, out: R.ReasonOutcome) -> None:
        asserted = fixture_graph("reason_small.ttl")
        assert len(out.inferred) > 10
        for s, p, o in out.inferred:
            assert (s, p, o) not in asserted
            assert isinstance(s, URIRef) and not str(s).startswith("http://www.w3.org/")
            assert not str(o).startswith(str(OWL)), (s, p, o)
            assert s != o or p == RDF.type
            assert "inferrences" not in s and "lesfleursdunormal" not in p


@needs_java
def test_hermit_and_pellet_agree(hermit: R.ReasonOutcome, pellet: R.ReasonOutcome) -> None:
    assert isomorphic(hermit.inferred, pellet.inferred)


@needs_java
@pytest.mark.parametrize("which", ["hermit", "pellet"])
def test_inconsistent_fixture(which: str) -> None:
    graph = fixture_graph("reason_small.ttl", "reason_inconsistent.ttl")
    try:
        out = R.reason(graph, reasoner=which)
    except R.ReasonerUnavailable as exc:
        pytest.skip(str(exc))
    assert not out.consistent and len(out.inferred) == 0
    assert out.explanation.startswith(f"inconsistent ({which}): ")
    # Pellet's justification names the culprit individual and the clashing axioms
    for part in ("hybrid type State", "hybrid type Militia", "ArmedGroup disjointWith State"):
        assert part in out.explanation
    assert "\n" not in out.explanation


@needs_java
def test_deterministic_turtle(tmp_path: Path, hermit: R.ReasonOutcome) -> None:
    again = R.reason(fixture_graph("reason_small.ttl"))
    R.write_inferred(hermit.inferred, tmp_path / "a.ttl")
    R.write_inferred(again.inferred, tmp_path / "b.ttl")
    text = (tmp_path / "a.ttl").read_text()
    assert text == (tmp_path / "b.ttl").read_text()
    assert isomorphic(Graph().parse(tmp_path / "a.ttl"), hermit.inferred)
    assert text.startswith("# Inferred triples (hermit")


def test_shipped_inferred_graph_binds_the_kb_prefixes() -> None:
    text = (Path(__file__).parent.parent / "data" / "inferred" / "inferred.ttl").read_text()
    assert "@prefix ckb: <https://w3id.org/conflict-kb/ontology#>" in text
    assert "<https://w3id.org/conflict-kb/ontology#" not in text.split("\n\n", 1)[1]


@needs_java
def test_fresh_world_each_run(hermit: R.ReasonOutcome) -> None:
    """Nothing from an earlier run (here an inconsistent one) leaks into the next."""
    import owlready2

    before = (set(owlready2.default_world.ontologies), owlready2.JAVA_EXE,
              owlready2.reasoning.JAVA_MEMORY)
    assert not R.reason(fixture_graph("reason_small.ttl", "reason_inconsistent.ttl")).consistent
    again = R.reason(fixture_graph("reason_small.ttl"), reasoner="HermiT")
    assert again.consistent and isomorphic(again.inferred, hermit.inferred)
    after = (set(owlready2.default_world.ontologies), owlready2.JAVA_EXE,
             owlready2.reasoning.JAVA_MEMORY)
    assert after == before  # owlready2's globals are restored, its default world untouched


def test_unknown_reasoner_is_one_line_error() -> None:
    with pytest.raises(R.ReasonerError, match=r"^unknown reasoner 'fact\+\+'; choose one of"):
        R.reason(Graph(), reasoner="fact++")


def run_isolated(code: str, env_path: str, **extra: str) -> subprocess.CompletedProcess[str]:
    """Run python code in a child whose PATH is `env_path` (no java on it)."""
    env = {k: v for k, v in os.environ.items() if k not in ("JAVA_HOME", "CKB_PELLET_JAVA")}
    env["PATH"] = env_path
    env.update(extra)
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=120,
    )


@pytest.mark.parametrize("java_exe", ["java", "/nonexistent/bin/java"])
def test_java_missing_is_one_line_error(tmp_path: Path, java_exe: str) -> None:
    code = f"""
        import owlready2
        owlready2.JAVA_EXE = {java_exe!r}
        from rdflib import Graph
        from kb.reasoning import reason as R
        from kb.errors import KBError
        print("available", R.java_available())
        for which in ("hermit", "pellet"):
            try:
                R.reason(Graph().parse({str(FIX / "reason_small.ttl")!r}), reasoner=which)
            except KBError as exc:
                print(type(exc).__name__, exc)
    """
    proc = run_isolated(code, str(tmp_path))  # an empty folder: no java on PATH
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        "available False", f"ReasonerUnavailable {R.NO_JAVA}", f"ReasonerUnavailable {R.NO_JAVA}"
    ]
    assert proc.stderr == ""


@needs_java
def test_reasoning_is_quiet() -> None:
    """owlready2's '* Owlready2 * Running HermiT...' chatter must not reach the terminal."""
    code = f"""
        from rdflib import Graph
        from kb.reasoning import reason as R
        out = R.reason(Graph().parse({str(FIX / "reason_small.ttl")!r}))
        assert out.consistent
    """
    proc = run_isolated(code, os.environ["PATH"])
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "" and proc.stderr == ""


# --- the real ontology and data -------------------------------------------------------------

CKB = Namespace("https://w3id.org/conflict-kb/ontology#")
CKBR = Namespace("https://w3id.org/conflict-kb/id/")
ORG = Namespace("http://www.w3.org/ns/org#")
SHIPPED = ROOT / "data" / "inferred" / "inferred.ttl"


@pytest.fixture(scope="module")
def real() -> R.ReasonOutcome:
    return R.reason(R.bundled_asserted(ROOT), reasoner="hermit")


@needs_java
def test_real_kb_is_consistent(real: R.ReasonOutcome) -> None:
    assert real.consistent, real.explanation
    assert "unsatisfiable" not in real.explanation
    assert len(real.inferred) > 100


@needs_java
@pytest.mark.parametrize(
    "triple",
    [
        # inverse of ckb:backs (Iran backs Hezbollah; Russia and Iran back the Shiite militants)
        (CKBR.Hezbollah, CKB.backedBy, CKBR.Iran),
        (CKBR.IranianBackedShiiteMilitants, CKB.backedBy, CKBR.Russia),
        (CKBR.USBackedKurdishFighters, CKB.backedBy, CKBR.UnitedStates),
        # defined class: an armed group a source calls a state's proxy (a ProxySponsorship backing)
        (CKBR.Hezbollah, RDF.type, CKB.ProxyForce),
        # >= 2 distinct pro-Assad coalition members take part in the infighting
        (CKBR["event-infighting"], RDF.type, CKB.IntraCoalitionClash),
        (CKBR["event-infighting"], RDF.type, CKBR.ProAssadCoalitionInfighting),
        # symmetric: asserted Russia rivalOf Iran
        (CKBR.Iran, CKB.rivalOf, CKBR.Russia),
        # transitive: stronghold in Idlib province, Idlib province in Syria
        (CKBR.IdlibRebelStronghold, CKB.partOfPlace, CKBR.Syria),
        # sub-property (org:unitOf < org:subOrganizationOf) and its inverse
        (CKBR.SyrianRepublicanGuard, ORG.subOrganizationOf, CKBR.SyrianMilitary),
        (CKBR.SyrianMilitary, ORG.hasSubOrganization, CKBR.SyrianRepublicanGuard),
        # superclass: a Division is an ArmedForce
        (CKBR.RussianBackedRegimeDivisions, RDF.type, CKB.ArmedForce),
    ],
    ids=lambda t: " ".join(str(x).rsplit("/", 1)[-1].rsplit("#", 1)[-1] for x in t),
)
def test_real_expected_inference(real: R.ReasonOutcome, triple: tuple) -> None:
    assert triple in real.inferred


@needs_java
def test_real_non_inferences(real: R.ReasonOutcome) -> None:
    # the regime's own divisions are backed by Russia but are state forces, never proxies
    assert (CKBR.RussianBackedRegimeDivisions, RDF.type, CKB.ProxyForce) not in real.inferred
    # backed, but no source calls them proxies: Russia's air support does not make a proxy (issue 11)
    assert (CKBR.IranianBackedShiiteMilitants, RDF.type, CKB.ProxyForce) not in real.inferred
    assert (CKBR.USBackedKurdishFighters, RDF.type, CKB.ProxyForce) not in real.inferred
    # battles the sides only prepare for are not (yet) infighting
    assert (CKBR["event-future-battles"], RDF.type, CKB.IntraCoalitionClash) not in real.inferred
    # a Strike is not a clash, so it is never an intra-coalition clash
    assert (CKBR["event-russian-strike"], RDF.type, CKB.IntraCoalitionClash) not in real.inferred
    assert not list(real.inferred.triples((None, RDF.type, OWL.Thing)))
    assert not list(real.inferred.triples((None, RDF.type, OWL.NamedIndividual)))


@needs_java
def test_real_pellet_agrees_with_hermit(real: R.ReasonOutcome) -> None:
    try:
        pellet = R.reason(R.bundled_asserted(ROOT), reasoner="pellet")
    except R.ReasonerUnavailable as exc:
        pytest.skip(str(exc))
    assert pellet.consistent
    assert isomorphic(pellet.inferred, real.inferred)


@needs_java
def test_shipped_inferred_graph_is_up_to_date(real: R.ReasonOutcome) -> None:
    """data/inferred/inferred.ttl is served when Java is missing: it must match a fresh run."""
    shipped = Graph().parse(SHIPPED, format="turtle")
    assert isomorphic(shipped, real.inferred), (
        "data/inferred/inferred.ttl is stale: regenerate with `python -m kb.reasoning.reason --write`"
    )


@needs_java
def test_timeout_kills_reasoner_and_nothing_is_left(tmp_path: Path) -> None:
    """A run past its time limit is killed (with its Java process); no temp files stay behind."""
    code = f"""
        import time
        from rdflib import Graph
        from kb.reasoning import reason as R
        small = Graph().parse({str(FIX / "reason_small.ttl")!r})
        bad = Graph().parse({str(FIX / "reason_inconsistent.ttl")!r}) + small
        print(R.reason(bad).consistent)  # owlready2 alone would leave its temp file here
        real = R.bundled_asserted()  # HermiT needs ~5 s: the kill lands while Java runs
        t0 = time.perf_counter()
        try:
            R.reason(real, timeout=1.5)
        except R.ReasonerError as exc:
            print(exc, time.perf_counter() - t0 < 8)
    """
    proc = run_isolated(code, os.environ["PATH"], TMPDIR=str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        "False", "hermit did not finish within 1.5 s (set CKB_REASON_TIMEOUT) True"
    ]
    assert list(tmp_path.iterdir()) == []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            assert str(tmp_path) not in cmdline.read_bytes().decode("utf-8", "replace")
        except OSError:  # the process ended while we looked
            continue
