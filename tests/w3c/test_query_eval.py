"""The W3C SPARQL 1.1 query-evaluation tests: kb answers exactly as the raw engine does.

Every test runs twice on the same data: through ``KnowledgeBase.query`` (parse check,
fenced worker, engine serialisers, row cap) and through raw pyoxigraph. The answers
must be the same. Separately, the raw engine's answers are compared with the
expected results, and the cases where Oxigraph itself differs are listed in
docs/w3c-query-evaluation.md (regenerate with CKB_WRITE_DOCS=1).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import RDF, Graph, Namespace
from rdflib.compare import isomorphic

from kb import KnowledgeBase
from kb.errors import KBError
from kb.query.results import RESULT_FORMATS
from kb.store.staging import rdf_format
from kb.terms import to_ox

from .manifests import ROOT, SUITE, EvalCase, query_eval_cases

pytestmark = pytest.mark.skipif(not SUITE.is_dir(), reason=f"W3C suite not found at {SUITE}")
DOC = ROOT / "docs" / "w3c-query-evaluation.md"
RS = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/result-set#")
CASES = query_eval_cases() if SUITE.is_dir() else []


def _store(case: EvalCase) -> ox.Store:
    store = ox.Store()
    for path in case.data:
        store.load(path=str(path), format=rdf_format(path), base_iri=path.as_uri())
    for path in case.graph_data:
        store.load(path=str(path), format=rdf_format(path), base_iri=path.as_uri(),
                   to_graph=ox.NamedNode(path.as_uri()))
    return store


XSD = "http://www.w3.org/2001/XMLSchema#"
NUMERIC = {XSD + t for t in ("double", "float", "decimal", "integer")}


def _term(term: object) -> str:
    if isinstance(term, ox.BlankNode):
        return "_:b"  # blank node labels are the engine's to choose
    if isinstance(term, ox.Literal) and term.datatype.value in NUMERIC:
        try:  # results compare numbers by value: "3.0E4" and "30000" are the same double
            return f"{term.datatype.value}:{Decimal(term.value).normalize()}"
        except InvalidOperation:
            pass
    return str(term)


def _canonical_answer(answer: object) -> object:
    """An order-free, blank-node-free form of a pyoxigraph answer."""
    if isinstance(answer, ox.QueryBoolean):
        return bool(answer)
    if isinstance(answer, ox.QuerySolutions):
        names = sorted(v.value for v in answer.variables)  # SELECT * orders variables freely
        return sorted(tuple(_term(s[n]) if s[n] is not None else "" for n in names) for s in answer)
    graph = Graph()
    for t in answer:
        graph.parse(data=f"{t.subject} {t.predicate} {t.object} .", format="nt")
    return graph


def _same(a: object, b: object) -> bool:
    if isinstance(a, Graph) and isinstance(b, Graph):
        return isomorphic(a, b)
    return a == b


def _dataset(index: int, case: EvalCase) -> tuple[list[str], list[str]]:
    """Where case ``index`` keeps its data in the shared store: (default graphs, named graphs)."""
    return [f"urn:w3c:case:{index}"], [p.as_uri() for p in case.graph_data]


def _shared_store() -> ox.Store:
    """Every case's data in one store: its default graph as a graph of its own, named graphs by file."""
    store = ox.Store()
    for index, case in enumerate(CASES):
        default, _ = _dataset(index, case)
        for path in case.data:
            store.load(path=str(path), format=rdf_format(path), base_iri=path.as_uri(),
                       to_graph=ox.NamedNode(default[0]))
        for path in case.graph_data:
            if not any(True for _ in store.quads_for_pattern(None, None, None, ox.NamedNode(path.as_uri()))):
                store.load(path=str(path), format=rdf_format(path), base_iri=path.as_uri(),
                           to_graph=ox.NamedNode(path.as_uri()))
    return store


def _raw(case: EvalCase, store: ox.Store, dataset: tuple[list[str], list[str]] | None = None) -> object:
    options = {} if dataset is None else {
        "default_graph": [ox.NamedNode(g) for g in dataset[0]],
        "named_graphs": [ox.NamedNode(g) for g in dataset[1]]}
    try:
        return _canonical_answer(store.query(case.query.read_text(encoding="utf-8"),
                                             base_iri=case.query.as_uri(), **options))
    except (SyntaxError, OSError, ValueError) as err:
        return f"error: {type(err).__name__}"


def _through_kb(case: EvalCase, kb: KnowledgeBase, dataset: tuple[list[str], list[str]]) -> object:
    text = case.query.read_text(encoding="utf-8")
    try:
        result = kb.query(text, base_iri=case.query.as_uri(), default_graphs=dataset[0],
                          named_graphs=dataset[1], limit=100_000)
    except KBError as err:
        return f"error: {type(err).__name__}"
    if result.kind == "graph":
        return _canonical_answer(ox.parse(result.body, format=ox.RdfFormat.N_TRIPLES))
    return _canonical_answer(ox.parse_query_results(result.body, format=RESULT_FORMATS[result.format]))


def _expected(case: EvalCase) -> object:
    path = case.result
    assert path is not None
    if path.suffix == ".srx":
        return _canonical_answer(ox.parse_query_results(path=str(path), format=ox.QueryResultsFormat.XML))
    if path.suffix == ".srj":
        return _canonical_answer(ox.parse_query_results(path=str(path), format=ox.QueryResultsFormat.JSON))
    graph = Graph().parse(path, format="turtle", publicID=path.as_uri())
    result_set = graph.value(None, RDF.type, RS.ResultSet)
    if result_set is None:
        return graph
    names = sorted(str(v) for v in graph.objects(result_set, RS.resultVariable))
    rows = []
    for solution in graph.objects(result_set, RS.solution):
        values = {str(graph.value(b, RS.variable)): graph.value(b, RS.value)
                  for b in graph.objects(solution, RS.binding)}
        rows.append(tuple(_rdflib_term(values.get(n)) for n in names))
    return ("rs", names, sorted(rows))


def _rdflib_term(term: object) -> str:
    if term is None:
        return ""
    return _term(to_ox(term))


def _compare_expected(case: EvalCase, store: ox.Store) -> str:
    if case.result is None:
        return "no expected result"
    expected = _expected(case)
    if isinstance(expected, tuple):  # a result set in RDF: compare under its own variable order
        try:
            answer = store.query(case.query.read_text(encoding="utf-8"), base_iri=case.query.as_uri())
        except (SyntaxError, OSError, ValueError) as err:
            return f"differs (error: {type(err).__name__})"
        names = expected[1]
        got = sorted(tuple(_term(s[n]) if s[n] is not None else "" for n in names) for s in answer)
        return "same" if got == expected[2] else "differs"
    raw = _raw(case, store)
    if isinstance(raw, str):
        return f"differs ({raw})"
    return "same" if _same(raw, expected) else "differs"


@pytest.fixture(scope="module")
def outcomes() -> Iterator[dict[str, tuple[str, str]]]:
    """case name -> (kb against raw, raw against expected), run once for all cases."""
    found: dict[str, tuple[str, str]] = {}
    shared = _shared_store()
    with KnowledgeBase.open(memory=True, workers=1, timeout=20) as kb:
        kb.backend.store = shared  # the very same data the raw engine reads
        kb.backend._stale = True
        for index, case in enumerate(CASES):
            dataset = _dataset(index, case)
            raw, through = _raw(case, shared, dataset), _through_kb(case, kb, dataset)
            verdict = "same" if _same(raw, through) else f"differs: kb {through!r:.80} raw {raw!r:.80}"
            found[case.name] = (verdict, _compare_expected(case, _store(case)))
    yield found


def test_the_suite_is_there() -> None:
    assert len(CASES) >= 200


def test_kb_answers_as_the_raw_engine(outcomes: dict[str, tuple[str, str]]) -> None:
    differing = {name: kb for name, (kb, _) in outcomes.items() if kb != "same"}
    assert differing == {}


def _table(outcomes: dict[str, tuple[str, str]]) -> str:
    raw_differs = sorted((n, e) for n, (_, e) in outcomes.items() if e != "same")
    same = sum(1 for _, e in outcomes.values() if e == "same")
    lines = [
        "# W3C SPARQL 1.1 query evaluation",
        "",
        "Generated by `tests/w3c/test_query_eval.py` from",
        "`../shared/w3c/sparql11/manifest-sparql11-query.ttl`",
        "(regenerate: `CKB_WRITE_DOCS=1 python -m pytest tests/w3c/test_query_eval.py`).",
        "",
        f"- Query-evaluation tests: {len(outcomes)}.",
        f"- `kb` gives the same answer as raw pyoxigraph on the same data: "
        f"{sum(1 for k, _ in outcomes.values() if k == 'same')} of {len(outcomes)}.",
        f"- Raw pyoxigraph {ox.__version__} gives the expected answer: {same} of {len(outcomes)}.",
        "",
        "Where raw pyoxigraph itself differs from the expected result (so `kb` does too):",
        "",
        "| test | raw pyoxigraph against the expected result |",
        "|---|---|",
        *(f"| `{n}` | {e} |" for n, e in raw_differs),
        "",
    ]
    return "\n".join(lines)


def test_docs_list_where_the_engine_differs(outcomes: dict[str, tuple[str, str]]) -> None:
    table = _table(outcomes)
    if os.environ.get("CKB_WRITE_DOCS"):
        DOC.write_text(table, encoding="utf-8")
    assert Path(DOC).read_text(encoding="utf-8") == table
