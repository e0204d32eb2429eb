"""The remote backend against a real Oxigraph server started on loopback."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from kb import KnowledgeBase, ParseError, QuerySyntaxError
from kb.errors import ForbiddenQuery

pytestmark = pytest.mark.remote

OXIGRAPH = shutil.which("oxigraph") or str(Path(sys.executable).parent / "oxigraph")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Oxigraph SPARQL server on a loopback port, stopped after the module."""
    if not Path(OXIGRAPH).exists():
        pytest.fail("the oxigraph server is not installed (pip install oxigraph)")
    port = free_port()
    location = tmp_path_factory.mktemp("oxigraph")
    proc = subprocess.Popen(
        [OXIGRAPH, "serve", "--location", str(location), "--bind", f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(base + "/query?query=ASK%7B%7D", timeout=1).close()
            break
        except OSError:
            time.sleep(0.1)
    else:
        proc.kill()
        pytest.fail("oxigraph server did not start")
    yield base
    proc.terminate()
    proc.wait(10)


@pytest.fixture(scope="module")
def remote(server: str) -> Iterator[KnowledgeBase]:
    with KnowledgeBase.open(endpoint=server + "/query", update_endpoint=server + "/update") as k:
        k.load()
        yield k


def test_remote_holds_the_same_graphs_as_embedded(remote: KnowledgeBase, kb: KnowledgeBase) -> None:
    assert remote.graphs() == kb.graphs()


def test_remote_answers_like_embedded(remote: KnowledgeBase, kb: KnowledgeBase) -> None:
    q = "SELECT ?s ?label WHERE { ?s rdfs:label ?label } ORDER BY ?s ?label"
    assert remote.query(q).rows == kb.query(q).rows
    assert remote.query(q, inferred=False).rows == kb.query(q, inferred=False).rows


def test_remote_graph_results_and_row_cap(remote: KnowledgeBase) -> None:
    result = remote.query("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }", limit=7)
    assert result.kind == "graph" and len(result.triples) == 7 and result.truncated


def test_remote_errors_keep_positions_and_guards(remote: KnowledgeBase) -> None:
    with pytest.raises(QuerySyntaxError) as err:
        remote.query("SELECT ?s\nWHERE {\n  ?s ?p\n}")
    assert err.value.line == 4
    with pytest.raises(ForbiddenQuery):
        remote.query("SELECT * WHERE { SERVICE <http://127.0.0.1:1/> { ?s ?p ?o } }")


def test_remote_load_is_all_or_nothing(remote: KnowledgeBase, tmp_path: Path) -> None:
    before = remote.graphs()
    bad = tmp_path / "bad.ttl"
    bad.write_text("<http://x/a> <http://x/b> oops .\n", encoding="utf-8")
    with pytest.raises(ParseError):
        remote.import_file(bad)
    assert remote.graphs() == before


def test_remote_export_matches_embedded(remote: KnowledgeBase, kb: KnowledgeBase) -> None:
    assert remote.export("nq", graph="data") == kb.export("nq", graph="data")


def test_remote_update_lands_in_the_updates_graph(server: str) -> None:
    with KnowledgeBase.open(
        endpoint=server + "/query", update_endpoint=server + "/update", update_token="t"
    ) as k:
        k.update('PREFIX ex: <http://example.org/>\nINSERT DATA { ex:z rdfs:label "Z" }', token="t")
        assert k.query('ASK { <http://example.org/z> rdfs:label "Z" }').boolean is True
        assert "https://w3id.org/conflict-kb/graph/updates" in k.graphs()
