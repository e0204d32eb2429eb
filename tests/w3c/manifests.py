"""Read the W3C SPARQL 1.1 test manifests (../shared/w3c/sparql11) into plain test cases."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import RDF, Graph, Namespace
from rdflib.collection import Collection

ROOT = Path(__file__).resolve().parents[2]
SUITE = Path(os.environ.get("CKB_W3C", ROOT.parent / "shared" / "w3c" / "sparql11"))
MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
QT = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-query#")
DAWGT = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-dawg#")


@dataclass
class EvalCase:
    """One query-evaluation test: a query, its data files and the expected result file."""

    name: str  # folder/local name, e.g. aggregates/agg01
    query: Path
    data: list[Path] = field(default_factory=list)
    graph_data: list[Path] = field(default_factory=list)
    result: Path | None = None


def _path(iri: object) -> Path:
    return Path(str(iri).removeprefix("file://"))


def query_eval_cases(manifest: str = "manifest-sparql11-query.ttl") -> list[EvalCase]:
    """Every approved mf:QueryEvaluationTest reachable from a top manifest."""
    top = Graph().parse(SUITE / manifest, format="turtle", publicID=(SUITE / manifest).as_uri())
    cases: list[EvalCase] = []
    for include in top.objects(None, MF.include):
        for sub in Collection(top, include):
            cases.extend(_cases_in(_path(sub)))
    return cases


def _cases_in(manifest: Path) -> list[EvalCase]:
    g = Graph().parse(manifest, format="turtle", publicID=manifest.as_uri())
    found = []
    for entries in g.objects(None, MF.entries):
        for test in Collection(g, entries):
            if (test, RDF.type, MF.QueryEvaluationTest) not in g:
                continue
            if g.value(test, DAWGT.approval) == DAWGT.Withdrawn:
                continue
            action = g.value(test, MF.action)
            query = g.value(action, QT.query)
            if query is None:
                continue
            result = g.value(test, MF.result)
            local = str(test).rsplit("#", 1)[-1]
            found.append(EvalCase(
                f"{manifest.parent.name}/{local}",
                _path(query),
                [_path(d) for d in g.objects(action, QT.data)],
                [_path(d) for d in g.objects(action, QT.graphData)],
                _path(result) if result is not None else None,
            ))
    return found
