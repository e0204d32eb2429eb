"""The synthetic data generator: deterministic, sized as asked, valid RDF, ontology terms only."""

from __future__ import annotations

import importlib
import io
import itertools
import json
import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import OWL, RDF, RDFS, XSD, Graph, Literal, URIRef

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # benchmarks/ is a folder of the repo, not an installed package
    sys.path.insert(0, str(ROOT))
generate = importlib.import_module("benchmarks.generate")
queries = importlib.import_module("benchmarks.queries")

CKB = "https://w3id.org/conflict-kb/ontology#"
CKBR = "https://w3id.org/conflict-kb/id/"


def _nt(target: int, seed: int = 7) -> tuple[str, int]:
    buf = io.StringIO()
    n = generate.write(target, buf, seed)
    return buf.getvalue(), n


@pytest.fixture(scope="module")
def sample() -> tuple[str, int]:
    """A 5,000-triple dataset shared by the read-only tests."""
    return _nt(5000)


@pytest.fixture(scope="module")
def ontology() -> Graph:
    """The project ontology, parsed."""
    return Graph().parse(ROOT / "ontology" / "conflict.ttl", format="turtle")


def test_same_seed_same_bytes_other_seed_differs() -> None:
    first, n1 = _nt(2000, seed=3)
    again, n2 = _nt(2000, seed=3)
    other, _ = _nt(2000, seed=4)
    assert (first, n1) == (again, n2)
    assert first != other


@pytest.mark.parametrize("target", [1000, 5000, 20000])
def test_requested_size_is_honoured(target: int) -> None:
    text, n = _nt(target)
    assert text.count("\n") == n
    # Stops after the event that crosses the target: at most one event (< 80 triples) over.
    assert target <= n <= target + 80


def test_tiny_request_still_gives_one_complete_dataset() -> None:
    text, n = _nt(1)
    g = Graph().parse(data=text, format="nt")
    assert len(g) == n < 600
    assert (URIRef(CKBR + "event/0"), RDF.type, None) in g


def test_generator_streams_instead_of_building_everything() -> None:
    first = list(itertools.islice(generate.triples(10**12), 50))
    assert len(first) == 50  # a billion-triple request yields at once: nothing is precomputed


def test_output_parses_with_rdflib_and_pyoxigraph_without_duplicates(sample) -> None:
    text, n = sample
    g = Graph().parse(data=text, format="nt")
    store = ox.Store()
    store.load(text.encode("utf-8"), format=ox.RdfFormat.N_TRIPLES)
    assert len(g) == n
    assert len(store) == n


def test_every_term_is_declared_in_the_ontology(sample, ontology: Graph) -> None:
    g = Graph().parse(data=sample[0], format="nt")
    kinds = {p: set(ontology.objects(p, RDF.type)) for p in set(g.predicates())}
    for pred, declared in kinds.items():
        if pred in (RDF.type, RDFS.label):
            continue
        assert declared & {OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty}, pred
        objects = set(g.objects(None, pred))
        if OWL.ObjectProperty in declared:
            assert all(isinstance(o, URIRef) for o in objects), pred
        if OWL.DatatypeProperty in declared:
            assert all(isinstance(o, Literal) for o in objects), pred
            rng = ontology.value(pred, RDFS.range)
            if isinstance(rng, URIRef) and str(rng).startswith(str(XSD)):
                assert {o.datatype or XSD.string for o in objects} == {rng}, pred
    for cls in set(g.objects(None, RDF.type)):
        assert (cls, RDF.type, OWL.Class) in ontology, cls
    value_terms = {o for o in g.objects() if isinstance(o, URIRef) and str(o).startswith(CKB)}
    for term in value_terms - set(g.objects(None, RDF.type)):
        assert (term, RDF.type, OWL.NamedIndividual) in ontology, term


def test_every_part_of_the_model_is_present(sample) -> None:
    g = Graph().parse(data=sample[0], format="nt")
    classes = {str(c).removeprefix(CKB) for c in g.objects(None, RDF.type)}
    assert {"State", "ArmedForce", "Division", "Militia", "Coalition", "Backing", "CampMembership",
            "UnitAffiliation", "Clash", "Strike", "Participation", "Report", "Quote",
            "SourceStatement", "Document", "MediaOutlet", "Place", "Province"} <= classes
    assert g.value(URIRef(CKBR + "actor/0"), URIRef("http://www.w3.org/2004/02/skos/core#altLabel"))


def test_benchmark_queries_agree_between_rdflib_and_oxigraph(sample) -> None:
    text, _ = sample
    g = Graph().parse(data=text, format="nt")
    store = ox.Store()
    store.load(text.encode("utf-8"), format=ox.RdfFormat.N_TRIPLES)
    for name, (_, sparql) in queries.QUERIES.items():
        from_rdflib = {tuple(str(v) for v in row) for row in g.query(sparql)}
        from_ox = {tuple(t.value for t in sol) for sol in store.query(sparql)}
        assert from_rdflib, name  # each query has something to find at every size
        assert from_rdflib == from_ox, name


def test_output_passes_the_projects_shacl_shapes_except_document_texts(tmp_path: Path) -> None:
    from kb import KnowledgeBase

    data = tmp_path / "synth.nt"
    with open(data, "w", encoding="utf-8") as fh:
        generate.write(3000, fh)
    onto = ROOT / "ontology"
    with KnowledgeBase.open(memory=True) as k:
        k.load([onto / "conflict.ttl", onto / "shapes.ttl", data])
        report = k.validate()
    # Synthetic documents have no text (no file under data/sources/, no inline ckb:fullText);
    # every other shape must hold.
    def about_text(r) -> bool:
        return "textFile" in str(r.path) or "verbatim text" in r.message

    others = [r.message for r in report.results if not about_text(r)]
    assert others == []
    assert any(about_text(r) for r in report.results)


def test_unit_hierarchy_is_deeper_than_one_level(sample) -> None:
    store = ox.Store()
    store.load(sample[0].encode("utf-8"), format=ox.RdfFormat.N_TRIPLES)
    deep = queries.PREFIXES + "ASK { ?a org:subOrganizationOf/org:subOrganizationOf ?c }"
    assert bool(store.query(deep))


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "benchmarks.generate", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def test_cli_writes_the_file_it_reports(tmp_path: Path) -> None:
    out = tmp_path / "synth.nt"
    done = _cli("--triples", "800", "--seed", "2", "-o", str(out))
    assert done.returncode == 0, done.stderr
    n = int(done.stderr.split()[1])
    assert out.read_text(encoding="utf-8").count("\n") == n
    assert out.read_text(encoding="utf-8") == _nt(800, seed=2)[0]


@pytest.mark.parametrize(("args", "code", "words"), [
    (("--triples", "0"), 2, "--triples must be at least 1"),
    (("--triples", "10", "-o", "/nonexistent-dir/x.nt"), 1, "/nonexistent-dir/x.nt"),
])
def test_cli_bad_input_is_one_clear_line(args: tuple[str, ...], code: int, words: str) -> None:
    done = _cli(*args)
    assert done.returncode == code
    assert words in done.stderr
    assert "Traceback" not in done.stderr


def _bench(tmp_path: Path, *args: str) -> dict:
    data = tmp_path / "synth.nt"
    with open(data, "w", encoding="utf-8") as fh:
        generate.write(2000, fh)
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_store", "--triples", "2000", "--data", str(data),
         "--out", str(tmp_path), *args], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads((tmp_path / "bench-2k.json").read_text(encoding="utf-8"))


def test_benchmark_harness_runs_stores_side_by_side(tmp_path: Path) -> None:
    run = _bench(tmp_path, "--repeat", "2", "--stores", "rdflib,oxigraph-memory")
    rdf, ox_ = run["stores"]["rdflib"], run["stores"]["oxigraph-memory"]
    for op in ("load", "first", *queries.QUERY_ORDER, "serialise"):
        assert rdf["ops"][op]["status"] == ox_["ops"][op]["status"] == "ok", op
    for op in queries.QUERY_ORDER:
        assert len(rdf["ops"][op]["samples"]) == 2
        assert rdf["ops"][op]["size"] == ox_["ops"][op]["size"] > 0, op
    assert rdf["peak_rss_kib"] > 0
    table = (tmp_path / "bench-2k.md").read_text(encoding="utf-8")
    assert "| pyoxigraph direct, in memory |" in table
    assert "MISMATCH" not in table


def test_benchmark_harness_records_a_timeout_and_stays_bounded(tmp_path: Path) -> None:
    run = _bench(tmp_path, "--repeat", "1", "--stores", "rdflib", "--timeout", "0.001")
    ops = run["stores"]["rdflib"]["ops"]
    assert ops["load"]["status"] == "timeout"
    assert ops["load"]["median"] is None
    assert all(ops[q]["status"].startswith("not run") for q in queries.QUERY_ORDER)
    assert "timeout" in (tmp_path / "bench-2k.md").read_text(encoding="utf-8")
