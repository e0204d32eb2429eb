"""Derived state for a KB on a SPARQL server (issue 23): the claim index built beside the client
by the same rules in chunks, keyed by the graph registry, gives the explorer and source pages
the embedded store's answers; a write through the KB leaves it stale; deleting it costs time."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest

from benchmarks import generate
from kb import KnowledgeBase
from kb.derived import bitmaps as claimbitmaps
from kb.derived import claimindex, remoteindex, sidecar
from kb.namespaces import CKB, CKBR, GRAPH_DATA
from kb.views.claimfacets import facet_counts
from kb.views.claimlist import run
from kb.views.claims import FACETS, check_filters
from tests import engines
from tests.engines import Server
from tests.test_cli import ckb

pytestmark = pytest.mark.remote

LABEL = "http://www.w3.org/2000/01/rdf-schema#label"


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("remote-derived") / "synthetic.nt"
    with path.open("w", encoding="utf-8") as fh:
        generate.write(6_000, fh, seed=3)
    return path


@pytest.fixture(scope="module", params=("oxigraph", "virtuoso"))
def server(request: pytest.FixtureRequest) -> Server:
    return request.getfixturevalue(request.param)


@pytest.fixture(scope="module")
def remote(server: Server, data: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[KnowledgeBase]:
    folder = tmp_path_factory.mktemp("derived")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CKB_DERIVED_DIR", str(folder))
        with KnowledgeBase.open(endpoint=server.query, update_endpoint=server.update, update_token="t") as kb:
            kb.load()
            kb.import_file(data)
            yield kb


def _index(kb: KnowledgeBase) -> set[tuple[str, str, str]]:
    """The index's triples (labels aside), as strings."""
    wanted = claimindex.stamp(kb)
    assert wanted is not None
    with claimindex.reading(kb, wanted) as found:
        assert found is not None
        return {(t.subject.value, t.predicate.value, t.object.value) for t in found
                if t.predicate.value != LABEL}


def test_the_index_built_beside_the_client_is_the_embedded_one(remote: KnowledgeBase,
                                                               embedded: KnowledgeBase,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    assert claimindex.supported(remote) and not claimindex.current(remote)
    # claims listed in several pages (each after the last one's end) and rules run in several chunks
    monkeypatch.setattr(remoteindex, "CLAIM_PAGE", 50)
    monkeypatch.setattr(remoteindex, "CHUNK", 120)
    assert len(remoteindex.claims(remote, 60)) > 3 * remoteindex.CLAIM_PAGE
    report = claimindex.build(remote)
    assert report.current and claimindex.current(remote)
    mine, theirs = _index(remote), _index(embedded)
    assert len(theirs) > 1000
    assert mine == theirs, (sorted(mine - theirs)[:5], sorted(theirs - mine)[:5])


def test_the_explorer_and_source_pages_answer_as_embedded(remote: KnowledgeBase,
                                                          embedded: KnowledgeBase) -> None:
    if not claimindex.current(remote):
        claimindex.build(remote)
    held, there = claimbitmaps.ready(remote, wait=True), claimbitmaps.ready(embedded, wait=True)
    assert held is not None and there is not None
    assert held.claims == there.claims  # the same label order
    top = facet_counts(embedded, check_filters({}))[0]
    views: list[dict[str, str]] = [{}, {"q": "reportedly"}, {"anonymity": "anonymous", "kind": "report"}]
    for name in FACETS:
        views += [{name: value} for value, _n in top.get(name, [])[:2]]
    for args in views:
        f = check_filters(args)
        assert facet_counts(remote, f) == facet_counts(embedded, f), args
        mine, theirs = run(remote, f, 25, 5), run(embedded, f, 25, 5)
        assert mine.total == theirs.total and [r.iri for r in mine.rows] == [r.iri for r in theirs.rows], args
    for agent in (str(CKBR.BasNews), str(CKBR.AnonymousSyrianOfficial), str(CKBR["outlet/0"])):
        assert held.resting_on(agent, 10_000) == there.resting_on(agent, 10_000), agent


def test_a_write_through_the_kb_leaves_it_stale_and_a_lost_file_costs_a_rebuild(
        remote: KnowledgeBase, tmp_path: Path) -> None:
    if not claimindex.current(remote):
        claimindex.build(remote)
    assert claimbitmaps.ready(remote, wait=True) is not None
    claim = str(CKBR["claim-remote-derived"])
    remote.update(f"INSERT DATA {{ GRAPH <{GRAPH_DATA}> {{ <{claim}> a <{CKB.Report}> }} }}", "t")
    # the registry changed with the write: the index and its bitmaps are not the store's now
    assert not claimindex.current(remote) and claimbitmaps.ready(remote) is None
    claimindex.build(remote)
    held = claimbitmaps.ready(remote, wait=True)
    assert held is not None and claim in held.claims
    remote.update(f"DELETE DATA {{ GRAPH <{GRAPH_DATA}> {{ <{claim}> a <{CKB.Report}> }} }}", "t")
    assert not claimindex.current(remote)
    claimindex.build(remote)
    room = sidecar.of(remote)
    assert room is not None and room.folder is not None
    shutil.rmtree(room.folder)
    assert not claimindex.current(remote) and claimbitmaps.ready(remote) is None


def test_ckb_index_works_on_a_server(server: Server, remote: KnowledgeBase, tmp_path: Path) -> None:
    env = {"CKB_DERIVED_DIR": str(tmp_path)}
    proc = ckb("--endpoint", server.query, "--update-endpoint", server.update, "index", env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "claim index:" in proc.stdout
    [folder] = list(tmp_path.iterdir())
    first = (folder / claimindex.FILE).read_bytes().split(b"\n", 1)[0]
    assert first.startswith(sidecar.STAMP + claimindex.RULES_VERSION.encode())
    assert sum(1 for _ in ox.parse(path=str(folder / claimindex.FILE), format=ox.RdfFormat.N_TRIPLES)) > 1000


def test_reconcile_candidates_and_class_lists_are_kept_until_a_write(remote: KnowledgeBase) -> None:
    from kb.matching.candidates import index
    from kb.views import classes

    first = index(remote)
    assert index(remote) is first  # one build per store state, not one per /reconcile request
    below = classes.below(remote, str(CKB.Actor))
    assert len(below) > 5 and classes.below(remote, str(CKB.Actor)) is below
    claim = str(CKBR["claim-remote-memo"])
    remote.update(f"INSERT DATA {{ GRAPH <{GRAPH_DATA}> {{ <{claim}> a <{CKB.Report}> }} }}", "t")
    try:
        assert index(remote) is not first and classes.below(remote, str(CKB.Actor)) is not below
    finally:
        remote.update(f"DELETE DATA {{ GRAPH <{GRAPH_DATA}> {{ <{claim}> a <{CKB.Report}> }} }}", "t")


def test_the_event_index_is_read_once_per_store_state(remote: KnowledgeBase) -> None:
    from kb.views import remoteevents

    first = remoteevents.read(remote)
    assert remoteevents.read(remote) is first  # the timeline and map read it once, not per request
    claim = str(CKBR["claim-remote-events"])
    remote.update(f"INSERT DATA {{ GRAPH <{GRAPH_DATA}> {{ <{claim}> a <{CKB.Report}> }} }}", "t")
    try:
        assert remoteevents.read(remote) is not first
    finally:
        remote.update(f"DELETE DATA {{ GRAPH <{GRAPH_DATA}> {{ <{claim}> a <{CKB.Report}> }} }}", "t")


def test_a_shared_folder_keeps_another_process_s_file_being_written(tmp_path: Path) -> None:
    import os

    room = sidecar.Sidecar(None, tmp_path / "remote")
    room.folder.mkdir()
    live, old = room.folder / ".claim-index.nt.tmp-1-2", room.folder / ".claim-index.nt.tmp-3-4"
    live.write_bytes(b"half"), old.write_bytes(b"half")
    os.utime(old, (0, 0))
    room.sweep()
    assert live.exists() and not old.exists()


def test_the_claim_index_keeper_outlives_a_server_that_stops_answering(tmp_path: Path) -> None:
    # At 10M a registry read timed out while Virtuoso was busy, and the keeper's thread died with
    # it: no index rebuilt after later writes until ckb serve was restarted.
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CKB_DERIVED_DIR", str(tmp_path / "derived"))
        with engines.oxigraph_server(tmp_path / "server") as s:
            kb = KnowledgeBase.open(endpoint=s.query, update_endpoint=s.update, update_token="t")
            kb.load()
            keeper = claimindex.Keeper(kb, poll=0.2).start()
            time.sleep(1.0)
        try:
            time.sleep(7.0)  # the server is gone: each poll past the 5 s registry memo fails to reach it
            assert keeper.thread.is_alive()
        finally:
            keeper.stop()
            kb.close()
