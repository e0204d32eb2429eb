"""Queries are read-only, checked before evaluation, time-limited and row-capped."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kb import ForbiddenQuery, KBError, KnowledgeBase, QuerySyntaxError, QueryTimeout
from kb.errors import UpdateRefused

CROSS = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . ?m ?n1 ?o }"


def test_service_is_refused_without_any_connection(kb: KnowledgeBase, listener) -> None:
    port, hits = listener
    with pytest.raises(ForbiddenQuery, match="SERVICE at line 1"):
        kb.query(f"SELECT * WHERE {{ SERVICE <http://127.0.0.1:{port}/sparql> {{ ?s ?p ?o }} }}")
    time.sleep(0.3)
    assert hits == []


def test_from_file_is_an_empty_graph(kb: KnowledgeBase) -> None:
    # FROM names a graph of the store; one the store lacks is empty. Nothing is ever fetched.
    assert kb.query("SELECT * FROM <file:///etc/passwd> WHERE { ?s ?p ?o }").rows == []


def test_from_a_known_graph_is_allowed(kb: KnowledgeBase) -> None:
    q = "SELECT (COUNT(*) AS ?n) FROM <https://w3id.org/conflict-kb/graph/data> WHERE { ?s ?p ?o }"
    assert int(kb.query(q).rows[0]["n"]) == kb.graphs()["https://w3id.org/conflict-kb/graph/data"]


def test_keywords_inside_literals_and_names_are_not_refused(kb: KnowledgeBase) -> None:
    assert kb.query('ASK { FILTER("SERVICE LOAD" != "x") } # SERVICE').boolean is True
    assert kb.query("PREFIX ex: <http://e/> ASK { ?s ex:data.load ?o }").boolean is False
    assert kb.query("PREFIX ex: <http://e/> ASK { ?s ex:web.service ?o }").boolean is False


def test_only_texts_that_can_spell_service_or_from_are_parsed_by_the_check(monkeypatch) -> None:
    from kb.query import guard

    parsed: list[str] = []
    real = guard.parseQuery
    monkeypatch.setattr(guard, "parseQuery", lambda text: parsed.append(text) or real(text))
    # text without the letters anywhere cannot spell the keywords: the engine gets it unparsed
    for text in ("PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> SELECT * { ?c rdfs:label ?s }",
                 "PREFIX ex: <http://e/> ASK { ?s ex:a-b ex:c_x }"):
        assert guard.analyse(text) == guard.Analysis(False)
    assert parsed == []
    # the letters anywhere are parsed, even inside a name: no lexer decides what is a word
    # (the engine reads "2SERVICE" as 2 and SERVICE, which a word boundary missed)
    guard.analyse("PREFIX prov: <http://www.w3.org/ns/prov#> SELECT * { ?c prov:wasDerivedFrom ?s }")
    assert len(parsed) == 1
    assert guard.analyse("SELECT*FROM<http://e/g>{?s ?p ?o}").has_dataset
    with pytest.raises(ForbiddenQuery, match="SERVICE"):
        guard.analyse("SELECT * {SERVICE<http://e/s>{?s ?p ?o}}")
    with pytest.raises(ForbiddenQuery, match="SERVICE"):
        guard.analyse("SELECT * { serVICE <http://e/s> { ?s ?p ?o } }")
    with pytest.raises(QuerySyntaxError):  # rdflib's grammar refuses it: never run, see the next test
        guard.analyse("SELECT * { ?x ?y 2SERVICE <http://e/s> { ?s ?p ?o } }")
    guard.analyse("PREFIX ex: <http://e/> ASK { ?s ex:p '\\u0046ROM' }")
    assert len(parsed) == 6


def test_text_that_could_spell_service_is_never_probed_by_the_engine(kb: KnowledgeBase, listener) -> None:
    # The checker cannot parse "2SERVICE"; the engine can. The engine's syntax probe would run
    # it, so such text is refused with the checker's message instead, fenced or not.
    port, hits = listener
    for text in (f"SELECT * {{ ?x ?y 2SERVICE <http://127.0.0.1:{port}/> {{ ?s ?p ?o }} }}",
                 f"SELECT * {{ ?x ?y _:b.SERVICE <http://127.0.0.1:{port}/> {{ ?s ?p ?o }} }}"):
        with pytest.raises(QuerySyntaxError):
            kb.query(text)
    assert hits == []


def test_syntax_error_has_line_and_column(kb: KnowledgeBase) -> None:
    with pytest.raises(QuerySyntaxError) as err:
        kb.query("SELECT ?s\nWHERE {\n  ?s ?p\n}")
    # Oxigraph reports where its parser gave up: the closing brace on line 4.
    assert err.value.line == 4 and err.value.column in (1, 2)
    assert str(err.value).startswith("SPARQL syntax error: line 4, column")


def test_updates_are_not_queries(kb: KnowledgeBase) -> None:
    with pytest.raises(QuerySyntaxError):
        kb.query("INSERT DATA { <http://x/a> <http://x/b> <http://x/c> }")


def test_timeout_really_stops_the_work(kb: KnowledgeBase) -> None:
    start = time.monotonic()
    with pytest.raises(QueryTimeout):
        kb.query(CROSS, timeout=1)
    assert time.monotonic() - start < 5
    # the pool still answers afterwards, with a fresh worker
    assert kb.query("ASK { ?s ?p ?o }").boolean is True


def test_row_cap_sets_truncated(kb: KnowledgeBase) -> None:
    capped = kb.query("SELECT * WHERE { ?s ?p ?o }", limit=5)
    assert len(capped.rows) == 5 and capped.truncated
    small = kb.query("SELECT * WHERE { ?s ?p ?o } LIMIT 3", limit=5)
    assert len(small.rows) == 3 and not small.truncated


def test_inferred_graph_can_be_left_out(kb: KnowledgeBase) -> None:
    q = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    with_inf = int(kb.query(q).rows[0]["n"])
    without = int(kb.query(q, inferred=False).rows[0]["n"])
    assert with_inf > without


def test_query_length_is_capped(kb: KnowledgeBase) -> None:
    with pytest.raises(ForbiddenQuery, match="limit"):
        kb.query("ASK {}" + " " * 200_000)


def test_unknown_protocol_graph_is_an_empty_graph(kb: KnowledgeBase) -> None:
    assert kb.query("ASK { ?s ?p ?o }", default_graphs=["file:///etc/passwd"]).boolean is False
    with pytest.raises(KBError, match="not a valid IRI"):
        kb.query("ASK { ?s ?p ?o }", default_graphs=["not an iri"])


def test_update_needs_token(tmp_path: Path) -> None:
    # Any graph may be written on the KB's own store (tests/test_graph_namespace.py: outside the namespace).
    insert = ("INSERT DATA { GRAPH <https://w3id.org/conflict-kb/graph/x> "
              "{ <http://x/a> <http://x/b> <http://x/c> } }")
    with KnowledgeBase.open(memory=True) as ro, pytest.raises(UpdateRefused):
        ro.update(insert, token="anything")
    with KnowledgeBase.open(memory=True, update_token="s3cret") as rw:
        with pytest.raises(UpdateRefused):
            rw.update(insert, token="wrong")
        with pytest.raises(ForbiddenQuery):
            rw.update("LOAD <http://127.0.0.1:9/x>", token="s3cret")
        rw.update(insert, token="s3cret")
        assert rw.query("ASK { GRAPH <https://w3id.org/conflict-kb/graph/x> { ?s ?p ?o } }").boolean is True


def test_update_without_graph_is_visible_and_reports_positions() -> None:
    with KnowledgeBase.open(memory=True, update_token="t") as rw:
        rw.update("INSERT DATA { ckbr:x rdfs:label \"X\" }", token="t")
        assert rw.query("ASK { ckbr:x rdfs:label \"X\" }").boolean is True
        rw.update("DELETE DATA { ckbr:x rdfs:label \"X\" } ;", token="t")
        assert rw.query("ASK { ckbr:x rdfs:label \"X\" }").boolean is False
        rw.update("PREFIX ex: <http://example.org/>\nINSERT DATA { ex:y rdfs:label \"Y\" }", token="t")
        assert rw.query("ASK { <http://example.org/y> rdfs:label \"Y\" }").boolean is True
        with pytest.raises(QuerySyntaxError) as err:
            rw.update("INSERT DATA {\n  ckbr:x rdfs:label }", token="t")
        assert err.value.line == 2
        assert rw.query("ASK { <http://example.org/y> rdfs:label \"Y\" }").boolean is True


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def test_orphaned_worker_stops_itself(tmp_path: Path) -> None:
    """A worker whose parent died mid-query ends itself shortly after the time limit."""
    script = (
        "import sys, threading, time, kb\n"
        "k = kb.KnowledgeBase.open(memory=True); k.load()\n"
        f"threading.Thread(target=k.query, args=({CROSS!r},), kwargs={{'timeout': 2}}, daemon=True).start()\n"
        "time.sleep(1); print('running', flush=True); time.sleep(60)\n"
    )
    # TMPDIR: the killed parent cannot remove its memory-store dump; keep it in tmp_path.
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=env)
    assert parent.stdout is not None and parent.stdout.readline().strip() == "running"
    workers = _children(parent.pid)
    assert workers, "the query should be running in a worker process"
    parent.kill()
    parent.communicate()
    deadline = time.monotonic() + 2 * 1.5 + 2 + 5
    alive = workers
    while alive and time.monotonic() < deadline:
        time.sleep(0.2)
        alive = [w for w in workers if Path(f"/proc/{w}").exists()
                 and "Z" not in Path(f"/proc/{w}/stat").read_text().rsplit(")", 1)[1].split()[0]]
    assert alive == []
