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
from http_suite import TOKEN, W3C, Outcome, ckb_serve, keep_doc, read_manifest, run_case, send, table

MANIFEST = W3C / "graph-store-protocol" / "manifest.ttl"
DOC = Path(__file__).resolve().parents[2] / "docs" / "w3c-graph-store.md"
COMMAND = ("CKB_WRITE_DOCS=1 .venv/bin/python -m pytest -q -p no:cacheprovider "
           "tests/w3c/test_graph_store_suite.py")
INTRO = (
    "The W3C SPARQL 1.1 Graph Store HTTP Protocol tests (`graph-store-protocol/manifest.ttl`, "
    "which includes `manifest-direct.ttl` and `manifest-indirect.ttl`), run by "
    "`tests/w3c/test_graph_store_suite.py` as real HTTP requests against `ckb serve` (waitress on "
    "a free loopback port, memory store, update token set). The manifest's `/gsp` path prefix is "
    "mapped to `/rdf-graph-store`; PUT, POST and DELETE send the update token, GET and HEAD do "
    "not. Each test starts on an empty store. A test passes when every response has an allowed "
    "status, the expected Content-Type and Location, and a body isomorphic to the expected graph. "
    "The older `http-rdf-update/manifest.ttl` marks all of its tests deprecated in favour of "
    "these, and gives them only as prose; it is not run. This table is written by the test run "
    "and checked by it."
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


def test_doc_table_matches_this_run(outcomes: dict[str, Outcome]):
    keep_doc(DOC, table("W3C SPARQL 1.1 Graph Store HTTP Protocol: results", INTRO,
                        list(outcomes.values()), COMMAND))
