"""Derived state never changes an answer (issue 18, item 6): the competency questions and the
analyst's queries (the explorer's and the source pages') answer the same on a store before and
after 'ckb index', with its derived state deleted, and on its full export loaded into a fresh
store. A real disk store and the real CLI; no mocks."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest

from benchmarks import generate
from kb import KnowledgeBase
from kb.namespaces import CKB, CKBR, GRAPH_SHAPES
from kb.views.claimfacets import facet_query
from kb.views.claims import FACETS, build_query, check_filters, count_query
from tests.test_cli import ckb

ROOT = Path(__file__).resolve().parent.parent
COMPETENCY = sorted((ROOT / "ontology" / "queries").glob("*.rq"))
PROV = "http://www.w3.org/ns/prov#"
COUNT_ALL = "SELECT (COUNT(*) AS ?n) { GRAPH ?g { ?s ?p ?o } }"
# The explorer's views (its listing, its count and every facet) for these filters.
VIEWS = [{}, {"anonymity": "anonymous"}, {"kind": "report"}, {"q": "reportedly"},
         {"source": str(CKBR.BasNews)}, {"speaker": str(CKBR.AnonymousSyrianOfficial)},
         {"actor": str(CKBR.Hezbollah)}]
SOURCES = [str(CKBR.BasNews), str(CKBR.AnonymousSyrianOfficial), str(CKBR["outlet/0"])]


def analyst_queries(claims: list[str]) -> dict[str, str]:
    """The questions asked of the store, by name: what the pages and an analyst ask."""
    asked = {p.stem: p.read_text(encoding="utf-8") for p in COMPETENCY}
    for args in VIEWS:
        f, key = check_filters(args), ",".join(f"{k}={v}" for k, v in args.items())
        asked[f"explorer count {key}"] = count_query(f)
        asked[f"explorer page {key}"] = build_query(f, 50, 0)
        # (the actor facet of a broad view takes the engine seconds: asked of the whole set only)
        asked |= {f"explorer facet {name} {key}": facet_query(f, name) for name in FACETS
                  if name != "actor" or not args or "q" in args or "actor" in args}
    for agent in SOURCES:  # a source page: what the agent said, what rests on it downstream
        asked[f"said by {agent}"] = (
            f"SELECT DISTINCT ?s WHERE {{ {{ ?s <{PROV}wasAttributedTo> <{agent}> }} "
            f"UNION {{ ?s <{PROV}qualifiedAttribution>/<{PROV}agent> <{agent}> }} }}")
        asked[f"resting on {agent}"] = f"SELECT ?c ?p WHERE {{ ?c ?p <{agent}> }}"
        asked[f"rests on {agent}"] = f"SELECT ?c WHERE {{ ?c <{CKB.restsOn}> <{agent}> }}"
    for claim in claims:  # everything about a claim, as a curious analyst asks it
        asked[f"facts of {claim}"] = f"SELECT ?p ?o WHERE {{ <{claim}> ?p ?o }}"
        asked[f"describe {claim}"] = f"DESCRIBE <{claim}>"
    asked |= {
        "count in graphs": COUNT_ALL,
        "count in the default graph": "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }",
        "graphs": "SELECT ?g (COUNT(*) AS ?n) { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g",
        "properties": "SELECT ?p (COUNT(*) AS ?n) { ?s ?p ?o } GROUP BY ?p",
        "claims by kind": f"PREFIX ckb: <{CKB}> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> "
                          "SELECT ?k (COUNT(?c) AS ?n) { ?c a ?k . ?k rdfs:subClassOf* ckb:Claim } "
                          "GROUP BY ?k",
        "everything": "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }",
    }
    return asked


_BLANK = re.compile(r"_:[A-Za-z0-9_.-]+")


def _normal(answer: Any) -> Any:
    """An answer as a sorted list of text rows, blank node labels erased (a reload renames them)."""
    if isinstance(answer, ox.QueryBoolean):
        return bool(answer)
    if isinstance(answer, ox.QuerySolutions):
        names = [v.value for v in answer.variables]
        return sorted(tuple(_BLANK.sub("_:", str(s[n])) if s[n] is not None else "" for n in names)
                      for s in answer)
    return sorted(_BLANK.sub("_:", str(t)) for t in answer)


def _via_kb(kb: KnowledgeBase) -> Callable[[str], Any]:
    """Ask through the KB, as pages and SPARQL clients do (the engine's own result bytes, read back)."""
    def ask(sparql: str) -> Any:
        result = kb.query(sparql, limit=1_000_000, timeout=120)
        assert not result.truncated, sparql
        if result.kind == "ask":
            return bool(result.boolean)
        if result.kind == "select":
            return _normal(ox.parse_query_results(result.serialize("tsv"), format=ox.QueryResultsFormat.TSV))
        return _normal(ox.parse(result.serialize("nt"), format=ox.RdfFormat.N_TRIPLES))
    return ask


def _answers(ask: Callable[[str], Any], queries: dict[str, str]) -> dict[str, Any]:
    return {name: ask(sparql) for name, sparql in queries.items()}


def _differences(one: dict[str, Any], other: dict[str, Any]) -> list[str]:
    """The questions answered differently, each with the sizes (or first rows) of both answers."""
    def size(answer: Any) -> Any:
        return answer[0] if isinstance(answer, list) and len(answer) == 1 else \
            f"{len(answer)} rows" if isinstance(answer, list) else answer
    return [f"{name}: {size(one[name])} against {size(other[name])}"
            for name in one if one[name] != other[name]]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A disk store with the bundle and a generated import, never indexed."""
    folder = tmp_path_factory.mktemp("derived")
    data = folder / "synthetic.nt"
    with data.open("w", encoding="utf-8") as fh:
        generate.write(10_000, fh, seed=5)
    path = folder / "store"
    with KnowledgeBase.open(path) as kb:
        kb.load()
        kb.import_file(data)
    yield path


def test_derived_state_changes_no_answer(store: Path) -> None:
    with KnowledgeBase.open(store, read_only=True) as kb:
        rows = kb.query(f"PREFIX ckb: <{CKB}> SELECT ?c {{ ?c a ckb:Report }} ORDER BY ?c LIMIT 3").rows
        queries = analyst_queries([str(r["c"]) for r in rows])
        before = _answers(_via_kb(kb), queries)
    assert before["rests on " + SOURCES[0]] == []  # the data states no such property
    assert len(before) > 80

    indexed = ckb("index", store=store)
    assert indexed.returncode == 0 and "claim index:" in indexed.stdout, indexed.stderr
    with KnowledgeBase.open(store, read_only=True) as kb:
        after = _answers(_via_kb(kb), queries)
        exports = {fmt: kb.export(format=fmt, graph="all") for fmt in ("nquads", "trig")}
    assert not _differences(before, after), "\n".join(_differences(before, after))
    assert after["count in graphs"] == before["count in graphs"]

    for fmt, body in exports.items():
        # A fresh disk store, as the KB's, and the export parsed with its blank node labels kept
        # (Store.load renames them): aggregates (GROUP_CONCAT, SAMPLE) then meet the values in
        # the engine's same order (a memory store orders them otherwise).
        fresh = ox.Store(str(store.with_name(f"reloaded-{fmt}")))
        fresh.extend(ox.parse(body, format=ox.RdfFormat.N_QUADS if fmt == "nquads" else ox.RdfFormat.TRIG))
        # The shapes travel in the export as a graph; a KB keeps them beside its store.
        fresh.remove_graph(ox.NamedNode(GRAPH_SHAPES))
        reloaded = _answers(lambda q, store=fresh: _normal(store.query(q, use_default_graph_as_union=True)),
                            queries)
        assert not _differences(before, reloaded), "\n".join([fmt, *_differences(before, reloaded)])

    for derived in store.parent.glob(store.name + ".derived*"):
        shutil.rmtree(derived)  # costs only time: the next 'ckb index' (or the keeper) rebuilds it
    with KnowledgeBase.open(store, read_only=True) as kb:
        gone = _answers(_via_kb(kb), queries)
    assert not _differences(before, gone), "\n".join(_differences(before, gone))


def test_a_stale_index_is_never_read(tmp_path: Path) -> None:
    store = tmp_path / "store"
    loaded = ckb("load", store=store)  # ends by building the claim index
    assert loaded.returncode == 0 and "claim index:" in loaded.stdout, loaded.stderr
    extra, claim = tmp_path / "extra.ttl", str(CKBR["claim/said-after-the-index"])
    extra.write_text(f"<{claim}> a <{CKB.Report}> ; <{PROV}wasAttributedTo> <{CKBR.BasNews}> ; "
                     f"<{CKB.hedgeText}> \"reportedly\" .\n", encoding="utf-8")
    imported = ckb("import", str(extra), store=store)  # leaves the index stale
    assert imported.returncode == 0 and "claim index: stale" in imported.stdout, imported.stderr
    with KnowledgeBase.open(store, read_only=True) as kb:
        # no answer comes from the index built before the import, nor from any index
        assert not kb.query(f"SELECT ?c ?a WHERE {{ ?c <{CKB.restsOn}> ?a }}").rows
        from kb.views.chains import downstream_claims
        from kb.views.claimlist import run

        assert downstream_claims(kb, str(CKBR.BasNews))[0][claim] == 0
        listed = run(kb, check_filters({"source": str(CKBR.BasNews)}), 500)
        assert claim in {r.iri for r in listed.rows}
        assert listed.total == int(kb.query(count_query(check_filters({"source": str(CKBR.BasNews)})))
                                   .rows[0]["n"].toPython())
