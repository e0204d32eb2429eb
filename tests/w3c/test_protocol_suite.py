"""The W3C SPARQL 1.1 Protocol suite (34 tests), as real HTTP requests against a real `ckb serve`.

Each manifest entry is sent as written: its method, path (the manifest's "/sparql/" prefix
becomes this server's "/sparql"), headers and body in its character encoding. Requests of the
update tests carry the server's update token (Authorization: Bearer). Entries with
ut:graphData first get their data through the endpoint itself: one update that drops
everything and inserts each file into the graph its label names.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .http_suite import (
    TOKEN,
    W3C,
    Case,
    Outcome,
    ckb_serve,
    keep_doc,
    literal_graph_data,
    read_manifest,
    run_case,
    send,
    table,
)

MANIFEST = W3C / "protocol" / "manifest.ttl"
DOC = Path(__file__).resolve().parents[2] / "docs" / "w3c-protocol.md"
COMMAND = ("CKB_WRITE_DOCS=1 .venv/bin/python -m pytest -q -p no:cacheprovider "
           "tests/w3c/test_protocol_suite.py")
INTRO = (
    "The W3C SPARQL 1.1 Protocol tests (`protocol/manifest.ttl` of the W3C SPARQL 1.1 test suite), "
    "run by `tests/w3c/test_protocol_suite.py` as real HTTP requests against `ckb serve "
    "--update-token T` as shipped: a fresh store on disk (`$CKB_STORE`, loaded with the bundle on "
    "first use), no other option but the loopback address and a free port; the token is sent "
    "with the update tests. Each request is sent as the manifest writes it, with the manifest's "
    "`/sparql/` path prefix mapped to `/sparql`; relative IRIs resolve against the endpoint's "
    "URL. A test passes when every response has an allowed status and, where the manifest says "
    "so, the right result format and boolean. This table is written by the test run and checked "
    "by it."
)

pytestmark = pytest.mark.skipif(not MANIFEST.is_file(), reason=f"no W3C suite at {MANIFEST}")


def _path(path: str, method: str) -> str:
    assert path.startswith("/sparql/"), path
    return "/sparql" + path.removeprefix("/sparql/")


def _is_update(case: Case) -> bool:
    return "update" in case.id


@pytest.fixture(scope="module")
def outcomes() -> dict[str, Outcome]:
    """Run the whole manifest once, in its order, against one server."""
    results: dict[str, Outcome] = {}
    auth = [("Authorization", f"Bearer {TOKEN}")]
    with ckb_serve() as base:
        for case in read_manifest(MANIFEST):
            if case.graph_data:
                body = literal_graph_data(case.graph_data).encode()
                status, _, data = send(base, "POST", "/sparql",
                                       [("Content-Type", "application/sparql-update"), *auth], body)
                assert status == 204, data
            extra = auth if _is_update(case) else []
            results[case.id] = run_case(base, case, _path, lambda method, extra=extra: extra)
    return results


def test_the_suite_has_34_tests():
    assert len(read_manifest(MANIFEST)) == 34


@pytest.mark.parametrize("test_id", [c.id for c in read_manifest(MANIFEST)] if MANIFEST.is_file() else [])
def test_protocol(outcomes: dict[str, Outcome], test_id: str):
    outcome = outcomes[test_id]
    assert outcome.passed, outcome.detail


def test_doc_table_matches_this_run(outcomes: dict[str, Outcome]):
    keep_doc(DOC, table("W3C SPARQL 1.1 Protocol: results", INTRO, list(outcomes.values()), COMMAND))
