"""Where a SPARQL server's KB keeps its derived state beside the client (issue 23): a folder named by
the KB's identity in its graph registry, not by the address it is reached at, so the same KB's server
restarted on another port finds its claim index current; two servers' KBs get two folders; a
registry written by an older release (no identity) still works, and a client that may write adds one.
Also the registry after 'ckb index --counts' (the "registry gap" once seen on a Virtuoso 1M copy)."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest

from kb import KnowledgeBase
from kb.derived import claimindex, sidecar
from kb.store import protocol
from tests import engines
from tests.engines import Server

pytestmark = pytest.mark.remote

REGISTRY = "https://w3id.org/conflict-kb/graph/registry"
IDENTITY = "https://w3id.org/conflict-kb/ontology#kbIdentity"  # as the registry holds it on the server
DATA = "https://w3id.org/conflict-kb/graph/data"


def _kb(query: str, update: str | None = None) -> KnowledgeBase:
    return KnowledgeBase.open(endpoint=query, update_endpoint=update or query.replace("/query", "/update"),
                              update_token="t")


def _identities(server: Server) -> list[str]:
    """The identities the registry holds, read straight from the server."""
    body = protocol.send(server.query, [("query", f"SELECT ?id WHERE {{ GRAPH <{REGISTRY}> "
                                                  f"{{ <{REGISTRY}> <{IDENTITY}> ?id }} }}")],
                         protocol.ACCEPT["select"], 30)
    return [row["id"].value for row in protocol.solutions(protocol.clean_json(body, "select"))]


def _raw_update(server: Server, sparql: str) -> None:
    protocol.send(server.update, [], "*/*", 60, body=urllib.parse.urlencode({"update": sparql}).encode(),
                  content_type="application/x-www-form-urlencoded")


def _by_endpoint(endpoint: str) -> Path:
    """The folder an endpoint's derived state had before KBs had identities."""
    import hashlib
    import os

    key = "\n".join([endpoint, "https://w3id.org/conflict-kb/graph/"]).encode("utf-8")
    return Path(os.environ["CKB_DERIVED_DIR"]) / hashlib.sha256(key).hexdigest()[:24]


@contextlib.contextmanager
def _oxigraph_at(folder: Path, port: int) -> Iterator[Server]:
    """``oxigraph serve`` on the given loopback port (engines.oxigraph_server picks a free one)."""
    proc = subprocess.Popen([engines.OXIGRAPH, "serve", "--location", str(folder), "--bind",
                             f"127.0.0.1:{port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        engines._wait_http(base + "/query?query=ASK%7B%7D", proc, 20)
        yield Server("oxigraph", base + "/query", base + "/update", proc.pid)
    finally:
        engines._stop(proc)


STARTERS: dict[str, Callable[[Path], Any]] = {"oxigraph": engines.oxigraph_server,
                                              "virtuoso": engines.virtuoso_server}


@pytest.mark.parametrize("engine", sorted(STARTERS))
def test_the_same_kb_restarted_on_another_port_finds_its_claim_index(engine: str, tmp_path: Path) -> None:
    start = STARTERS[engine]
    with start(tmp_path) as first, _kb(first.query, first.update) as kb:
        kb.load()
        claimindex.build(kb)
        assert claimindex.current(kb)
        room = sidecar.of(kb)
        assert room is not None
        folder = room.folder
    with start(tmp_path) as again:
        assert again.query != first.query  # another port
        with _kb(again.query, again.update) as kb:
            room = sidecar.of(kb)
            assert room is not None and room.folder == folder
            assert claimindex.current(kb)  # no rebuild
        if engine == "oxigraph":  # reached by another name of the same host
            with _kb(again.query.replace("127.0.0.1", "localhost")) as kb:
                assert claimindex.current(kb)


def test_two_servers_at_one_address_get_two_folders(tmp_path: Path) -> None:
    port = engines.free_port()
    with _oxigraph_at(tmp_path / "a", port) as a, _kb(a.query) as kb:
        kb.load()
        claimindex.build(kb)
        folder_a = sidecar.of(kb).folder  # type: ignore[union-attr]
    with _oxigraph_at(tmp_path / "b", port) as b, _kb(b.query) as kb:
        assert b.query == a.query
        kb.load()
        folder_b = sidecar.of(kb).folder  # type: ignore[union-attr]
        assert folder_b != folder_a
        assert not claimindex.current(kb)


def test_a_copied_store_shares_the_folder_until_either_is_written(tmp_path: Path) -> None:
    with engines.oxigraph_server(tmp_path / "a") as a, _kb(a.query) as kb:
        kb.load()
        claimindex.build(kb)
    shutil.copytree(tmp_path / "a", tmp_path / "copy")
    with (engines.oxigraph_server(tmp_path / "a") as a, engines.oxigraph_server(tmp_path / "copy") as c,
          _kb(a.query) as kb_a, _kb(c.query) as kb_c):
        assert _identities(a) == _identities(c)
        assert sidecar.of(kb_a).folder == sidecar.of(kb_c).folder  # type: ignore[union-attr]
        assert claimindex.current(kb_a) and claimindex.current(kb_c)  # the same content: the same answer
        kb_c.update(f"INSERT DATA {{ GRAPH <{DATA}> {{ <urn:x:s> <urn:x:p> <urn:x:o> }} }}", "t")
        # the copy's stamp moved on; the original's file still names the original as it is
        assert not claimindex.current(kb_c)
        assert claimindex.current(kb_a)


def test_a_registry_an_older_release_wrote_still_works(tmp_path: Path) -> None:
    with engines.oxigraph_server(tmp_path) as s:
        with _kb(s.query) as kb:
            kb.load()
        # as an older release left it: no identity
        _raw_update(s, f"DELETE WHERE {{ GRAPH <{REGISTRY}> {{ <{REGISTRY}> <{IDENTITY}> ?id }} }}")
        assert _identities(s) == []
        # a client whose writes the server refuses keeps it by its endpoint, and leaves the registry be
        with KnowledgeBase.open(endpoint=s.query, update_endpoint=s.query) as ro:
            assert sidecar.of(ro).folder == _by_endpoint(s.query)  # type: ignore[union-attr]
            claimindex.build(ro)
            assert claimindex.current(ro)
        assert _identities(s) == []
        # a client that may write gives the KB its identity; the index built by endpoint is still current
        with _kb(s.query) as kb:
            folder = sidecar.of(kb).folder  # type: ignore[union-attr]
            assert folder != _by_endpoint(s.query)
            assert len(_identities(s)) == 1
            assert claimindex.current(kb)
        first = _identities(s)
    with engines.oxigraph_server(tmp_path) as again, _kb(again.query) as kb:
        assert sidecar.of(kb).folder == folder  # type: ignore[union-attr]
        assert claimindex.current(kb)
        assert _identities(again) == first


@pytest.mark.parametrize("engine", sorted(STARTERS))
def test_a_recount_or_load_keeps_the_identity(engine: str, request: pytest.FixtureRequest) -> None:
    server: Server = request.getfixturevalue(engine)
    with KnowledgeBase.open(endpoint=server.query, update_endpoint=server.update, update_token="t") as kb:
        kb.load()
        sidecar.of(kb)
        before = _identities(server)
        assert len(before) == 1
        kb.backend.recount()  # 'ckb index --counts'
        assert _identities(server) == before
        kb.load()  # replaces every graph of the KB's, the registry's entries too
        assert _identities(server) == before
        assert ox.NamedNode(REGISTRY).value not in kb.graphs()


def _registry_entries(server: Server) -> dict[str, int]:
    """The registry's counts, read straight from the server."""
    body = protocol.send(server.query, [("query", f"SELECT ?g ?n WHERE {{ GRAPH <{REGISTRY}> "
                                                  "{ ?g <http://rdfs.org/ns/void#triples> ?n } }")],
                         protocol.ACCEPT["select"], 30)
    return {r["g"].value: int(r["n"].value) for r in protocol.solutions(protocol.clean_json(body, "select"))}


def _true_counts(server: Server) -> dict[str, int]:
    """The KB's graphs counted on the server itself, one GROUP BY over every quad (the slow way)."""
    every = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
    body = protocol.send(server.query, [("query", every)], protocol.ACCEPT["select"], 60)
    rows = protocol.solutions(protocol.clean_json(body, "select"))
    return {r["g"].value: int(r["n"].value) for r in rows
            if r["g"].value.startswith("https://w3id.org/conflict-kb/graph/")
            and r["g"].value not in (REGISTRY, "https://w3id.org/conflict-kb/graph/keys")}


@pytest.mark.parametrize("engine", sorted(STARTERS))
def test_ckb_index_counts_registers_every_graph_an_import_wrote(engine: str, tmp_path: Path) -> None:
    """The 'registry gap' seen once on a Virtuoso 1M copy: after 'ckb index --counts' the registry
    lacked the import graph. An import of several upload chunks, imported again (staging graph
    moved over it), a graph written on the server directly, then the command as a user runs it."""
    from benchmarks import generate
    from kb.store import remote as remotestore
    from tests.test_cli import ckb

    data = tmp_path / "gap.nt"
    with data.open("w", encoding="utf-8") as fh:
        generate.write(12_000, fh, seed=11)
    (tmp_path / "server").mkdir()
    with STARTERS[engine](tmp_path / "server") as s:
        with pytest.MonkeyPatch.context() as mp, _kb(s.query, s.update) as kb:
            mp.setattr(remotestore, "CHUNK_TRIPLES", 2_000)  # several upload requests per graph
            kb.load()
            graph = kb.import_file(data, name="gap")
            kb.import_file(data, name="gap")
        direct = "https://w3id.org/conflict-kb/graph/import/written-directly"
        _raw_update(s, f"INSERT DATA {{ GRAPH <{direct}> {{ <urn:x:d> <urn:x:p> 1, 2 }} }}")
        proc = ckb("--endpoint", s.query, "--update-endpoint", s.update, "index", "--counts", timeout=600)
        assert proc.returncode == 0, proc.stderr
        true = _true_counts(s)
        assert graph in true and direct in true and true[graph] > 10_000
        assert _registry_entries(s) == true
        with _kb(s.query, s.update) as kb:
            assert kb.graphs() == true


def test_ckb_index_counts_says_when_the_server_refuses_the_registry_write(tmp_path: Path) -> None:
    """The gap's cause where the server refuses writes (no update endpoint given; on Virtuoso, a user
    without SPARQL_UPDATE): the count was made, the registry left as it was, and the command said
    "counted" and exited 0, so every other process went on without the graph."""
    from tests.test_cli import ckb

    direct = "https://w3id.org/conflict-kb/graph/import/refused-gap"
    with engines.oxigraph_server(tmp_path) as s:
        with _kb(s.query) as kb:
            kb.load()
        _raw_update(s, f"INSERT DATA {{ GRAPH <{direct}> {{ <urn:x:r> <urn:x:p> 1 }} }}")
        proc = ckb("--endpoint", s.query, "index", "--counts", timeout=600)  # updates sent to /query
        assert direct not in _registry_entries(s)
        assert proc.returncode == 2 and "graph registry" in proc.stderr, (proc.returncode, proc.stderr)
        proc = ckb("--endpoint", s.query, "--update-endpoint", s.update, "index", "--counts", timeout=600)
        assert proc.returncode == 0, proc.stderr
        assert _registry_entries(s)[direct] == 1
