"""The W3C SPARQL 1.1 Graph Store HTTP Protocol suite, as real HTTP requests against `ckb serve`.

`graph-store-protocol/manifest.ttl` includes the direct and the indirect graph identification
manifests (13 tests). The manifest's "/gsp" path prefix becomes this server's
"/rdf-graph-store"; PUT, POST and DELETE carry the update token, GET and HEAD do not. Each test
starts on an empty store (the tests assume so: several expect 201 Created for a graph an
earlier test also wrote), emptied with DROP ALL through /sparql.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .http_suite import (
    TOKEN,
    W3C,
    Outcome,
    ckb_serve,
    keep_doc,
    read_manifest,
    read_prose_manifest,
    run_case,
    send,
    table,
)

MANIFEST = W3C / "graph-store-protocol" / "manifest.ttl"
DOC = Path(__file__).resolve().parents[2] / "docs" / "w3c-graph-store.md"
COMMAND = ("CKB_WRITE_DOCS=1 .venv/bin/python -m pytest -q -p no:cacheprovider "
           "tests/w3c/test_graph_store_suite.py")
INTRO = (
    "The W3C SPARQL 1.1 Graph Store HTTP Protocol tests (`graph-store-protocol/manifest.ttl`, "
    "which includes `manifest-direct.ttl` and `manifest-indirect.ttl`), run by "
    "`tests/w3c/test_graph_store_suite.py` as real HTTP requests against `ckb serve "
    "--update-token T` as shipped (a fresh store on disk, no other option but the loopback address "
    "and a free port). The manifest's `/gsp` path prefix is "
    "mapped to `/rdf-graph-store`; PUT, POST and DELETE send the update token, GET and HEAD do "
    "not. Each test starts on an empty store. A test passes when every response has an allowed "
    "status, the expected Content-Type and Location, and a body isomorphic to the expected graph. "
    "The older `http-rdf-update/manifest.ttl` marks all of its tests deprecated in favour of "
    "these, and gives them only as prose; its results follow in their own table. These tables "
    "are written by the test run and checked by it."
)
AUTH = [("Authorization", f"Bearer {TOKEN}")]

pytestmark = pytest.mark.skipif(not MANIFEST.is_file(), reason=f"no W3C suite at {MANIFEST}")


def _path(path: str, method: str) -> str:
    assert path.startswith("/gsp"), path
    return "/rdf-graph-store" + path.removeprefix("/gsp")


def _auth(method: str) -> list[tuple[str, str]]:
    return AUTH if method in ("PUT", "POST", "DELETE") else []


@pytest.fixture(scope="module")
def outcomes() -> dict[str, Outcome]:
    """Run the whole manifest once, in its order, against one server."""
    results: dict[str, Outcome] = {}
    with ckb_serve() as base:
        for case in read_manifest(MANIFEST):
            status, _, data = send(base, "POST", "/sparql",
                                   [("Content-Type", "application/sparql-update"), *AUTH], b"DROP ALL")
            assert status == 204, data
            results[case.id] = run_case(base, case, _path, _auth)
    return results


def test_the_suite_has_13_tests():
    assert len(read_manifest(MANIFEST)) == 13


@pytest.mark.parametrize("test_id", [c.id for c in read_manifest(MANIFEST)] if MANIFEST.is_file() else [])
def test_graph_store(outcomes: dict[str, Outcome], test_id: str):
    outcome = outcomes[test_id]
    assert outcome.passed, outcome.detail




# -- the deprecated http-rdf-update manifest ----------------------------------------------

PROSE = W3C / "http-rdf-update" / "manifest.ttl"
PROSE_INTRO = (
    "`http-rdf-update/manifest.ttl` is the older form of the suite: every one of its 18 tests is "
    "marked `dawg:Deprecated` \"in favor of the tests in ../graph-store-protocol/manifest.ttl\", "
    "and each is written as an HTTP request and response in prose. The same test file reads that "
    "prose (`$GRAPHSTORE$` is `rdf-graph-store`, `$HOST$` the server, `$NEWPATH$` the Location "
    "of the POST that made a new graph) and runs the 18 tests in order on one store, as they are "
    "written: each expects exactly one status code. Where a test fails, the reason is given; the "
    "test run checks that exactly these fail."
)
# Why each deprecated test that fails does; the run must fail exactly these, for these reasons.
PROSE_FAILURES = {
    "put__default_graph": "expects exactly 201 Created for a PUT to the default graph, which always "
                          "exists; ckb answers 204 (the maintained `put_get_default` allows 200, 201 "
                          "or 204)",
    "delete__existing_graph": "deletes `person/2.ttl`, which no earlier test creates: ckb answers 404 "
                              "(and on a graph that exists it answers 204, not the 200 this test wants)",
    "post__existing_graph": "its Turtle body lacks the final `.`, so it does not parse: ckb answers "
                            "400 and writes nothing (on a good body it answers 204, not the 200 this "
                            "test wants)",
    "get_of_post__existing_graph": "expects \"John Doe\", though `put__graph_already_in_store` "
                                   "replaced the graph by \"Jane Doe\"",
    "post__multipart_formdata": "both Turtle parts lack the final `.`, so they do not parse: ckb "
                                "answers 400 and writes nothing (on good parts it answers 204, not "
                                "the 200 this test wants)",
    "get_of_post__multipart_formdata": "expects the triples of the two POSTs that did not parse",
}


@pytest.fixture(scope="module")
def prose_outcomes() -> dict[str, Outcome]:
    """Run the deprecated manifest once, in its order, on one store."""
    results: dict[str, Outcome] = {}
    with ckb_serve() as base:
        host = base.removeprefix("http://")
        variables: dict[str, str] = {}

        def prepare(path: str, method: str) -> str:
            path = path.removeprefix(base)  # $NEWPATH$ is the full Location URL
            return path if path.startswith("/") else "/" + path

        for case in read_prose_manifest(PROSE):
            for req in case.requests:
                for var, value in (("$HOST$", host), ("$GRAPHSTORE$", "rdf-graph-store")):
                    req.path = req.path.replace(var, value)
                    req.body = req.body.replace(var.encode(), value.encode()) if req.body else req.body
                    if req.response_body:
                        req.response_body = req.response_body.replace(var, value)
            results[case.id] = run_case(base, case, prepare, _auth, variables)
    return results


def test_deprecated_prose_suite_fails_only_where_it_contradicts_itself(prose_outcomes):
    assert len(prose_outcomes) == 18
    failed = {i for i, o in prose_outcomes.items() if not o.passed}
    details = {i: prose_outcomes[i].detail for i in failed - set(PROSE_FAILURES)}
    assert failed == set(PROSE_FAILURES), details


def test_doc_tables_match_this_run(outcomes: dict[str, Outcome], prose_outcomes: dict[str, Outcome]):
    text = table("W3C SPARQL 1.1 Graph Store HTTP Protocol: results", INTRO, list(outcomes.values()),
                 COMMAND)
    text += "\n" + table("The deprecated http-rdf-update tests", PROSE_INTRO,
                         list(prose_outcomes.values()), None, PROSE_FAILURES, level=2)
    keep_doc(DOC, text)
