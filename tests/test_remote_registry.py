"""The graph registry on real servers: no request counts the KB, and the counts stay right (issue 23)."""

from __future__ import annotations

import gc
import sys
import threading
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kb import KnowledgeBase
from kb.cli.main import main
from kb.errors import ForbiddenQuery
from kb.namespaces import GRAPH_BASE, GRAPH_DATA
from kb.store.remotekeys import KEYS
from tests.engines import Server
from webui import create_app

pytestmark = pytest.mark.remote

SCRATCH = GRAPH_BASE + "registry-test"
REGISTRY = GRAPH_BASE + "registry"  # kb.store.registry.REGISTRY, named here so old code runs this too


@pytest.fixture(scope="module", params=("oxigraph", "virtuoso"))
def server(request: pytest.FixtureRequest) -> Server:
    return request.getfixturevalue(request.param)


@pytest.fixture(scope="module")
def remote(server: Server) -> Iterator[KnowledgeBase]:
    with KnowledgeBase.open(endpoint=server.query, update_endpoint=server.update, update_token="t") as k:
        k.load()
        yield k


def _raw(server: Server, sparql: str) -> list[dict[str, Any]]:
    url = server.query + "?" + urllib.parse.urlencode({"query": sparql})
    req = urllib.request.Request(url, headers={"Accept": "application/sparql-results+json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        import json

        return json.loads(r.read())["results"]["bindings"]


def _raw_update(server: Server, sparql: str) -> None:
    body = urllib.parse.urlencode({"update": sparql}).encode()
    urllib.request.urlopen(urllib.request.Request(server.update, data=body), timeout=60).close()


def _true_counts(server: Server) -> dict[str, int]:
    """The KB's graphs counted on the server itself, the slow way."""
    rows = _raw(server, "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")
    return {r["g"]["value"]: int(r["n"]["value"]) for r in rows
            if r["g"]["value"].startswith(GRAPH_BASE) and r["g"]["value"] not in (REGISTRY, KEYS)
            and "/staging/" not in r["g"]["value"]}


def test_a_query_sends_no_count_over_the_kb(remote: KnowledgeBase, server: Server, sent: list[str],
                                            capsys: pytest.CaptureFixture[str]) -> None:
    with KnowledgeBase.open(endpoint=server.query) as k:  # a new client: nothing cached
        assert k.query("ASK {}").boolean is True
        assert k.query("SELECT * WHERE { ?s ?p ?o } LIMIT 1").rows
    assert main(["--endpoint", server.query, "query", "ASK {}"]) == 0
    assert sent, "the recording wrapper saw no request"
    counting = [q for q in sent if "COUNT" in q.upper()]
    assert counting == [], counting


def test_counts_stay_right_after_import_update_and_drop(
    remote: KnowledgeBase, server: Server, tmp_path: Path
) -> None:
    assert remote.graphs() == _true_counts(server)
    src = tmp_path / "few.ttl"
    src.write_text("".join(f"<http://x/s{n}> <http://x/p> {n} .\n" for n in range(7)), encoding="utf-8")
    graph = remote.import_file(src)
    assert remote.graphs()[graph] == 7
    assert remote.graphs() == _true_counts(server)
    remote.update(f"INSERT DATA {{ GRAPH <{SCRATCH}> {{ <http://x/a> <http://x/p> 1, 2, 3 }} }}", token="t")
    remote.update(f"DELETE DATA {{ GRAPH <{graph}> {{ <http://x/s0> <http://x/p> 0 }} }} ;\n"
                  f"INSERT DATA {{ GRAPH <{SCRATCH}> {{ <http://x/a> <http://x/p> 4 }} }} # last", token="t")
    assert remote.graphs()[SCRATCH] == 4 and remote.graphs()[graph] == 6
    assert remote.graphs() == _true_counts(server)
    # Without SILENT, on an existing graph (c5c59e4: "The graph ... does not exist").
    remote.update(f"DROP GRAPH <{SCRATCH}>", token="t")
    remote.update(f"CLEAR GRAPH <{graph}>", token="t")
    assert SCRATCH not in remote.graphs() and graph not in remote.graphs()
    assert remote.graphs() == _true_counts(server)
    # The same through the web's SPARQL endpoint (c5c59e4 answered 500).
    remote.update(f"INSERT DATA {{ GRAPH <{SCRATCH}> {{ <http://x/a> <http://x/p> 1 }} }}", token="t")
    client = create_app({"KB": remote, "TESTING": True, "UPDATE_TOKEN": "t"}).test_client()
    answer = client.post("/sparql", data={"update": f"DROP GRAPH <{SCRATCH}>"},
                         headers={"Authorization": "Bearer t"})
    assert answer.status_code == 204, answer.data
    assert SCRATCH not in remote.graphs() and remote.graphs() == _true_counts(server)
    remote.load()
    assert remote.graphs() == _true_counts(server)


def test_the_registry_is_bookkeeping_and_rebuilt_when_deleted(
    remote: KnowledgeBase, server: Server, capsys: pytest.CaptureFixture[str]
) -> None:
    assert REGISTRY not in remote.graphs()
    listed = remote.query("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }").rows
    assert REGISTRY not in {str(r["g"]) for r in listed} and listed
    assert remote.query("ASK { ?g <http://rdfs.org/ns/void#triples> ?n }").boolean is False
    with pytest.raises(ForbiddenQuery):
        remote.query(f"SELECT * FROM <{REGISTRY}> WHERE {{ ?s ?p ?o }}")
    with pytest.raises(ForbiddenQuery):
        remote.update(f"DROP GRAPH <{REGISTRY}>", token="t")
    capsys.readouterr()
    assert main(["--endpoint", server.query, "export", "--format", "nq"]) == 0
    exported = capsys.readouterr().out
    # the registry graph and its bookkeeping (the ontology only declares its terms)
    assert f"<{REGISTRY}>" not in exported and "void#triples" not in exported
    _raw_update(server, f"DROP SILENT GRAPH <{REGISTRY}>")
    with KnowledgeBase.open(endpoint=server.query, update_endpoint=server.update) as k:
        assert k.graphs() == _true_counts(server)
    assert _raw(server, f"SELECT * WHERE {{ GRAPH <{REGISTRY}> {{ ?s ?p ?o }} }} LIMIT 1")
    # Written on the server directly: unseen until a recount, which `ckb index --counts` is.
    direct = GRAPH_BASE + "written-directly"
    _raw_update(server, f"INSERT DATA {{ GRAPH <{direct}> {{ <http://x/d> <http://x/p> 1, 2 }} }}")
    assert main(["--endpoint", server.query, "--update-endpoint", server.update, "index", "--counts"]) == 0
    with KnowledgeBase.open(endpoint=server.query) as k:
        assert k.graphs()[direct] == 2 and k.graphs() == _true_counts(server)
    _raw_update(server, f"DROP SILENT GRAPH <{direct}>")
    assert main(["--endpoint", server.query, "--update-endpoint", server.update, "index", "--counts"]) == 0


def test_an_import_replaces_a_graph_the_registry_never_saw(
    remote: KnowledgeBase, server: Server, tmp_path: Path
) -> None:
    graph = GRAPH_BASE + "import/written-directly-too"
    _raw_update(server, f"INSERT DATA {{ GRAPH <{graph}> {{ <http://x/old> <http://x/p> 1, 2 }} }}")
    src = tmp_path / "new.ttl"
    src.write_text("<http://x/new> <http://x/p> 1, 2, 3 .\n", encoding="utf-8")
    assert remote.import_file(src, name="written-directly-too") == graph
    assert remote.graphs()[graph] == 3 == _true_counts(server)[graph]  # replaced, not added to
    remote.load()  # a load drops every graph of the KB's it does not write, registered or not
    _raw_update(server, f"INSERT DATA {{ GRAPH <{graph}> {{ <http://x/old> <http://x/p> 1 }} }}")
    remote.load()
    assert graph not in _true_counts(server) and remote.graphs() == _true_counts(server)


def test_from_named_works(remote: KnowledgeBase, kb: KnowledgeBase) -> None:
    q = (f"SELECT ?g (COUNT(*) AS ?n) FROM NAMED <{GRAPH_DATA}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }} "
         "GROUP BY ?g")
    assert remote.query(q).rows == kb.query(q).rows != []
    with pytest.raises(ForbiddenQuery, match=r"FROM NAMED <http://example\.org/other>"):
        remote.query("SELECT * FROM NAMED <http://example.org/other> WHERE { GRAPH ?g { ?s ?p ?o } }")


def test_remote_pages_log_no_unsendable_traceback(
    remote: KnowledgeBase, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str] = []
    monkeypatch.setattr(sys, "unraisablehook", lambda u: seen.append(f"{u.exc_type.__name__}: {u.exc_value}"))
    client = create_app({"KB": remote, "TESTING": True}).test_client()
    codes: list[int] = []

    def render() -> None:  # as ckb serve does: each request on its own thread
        codes.extend(client.get(page).status_code for page in ("/", "/actors", "/map"))

    worker = threading.Thread(target=render)
    worker.start()
    worker.join()
    gc.collect()  # on this thread, as the collector runs on whichever thread it likes
    assert codes == [200, 200, 200]
    assert seen == []


def test_the_home_page_says_when_counts_were_counted(remote: KnowledgeBase) -> None:
    body = create_app({"KB": remote, "TESTING": True}).test_client().get("/").data.decode()
    assert "counted" in body
