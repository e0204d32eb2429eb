"""The remote backend against real servers on loopback: Oxigraph server and Virtuoso."""

from __future__ import annotations

import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from kb import KnowledgeBase, ParseError, QuerySyntaxError, QueryTimeout
from kb.cli.main import main
from kb.errors import ForbiddenQuery, KBError
from kb.namespaces import GRAPH_BASE
from tests.engines import Server
from webui import create_app

pytestmark = pytest.mark.remote

FOREIGN = "http://example.org/someone-else/graph"
GRAPH_UPDATES = GRAPH_BASE + "updates"  # any graph of the KB's own
FOREIGN_LABEL = "Foreign marker 7f3a"
THING = "http://example.org/foreign-thing-7f3a"


# ``remote`` (a KB on each server, the bundle loaded) and ``sparql_server``: tests/conftest.py


def _raw_update(server: Server, sparql: str) -> None:
    """Write to the server directly, as another user of it would."""
    body = urllib.parse.urlencode({"update": sparql}).encode()
    urllib.request.urlopen(urllib.request.Request(server.update, data=body), timeout=30).close()


def _raw_ask(server: Server, sparql: str) -> bool:
    url = server.query + "?" + urllib.parse.urlencode({"query": sparql})
    req = urllib.request.Request(url, headers={"Accept": "application/sparql-results+json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        body = r.read().decode()
    return '"boolean": true' in body.replace('":true', '": true') or '"value": "1"' in body


def test_remote_holds_the_same_graphs_as_embedded(remote: KnowledgeBase, kb: KnowledgeBase) -> None:
    assert remote.graphs() == kb.graphs()


def test_remote_answers_like_embedded(remote: KnowledgeBase, kb: KnowledgeBase) -> None:
    q = "SELECT ?s ?label WHERE { ?s rdfs:label ?label } ORDER BY ?s ?label"
    assert remote.query(q).rows == kb.query(q).rows
    assert remote.query(q, inferred=False).rows == kb.query(q, inferred=False).rows


def test_graph_patterns_see_the_kb_graphs(remote: KnowledgeBase, kb: KnowledgeBase) -> None:
    q = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g"
    assert remote.query(q).rows == kb.query(q).rows
    assert len(remote.query(q).rows) == len(kb.graphs())


def test_each_query_kind_gets_its_format(remote: KnowledgeBase) -> None:
    result = remote.query("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }", limit=7)
    assert result.kind == "graph" and len(result.triples) == 7 and result.truncated
    assert remote.query("ASK { ckbr:Hezbollah ?p ?o }").boolean is True
    assert remote.query("ASK { ckbr:Hezbollah ckb:noSuchProperty ?o }").boolean is False


def test_long_queries_go_as_a_form_post(remote: KnowledgeBase, kb: KnowledgeBase) -> None:
    values = " ".join(f'"label number {n}"' for n in range(400)) + ' "Hezbollah"@en'
    q = f"SELECT ?s WHERE {{ VALUES ?l {{ {values} }} ?s rdfs:label ?l }} ORDER BY ?s"
    assert len(q) > 5000 and remote.query(q).rows == kb.query(q).rows != []


def test_blank_nodes_of_any_label_are_read(remote: KnowledgeBase, kb: KnowledgeBase) -> None:
    q = "SELECT ?b WHERE { ?x ?p ?b FILTER(isBlank(?b)) }"
    assert len(remote.query(q).rows) == len(kb.query(q).rows) > 0
    assert remote.export("nt", graph="ontology") == kb.export("nt", graph="ontology")


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


def test_remote_import_streams_in_chunks_with_blank_nodes(
    remote: KnowledgeBase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import kb.store.remote

    monkeypatch.setattr(kb.store.remote, "CHUNK_TRIPLES", 3)  # many requests for one small file
    src = tmp_path / "chunky.ttl"
    src.write_text("".join(f"<http://x/s{n}> <http://x/p> [ <http://x/q> {n} ; <http://x/r> [ "
                           f"<http://x/q> {n} ] ] .\n" for n in range(10)), encoding="utf-8")
    graph = remote.import_file(src)
    assert remote.graphs()[graph] == 40
    q = f"SELECT (COUNT(DISTINCT ?b) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?b FILTER isBlank(?b) }} }}"
    assert int(remote.query(q).rows[0]["n"]) == 20
    assert not any("staging" in g for g in remote.graphs())


def test_remote_nquads_import_keeps_its_named_graphs_or_refuses_foreign_ones(
    remote: KnowledgeBase, tmp_path: Path
) -> None:
    own = GRAPH_BASE + "import/nq-other"
    src = tmp_path / "quads.nq"
    src.write_text(f'<http://x/a> <http://x/p> "default part" .\n'
                   f'<http://x/a> <http://x/p> "named" <{own}> .\n', encoding="utf-8")
    graph = remote.import_file(src)
    graphs = remote.graphs()
    assert graphs[graph] == 1 and graphs[own] == 1  # c5c59e4 dropped the named graph's quad
    assert remote.query(f'ASK {{ GRAPH <{own}> {{ <http://x/a> <http://x/p> "named" }} }}').boolean is True
    before = remote.graphs()
    foreign = tmp_path / "foreign.nq"
    foreign.write_text(f'<http://x/a> <http://x/p> "x" <{FOREIGN}-nq> .\n', encoding="utf-8")
    with pytest.raises(KBError, match="outside the KB's graph namespaces"):
        remote.import_file(foreign)
    assert remote.graphs() == before


def test_updates_name_their_graph_and_never_the_default(remote: KnowledgeBase) -> None:
    remote.update(f'INSERT DATA {{ GRAPH <{GRAPH_UPDATES}> {{ <http://example.org/z> rdfs:label "Z" }} }}',
                  token="t")
    assert remote.query('ASK { <http://example.org/z> rdfs:label "Z" }').boolean is True
    assert GRAPH_UPDATES in remote.graphs()
    for bad in ('INSERT DATA { <http://example.org/z> rdfs:label "Y" }', "CLEAR ALL", "DROP DEFAULT",
                f'INSERT DATA {{ GRAPH <{FOREIGN}> {{ <http://example.org/z> rdfs:label "Y" }} }}'):
        with pytest.raises(ForbiddenQuery):
            remote.update(bad, token="t")


def test_a_foreign_graph_survives_load_and_stays_out_of_sight(
    sparql_server: Server, capsys: pytest.CaptureFixture[str]
) -> None:
    _raw_update(sparql_server, f'INSERT DATA {{ GRAPH <{FOREIGN}> {{ <{THING}> '
                               f'<http://www.w3.org/2000/01/rdf-schema#label> "{FOREIGN_LABEL}" }} }}')
    args = ["--endpoint", sparql_server.query, "--update-endpoint", sparql_server.update]
    assert main([*args, "load"]) == 0
    assert _raw_ask(sparql_server, f"ASK {{ GRAPH <{FOREIGN}> {{ ?s ?p ?o }} }}")
    capsys.readouterr()
    assert main([*args, "export", "--format", "nq"]) == 0
    assert main([*args, "search", FOREIGN_LABEL]) == 0
    assert main([*args, "query", "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"]) == 0
    out = capsys.readouterr().out
    assert "someone-else" not in out and "foreign-thing" not in out and FOREIGN_LABEL not in out
    with KnowledgeBase.open(endpoint=sparql_server.query) as k:
        assert FOREIGN not in k.graphs()
        client = create_app({"KB": k, "TESTING": True}).test_client()
        for page in ("/", "/export/conflict-kb.nq", f"/search?q={FOREIGN_LABEL}"):
            body = client.get(page).data.decode()
            assert "someone-else" not in body and "foreign-thing" not in body, page
        # Named outright, another user's graph is refused, or reads as empty.
        with pytest.raises(ForbiddenQuery):
            k.query(f"SELECT * FROM <{FOREIGN}> WHERE {{ ?s ?p ?o }}")
        assert k.query(f"SELECT * WHERE {{ GRAPH <{FOREIGN}> {{ ?s ?p ?o }} }}").rows == []


def test_a_graph_outside_the_namespace_survives_an_embedded_load_as_the_kbs_data(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # On the KB's own store there is no other user: every graph is the KB's data (issue 18).
    import pyoxigraph as ox

    store = ox.Store(str(tmp_path / "store"))
    store.add(ox.Quad(ox.NamedNode("http://example.org/f"), ox.NamedNode("http://x/label"),
                      ox.Literal(FOREIGN_LABEL), ox.NamedNode(FOREIGN)))
    del store
    assert main(["--store", str(tmp_path / "store"), "load"]) == 0
    capsys.readouterr()
    assert main(["--store", str(tmp_path / "store"), "export", "--format", "nq"]) == 0
    assert FOREIGN_LABEL in capsys.readouterr().out
    for query in ("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }",
                  "SELECT ?o WHERE { ?s <http://x/label> ?o }",
                  f"SELECT * FROM <{FOREIGN}> WHERE {{ ?s ?p ?o }}"):
        assert main(["--store", str(tmp_path / "store"), "query", "--format", "csv", query]) == 0
        out = capsys.readouterr().out
        assert "someone-else" in out or FOREIGN_LABEL in out, query
    store = ox.Store.read_only(str(tmp_path / "store"))
    assert len(list(store.quads_for_pattern(None, None, None, ox.NamedNode(FOREIGN)))) == 1


HEAVY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100  # utime + stime, in clock ticks


def test_virtuoso_stops_a_query_at_its_limit_on_the_server(virtuoso: Server) -> None:
    with KnowledgeBase.open(endpoint=virtuoso.query) as k:
        k.ensure_loaded()
        start = time.monotonic()
        with pytest.raises(QueryTimeout):
            k.query(HEAVY, timeout=1)
        assert time.monotonic() - start < 10  # the limit, Virtuoso's reaction, a loaded machine
        # Stopped on the server, not only by the client: Virtuoso is idle right after.
        before = _cpu_seconds(virtuoso.pid)
        time.sleep(3)
        assert _cpu_seconds(virtuoso.pid) - before < 0.5


def test_serve_refuses_a_server_that_cannot_stop_queries(
    oxigraph: Server, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--endpoint", oxigraph.query, "serve", "--port", "1"]) == 2
    assert "--allow-unbounded-queries" in capsys.readouterr().err


def test_an_idempotency_key_applies_an_update_once_across_clients(
    sparql_server: Server, remote: KnowledgeBase
) -> None:
    graph = GRAPH_BASE + "keyed"
    hit = f"INSERT {{ GRAPH <{graph}> {{ [] <http://example.org/hit> 1 }} }} WHERE {{}}"
    count = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?h <http://example.org/hit> 1 }} }}"
    remote.update(hit, token="t", idempotency_key="retry-7f3a")
    remote.update(hit, token="t", idempotency_key="retry-7f3a")
    # A new client of the same server (a restarted `ckb serve`) sees the key too.
    with KnowledgeBase.open(endpoint=sparql_server.query, update_endpoint=sparql_server.update,
                            update_token="t") as k:
        k.update(hit, token="t", idempotency_key="retry-7f3a")
        assert int(k.query(count).rows[0]["n"]) == 1
        k.update(hit, token="t", idempotency_key="another-key")
        k.update(hit, token="t")  # no key: applied each time
        assert int(k.query(count).rows[0]["n"]) == 3
        assert not any("system/keys" in g for g in k.graphs())
