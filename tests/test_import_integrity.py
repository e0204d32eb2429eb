"""Each dataset import stands on its own: re-importing or dropping one never strips another's facts.

Issue 18 item 3: actors a first import minted were matched by "exact label" against the graph about to
be replaced, so the new graph carried no type or label for them; an import whose rows named another
import's actors leaned on that import's graph for their names.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

import pyoxigraph as ox
import pytest

from kb import KnowledgeBase
from kb.imports import run_import
from kb.imports.actors import unmatched
from kb.namespaces import import_graph
from tests.conftest import GED_BANGLADESH

ROOT = Path(__file__).resolve().parent.parent
GED = GED_BANGLADESH
if not GED.is_file():
    GED = ROOT / "tests" / "fixtures" / "ucdp-ged-19.1-bangladesh.csv"
ACLED = ROOT / "tests" / "fixtures" / "acled-syria-sample.csv"
CKBR = "https://w3id.org/conflict-kb/id/"
CKB = "https://w3id.org/conflict-kb/ontology#"
PROV = "http://www.w3.org/ns/prov#"
LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
CHECKS = sorted((ROOT / "ontology" / "checks").glob("*.rq"))
P = """PREFIX ckb: <https://w3id.org/conflict-kb/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX prov: <http://www.w3.org/ns/prov#>
"""

pytestmark = pytest.mark.skipif(not GED.is_file(), reason="UCDP GED Bangladesh sample not available")


def _rows() -> list[dict[str, str]]:
    with GED.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _write(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, tuple[Path, str]]:
    """GED A; A with one figure changed; B, a slice of A renamed, and B less 20 rows; generated G; ACLED."""
    import sys

    sys.path.insert(0, str(ROOT))
    from benchmarks.generate_ged import write

    tmp = tmp_path_factory.mktemp("datasets")
    rows = _rows()
    changed = [dict(r) for r in rows]
    changed[0]["best"] = str(int(changed[0]["best"]) + 1)  # not in B: the two never disagree
    changed[0]["high"] = str(int(changed[0]["high"]) + 1)
    return {"a": (GED, "ucdp-ged"), "a2": (_write(tmp / "bgd-fixed.csv", changed), "ucdp-ged"),
            "b": (_write(tmp / "second.csv", rows[200:400]), "ucdp-ged"),
            "b2": (_write(tmp / "second-less.csv", rows[200:380]), "ucdp-ged"),
            "g": (write(tmp / "generated.csv", 300, seed=3), "ucdp-ged"), "c": (ACLED, "acled")}


def select(kb: KnowledgeBase, sparql: str) -> list[dict[str, str]]:
    """Ask the engine directly (the store's content is the truth; no worker start per question)."""
    result = kb.backend.store.query(P + sparql, use_default_graph_as_union=True)
    return [{v.value: str(s[v].value) for v in result.variables if s[v] is not None} for s in result]


def answers(kb: KnowledgeBase, path: Path, fmt: str) -> set[tuple[str, ...]]:
    """What a user asks about a file's events: labels and types of each event and what it refers to.

    Read from the engine's quads in every graph (the union a query sees), pattern by pattern: one
    SPARQL join over two imports let the planner take seconds.
    """
    column, prefix = ("id", "ucdp-ged-") if fmt == "ucdp-ged" else ("event_id_cnty", "acled-")
    store = kb.backend.store

    def objects(s: ox.NamedNode, p: str) -> set[ox.NamedNode | ox.Literal]:
        return {q.object for q in store.quads_for_pattern(s, ox.NamedNode(p), None, None)}

    def subjects(p: str, o: ox.NamedNode) -> set[ox.NamedNode]:
        return {q.subject for q in store.quads_for_pattern(None, ox.NamedNode(p), o, None)}

    def about(x: ox.NamedNode | ox.Literal) -> tuple[str, ...]:
        return (str(x), *sorted(map(str, objects(x, LABEL))), *sorted(map(str, objects(x, TYPE))))

    with path.open(encoding="utf-8", newline="") as f:
        events = [ox.NamedNode(f"{CKBR}{prefix}{r[column]}") for r in csv.DictReader(f)]
    out = set()
    for e in events:
        refs = objects(e, CKB + "participant") | objects(e, CKB + "place")
        for claim in subjects(CKB + "codesRecord", e):
            for stmt in objects(claim, PROV + "wasDerivedFrom"):
                refs |= objects(stmt, PROV + "wasAttributedTo")
        best = tuple(sorted(map(str, objects(e, CKB + "fatalitiesBest"))))
        out |= {(*about(e), *best, *about(x)) for x in refs}
    return out


def assert_whole(kb: KnowledgeBase) -> None:
    """Every event and actor has a label and a type, and every quality check passes."""
    bare = select(kb, """
        SELECT DISTINCT ?x WHERE {
          { ?x ckb:ucdpId ?id } UNION { ?x ckb:acledId ?id } UNION { ?e ckb:participant ?x }
          FILTER (NOT EXISTS { ?x rdfs:label ?l } || NOT EXISTS { ?x a ?t })
        }""")
    assert bare == [], f"{len(bare)} events or actors without a label or a type, e.g. {bare[:3]}"
    for check in CHECKS:
        assert select(kb, check.read_text(encoding="utf-8")) == [], check.stem


def test_reimport_after_a_second_import_keeps_every_name(files) -> None:
    """The issue's steps: GED A, a second GED file, then A again under the same name, one figure changed."""
    with KnowledgeBase.open(memory=True) as kb:
        kb.ensure_loaded()
        run_import(kb, files["a"][0], "ucdp-ged", name="bgd")
        minted = {u["name"] for u in unmatched(kb)}
        run_import(kb, files["g"][0], "ucdp-ged", name="generated")
        again = run_import(kb, files["a2"][0], "ucdp-ged", name="bgd")
        assert not again.unchanged and again.rows == 601
        assert_whole(kb)
        # the actors A minted are still A's own: its new graph says so, not "exact label"
        assert minted <= {u["name"] for u in unmatched(kb)}
        assert "Supporters of Awami League" in minted
        methods = kb.query(P + """SELECT DISTINCT ?m WHERE {
            ?n ckb:matchedName "Supporters of Awami League" ; ckb:matchMethod ?m }""").rows
        assert [str(r["m"]) for r in methods] == ["unmatched"]
        first = _rows()[0]
        best = kb.query(P + f"""SELECT ?b WHERE {{ GRAPH <{import_graph("bgd")}> {{
            ?e ckb:ucdpId "{first['id']}" ; ckb:fatalitiesBest ?b }} }}""").rows
        assert [str(r["b"]) for r in best] == [str(int(first["best"]) + 1)]


def test_each_import_states_every_actor_it_names(files) -> None:
    """A second import naming the first one's actors describes them itself (in its own graph).

    (The few shared individuals, UCDP itself and the violence codes, are in the ontology's graph.)
    """
    with KnowledgeBase.open(memory=True) as kb:
        kb.ensure_loaded()
        run_import(kb, files["a"][0], "ucdp-ged", name="a")
        run_import(kb, files["b"][0], "ucdp-ged", name="b")
        bare = kb.query(P + f"""SELECT DISTINCT ?x WHERE {{ GRAPH <{import_graph("b")}> {{
            {{ ?e ckb:participant|ckb:place ?x }}
            UNION {{ ?s a ckb:SourceStatement ; prov:wasAttributedTo ?x }}
            FILTER (NOT EXISTS {{ ?x rdfs:label ?l }} || NOT EXISTS {{ ?x a ?t }}) }} }}""").rows
        assert bare == []


def test_dropping_either_import_leaves_the_other_unchanged(files) -> None:
    with KnowledgeBase.open(memory=True) as kb:
        kb.ensure_loaded()
        run_import(kb, files["a"][0], "ucdp-ged", name="a")
        alone_a = answers(kb, *files["a"])
        run_import(kb, files["b"][0], "ucdp-ged", name="b")
        with_a = answers(kb, *files["b"])
        kb.backend.drop_graph(import_graph("a"))
        assert answers(kb, *files["b"]) == with_a  # B never leaned on A's graph
        assert_whole(kb)
        run_import(kb, files["a"][0], "ucdp-ged", name="a")
        kb.backend.drop_graph(import_graph("b"))
        assert answers(kb, *files["a"]) == alone_a
        assert_whole(kb)


@pytest.mark.parametrize("seed", [0, 1, 5])
def test_any_sequence_of_imports_and_drops_keeps_each_import_whole(files, seed: int) -> None:
    """Random imports, re-imports (same name, other content) and drops; after each step every live
    import answers exactly as it does when it is the only import, and every check passes."""
    versions = {"a": ("a", "a2"), "b": ("b", "b2"), "c": ("c",)}  # graph name -> the files it may hold
    alone: dict[str, set[tuple[str, ...]]] = {}
    for key, (path, fmt) in files.items():
        if key != "g":
            with KnowledgeBase.open(memory=True) as ref:
                ref.ensure_loaded()
                run_import(ref, path, fmt, name="ref")
                alone[key] = answers(ref, path, fmt)
    rnd = random.Random(seed)
    live: dict[str, str] = {}  # graph name -> file key
    with KnowledgeBase.open(memory=True) as kb:
        kb.ensure_loaded()
        for _ in range(8):
            graph = rnd.choice(sorted(versions))
            if graph in live and rnd.random() < 0.5:
                kb.backend.drop_graph(import_graph(graph))
                del live[graph]
            else:
                key = rnd.choice(versions[graph])
                run_import(kb, files[key][0], files[key][1], name=graph)
                live[graph] = key
            assert_whole(kb)
            for graph, key in live.items():
                assert answers(kb, *files[key]) == alone[key], (seed, graph, key, live)


def test_an_actor_matched_across_datasets_keeps_its_name_when_the_other_import_goes(files, tmp_path) -> None:
    """ACLED naming an actor a GED import minted matches it by exact label and restates its type and
    label: dropping the GED import leaves the ACLED event's actor named and typed."""
    with ACLED.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    rows[0]["actor2"] = "Supporters of BNP"
    acled = _write(tmp_path / "acled-bnp.csv", rows)
    with KnowledgeBase.open(memory=True) as kb:
        kb.ensure_loaded()
        run_import(kb, files["a"][0], "ucdp-ged", name="a")
        actor = select(kb, 'SELECT ?x ?t WHERE { ?x rdfs:label "Supporters of BNP" ; a ?t }')
        assert len(actor) == 1
        run_import(kb, acled, "acled", name="c")
        match = select(kb, """SELECT ?actor ?m WHERE {
            ?n ckb:matchedName "Supporters of BNP" ; ckb:matchDataset "acled" ;
               ckb:matchedActor ?actor ; ckb:matchMethod ?m }""")
        assert match == [{"actor": actor[0]["x"], "m": "exact label"}]
        before = answers(kb, acled, "acled")
        kb.backend.drop_graph(import_graph("a"))
        assert answers(kb, acled, "acled") == before
        still = select(kb, f'SELECT ?t WHERE {{ <{actor[0]["x"]}> rdfs:label "Supporters of BNP" ; a ?t }}')
        assert still == [{"t": actor[0]["t"]}]
        assert_whole(kb)


def test_a_skipped_row_leaves_nothing_it_named_undescribed(tmp_path) -> None:
    """--skip-bad: a row dropped after its place and first actor were resolved must not keep a later
    row from describing them (its triples were never written), nor leave a name match behind."""
    rows = _rows()[:6]
    for n in (1, 3):  # the same new place and new actor on lines 3 (bad) and 5 (good)
        rows[n].update(adm_2="Nowhere District", side_a="New Front", side_a_new_id="99999")
    rows[1]["side_b_new_id"] = "1> <x:injected"  # fails after the place and side A were resolved
    rows[2].update(side_a="Only In A Bad Row", side_a_new_id="88888", side_b="Also New",
                   side_b_new_id="2> <x:injected")
    path = _write(tmp_path / "skips.csv", rows)
    with KnowledgeBase.open(memory=True) as kb:
        kb.ensure_loaded()
        result = run_import(kb, path, "ucdp-ged", skip_bad=True)
        assert [line for line, _ in result.skipped] == [3, 4] and result.rows == 4
        assert_whole(kb)
        named = select(kb, f"""SELECT ?t ?l WHERE {{ <{CKBR}ucdp-actor-99999> a ?t ; rdfs:label ?l }}""")
        assert named == [{"t": CKB + "ArmedGroup", "l": "New Front"}]
        assert select(kb, 'SELECT ?n WHERE { ?n ckb:matchedName "Only In A Bad Row" }') == []
