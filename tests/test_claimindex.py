"""The claim index (kb.derived.claimindex): kept in the sidecar beside the store, current only
after a build, stale after any write or when its file is gone, and the explorer and source
pages answer the same through its bitmaps as by following the chains in the data."""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from benchmarks import generate
from kb import KnowledgeBase
from kb.derived import bitmaps as claimbitmaps
from kb.derived import claimindex, sidecar
from kb.namespaces import CKB, CKBR, GRAPH_CLAIM_INDEX
from kb.store import lifecycle
from kb.views.chains import downstream_claims
from kb.views.claimfacets import facet_counts
from kb.views.claimlist import run
from kb.views.claims import FACETS, build_query, check_filters
from tests.test_cli import ckb

PROV = "http://www.w3.org/ns/prov#"


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KnowledgeBase]:
    """The bundle plus a generated file (claims with chains like the article's), indexed."""
    folder = tmp_path_factory.mktemp("claimindex")
    data = folder / "synthetic.nt"
    with data.open("w", encoding="utf-8") as fh:
        generate.write(10_000, fh, seed=3)
    with KnowledgeBase.open(folder / "store") as kb:
        kb.load()
        kb.import_file(data)
        assert not claimindex.current(kb)
        report = claimindex.build(kb)
        assert report.current and report.triples > 1000
        yield kb


def _views(kb: KnowledgeBase) -> list[dict[str, str]]:
    """Every facet's most frequent values as filters, plus searches and combinations."""
    top = facet_counts(kb, check_filters({}), bitmaps=False)[0]
    views: list[dict[str, str]] = [{}]
    for name in FACETS:
        views += [{name: value} for value, _n in top.get(name, [])[:3]]
    outlet = top["via"][0][0]
    return [*views, {"q": "reportedly"}, {"source": outlet}, {"source": str(CKBR.AnonymousSyrianOfficial)},
            {"anonymity": "anonymous", "kind": "report"}, {"hedge": "reportedly", "source": outlet},
            {"supports": str(CKBR["event-infighting"])}]


def test_the_bitmaps_answer_as_the_engine_does_over_the_data(indexed: KnowledgeBase) -> None:
    held = claimbitmaps.ready(indexed, wait=True)
    assert held is not None and len(held.claims) > 100
    views = _views(indexed)
    assert len(views) > 15
    for args in views:
        f = check_filters(args)
        engine = run(indexed, f, 40, 10, bitmaps=False)
        bitmaps = run(indexed, f, 40, 10)
        assert engine.sorted and bitmaps.total == engine.total, args
        assert [vars(r) for r in bitmaps.rows] == [vars(r) for r in engine.rows], args
        assert bitmaps.sparql == engine.sparql and GRAPH_CLAIM_INDEX not in bitmaps.sparql, args
        counted, left_out = facet_counts(indexed, f, bitmaps=False)
        # the engine may leave a slow facet out (past the store's time limit); the rest agree
        through_bitmaps = facet_counts(indexed, f)
        assert not through_bitmaps[1] and {k: v for k, v in through_bitmaps[0].items()
                                            if k not in left_out} == counted, args
    for agent in (str(CKBR.BasNews), str(CKBR.AnonymousSyrianOfficial), str(CKBR.AhramOnline),
                  str(CKBR["outlet/0"]), str(CKBR["anonymous/1"])):
        found = downstream_claims(indexed, agent)[0]  # following the chains in the data
        page, total, own = held.resting_on(agent, 10_000)
        assert found and set(page) == set(found) and total == len(found), agent
        # attributed to the agent itself (0) or resting on it further up (> 0), as the page says
        assert {c for c, d in page.items() if d == 0} == {c for c, d in found.items() if d == 0}
        assert own == sum(1 for d in found.values() if d == 0)
        # its own claims first, each part by label: pages of any size add up to the whole
        assert list(page) == [c for c in held.claims if page.get(c) == 0] + \
            [c for c in held.claims if page.get(c) == 1]
        pages = [held.resting_on(agent, 7, n)[0] for n in range(0, total, 7)]
        assert [c for p in pages for c in p] == list(page)


def test_the_bitmaps_are_dropped_by_a_write(fresh_kb: KnowledgeBase, tmp_path: Path) -> None:
    fresh_kb.load()
    claimindex.build(fresh_kb)
    before = claimbitmaps.ready(fresh_kb, wait=True)
    assert before is not None and claimbitmaps.ready(fresh_kb) is before
    extra = tmp_path / "extra.ttl"
    extra.write_text(f"<{CKBR.z}> <{CKB.hedgeText}> \"perhaps\" .\n", encoding="utf-8")
    fresh_kb.import_file(extra)
    assert claimbitmaps.ready(fresh_kb) is None  # stale index: the engine answers
    claimindex.build(fresh_kb)
    after = claimbitmaps.ready(fresh_kb, wait=True)
    assert after is not None and after is not before and after.generation == fresh_kb.generation()


def test_a_read_under_way_is_waited_for_not_repeated(fresh_kb: KnowledgeBase,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    fresh_kb.load()
    claimindex.build(fresh_kb)
    reads, real = [], claimbitmaps.load

    def slow_load(kb: KnowledgeBase) -> claimbitmaps.ClaimBitmaps:
        reads.append(kb)
        time.sleep(0.5)  # long enough for the second caller to find the read under way
        return real(kb)

    monkeypatch.setattr(claimbitmaps, "load", slow_load)
    assert claimbitmaps.ready(fresh_kb) is None  # starts the background read
    waited = claimbitmaps.ready(fresh_kb, wait=True)
    assert waited is not None and claimbitmaps.ready(fresh_kb) is waited and len(reads) == 1


def test_a_write_gets_in_during_a_read_and_the_read_is_dropped(fresh_kb: KnowledgeBase, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    fresh_kb.load()
    claimindex.build(fresh_kb)
    backend, extra = fresh_kb.backend, tmp_path / "extra.ttl"
    extra.write_text(f"<{CKBR.w}> <{CKB.hedgeText}> \"reportedly\" .\n", encoding="utf-8")
    real, steps = backend.reading, []

    @contextmanager
    def reading() -> Iterator[object]:
        steps.append(1)
        if len(steps) == 3:  # between two steps of the read: the write does not wait for the rest
            fresh_kb.import_file(extra)
        with real() as store:
            yield store

    monkeypatch.setattr(backend, "reading", reading)
    assert claimbitmaps.load(fresh_kb) is None and len(steps) == 3  # it stopped there
    monkeypatch.undo()
    claimindex.build(fresh_kb)
    assert claimbitmaps.load(fresh_kb).generation == fresh_kb.generation()


def test_the_explorer_shows_the_sparql_it_ran(indexed: KnowledgeBase) -> None:
    from webui import create_app

    assert claimbitmaps.ready(indexed, wait=True) is not None
    client = create_app({"KB": indexed, "PAGE_CACHE_BYTES": 0}).test_client()
    sparql = client.get("/claims?anonymity=anonymous&format=sparql").get_data(as_text=True)
    # the engine's query over the data: anyone can run it, anywhere the data is
    assert sparql == build_query(check_filters({"anonymity": "anonymous"}))
    listed = run(indexed, check_filters({"anonymity": "anonymous"}))
    assert [str(r["claim"]) for r in indexed.query(sparql).rows] == [r.iri for r in listed.rows]


def test_any_write_leaves_the_index_stale_on_disk_too(fresh_kb: KnowledgeBase, tmp_path: Path) -> None:
    fresh_kb.load()
    claimindex.build(fresh_kb)
    marker = lifecycle.read_meta(tmp_path / "store").claim_index
    assert claimindex.current(fresh_kb) and marker.startswith(claimindex.RULES_VERSION)
    assert sidecar.of(fresh_kb).stamp(claimindex.FILE) == marker  # the file names the store's state
    extra = tmp_path / "extra.ttl"
    extra.write_text(f"<{CKBR.x}> <{CKB.hedgeText}> \"perhaps\" .\n", encoding="utf-8")
    fresh_kb.import_file(extra)
    assert not claimindex.current(fresh_kb)
    assert not lifecycle.read_meta(tmp_path / "store").claim_index
    # an index read before the import (load, index, import: generations 1-2) is not marked current
    assert not fresh_kb.backend.mark_claim_index(fresh_kb.generation() - 1, False, marker)
    assert claimindex.build(fresh_kb).current


def test_the_index_lives_beside_the_store_and_its_loss_costs_only_time(fresh_kb: KnowledgeBase,
                                                                       tmp_path: Path) -> None:
    fresh_kb.load()
    graphs = fresh_kb.graphs()
    report = claimindex.build(fresh_kb)
    assert report.current and report.triples > 100
    assert fresh_kb.graphs() == graphs and GRAPH_CLAIM_INDEX not in graphs  # the store is as it was
    folder = sidecar.folder_of(tmp_path / "store")
    assert (folder / claimindex.FILE).is_file()
    assert claimbitmaps.ready(fresh_kb, wait=True) is not None
    shutil.rmtree(folder)
    assert not claimindex.current(fresh_kb) and claimbitmaps.ready(fresh_kb, wait=True) is None
    # another build's file (or a file of other rules) is not this store's index either
    (folder / claimindex.FILE).parent.mkdir()
    (folder / claimindex.FILE).write_bytes(sidecar.STAMP + claimindex.RULES_VERSION.encode() + b"00\n")
    assert not claimindex.current(fresh_kb)
    debris = folder / f".{claimindex.FILE}.tmp-1-2"  # a build another process never finished
    debris.write_bytes(b"<urn:x:half")
    assert claimindex.build(fresh_kb).current and claimbitmaps.ready(fresh_kb, wait=True) is not None
    assert sorted(p.name for p in folder.iterdir()) == [claimindex.FILE]


def test_a_memory_store_keeps_its_index_in_memory() -> None:
    with KnowledgeBase.open(memory=True) as kb:
        kb.load()
        quads = sorted(str(q) for q in kb.backend.store)
        assert claimindex.build(kb).current and claimindex.current(kb)
        assert sorted(str(q) for q in kb.backend.store) == quads
        held = claimbitmaps.ready(kb, wait=True)
        assert held is not None and held.resting_on(str(CKBR.BasNews), 100)[1] > 0


def test_an_index_an_older_release_kept_in_the_store_is_removed(fresh_kb: KnowledgeBase,
                                                                 tmp_path: Path) -> None:
    fresh_kb.load()
    claimindex.build(fresh_kb)
    index = tmp_path / "old-index.nt"
    with claimindex.reading(fresh_kb, claimindex.stamp(fresh_kb)) as found:
        index.write_text("".join(f"{t} .\n" for t in found), encoding="utf-8")
    fresh_kb.backend.replace_graphs([(index, GRAPH_CLAIM_INDEX)])  # where c5c59e4 wrote it
    assert GRAPH_CLAIM_INDEX in fresh_kb.graphs()
    claimindex.build(fresh_kb)
    assert GRAPH_CLAIM_INDEX not in fresh_kb.graphs() and claimindex.current(fresh_kb)
    # a graph of that name holding anything else is someone's data: kept
    data = tmp_path / "data.nt"
    data.write_text(f"<{CKBR.q}> <{CKB.hedgeText}> \"mine\" .\n", encoding="utf-8")
    fresh_kb.backend.replace_graphs([(data, GRAPH_CLAIM_INDEX)])
    claimindex.build(fresh_kb)
    assert fresh_kb.graphs().get(GRAPH_CLAIM_INDEX) == 1


def test_an_index_built_by_other_rules_is_stale_until_rebuilt(tmp_path: Path) -> None:
    store = tmp_path / "store"
    assert ckb("load", store=store).returncode == 0
    meta = lifecycle.read_meta(store)
    assert meta is not None and meta.claim_index.startswith(claimindex.RULES_VERSION)
    for older in ('"claim_index": true', '"claim_index": "0123456789abcdef"',
                  f'"claim_index": "{claimindex.RULES_VERSION}"'):
        # as an older release (a rule since added, or before the rules were fingerprinted, or
        # before the index left the store) left it
        path = store / lifecycle.META_NAME
        text = re.sub(r'"claim_index": [^,}\n]+', older, path.read_text(encoding="utf-8"))
        path.write_text(text, encoding="utf-8")
        with KnowledgeBase.open(store, read_only=True) as kb:
            assert not claimindex.current(kb) and claimbitmaps.ready(kb, wait=True) is None
        rebuilt = ckb("index", store=store)
        assert rebuilt.returncode == 0 and "claim index:" in rebuilt.stdout, rebuilt.stderr
        assert lifecycle.read_meta(store).claim_index.startswith(claimindex.RULES_VERSION)
        with KnowledgeBase.open(store, read_only=True) as kb:
            assert claimindex.current(kb) and claimbitmaps.ready(kb, wait=True) is not None


def test_pages_and_exports_show_only_the_data(indexed: KnowledgeBase) -> None:
    claim = next(iter(downstream_claims(indexed, str(CKBR.BasNews))[0]))
    described = indexed.describe(claim)
    shown = {g.iri for g in described.outgoing}
    assert str(CKB.hasQuote) in shown and str(CKB.restsOn) not in shown
    assert GRAPH_CLAIM_INDEX not in indexed.exportable_graphs()
    assert str(CKB.restsOn) not in indexed.export(format="nt", entity=claim).decode()
    assert f"> <{CKB.restsOn}> " not in indexed.export(format="nq").decode()  # as a predicate
    # ... nor does SPARQL see it: the index is derived state, not data
    assert not indexed.query(f"SELECT ?a WHERE {{ <{claim}> <{CKB.restsOn}> ?a }}").rows


def test_the_keeper_rebuilds_after_a_write(fresh_kb: KnowledgeBase, tmp_path: Path) -> None:
    fresh_kb.load()
    keeper = claimindex.Keeper(fresh_kb, poll=0.05).start()
    try:
        deadline = time.monotonic() + 30
        while not claimindex.current(fresh_kb) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert claimindex.current(fresh_kb)
        extra = tmp_path / "extra.ttl"
        extra.write_text(f"<{CKBR.y}> <{CKB.hedgeText}> \"allegedly\" .\n", encoding="utf-8")
        fresh_kb.import_file(extra)
        deadline = time.monotonic() + 30
        while not claimindex.current(fresh_kb) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert claimindex.current(fresh_kb) and keeper.last is not None
        shutil.rmtree(sidecar.folder_of(tmp_path / "store"))  # deleted: the keeper builds it again
        deadline = time.monotonic() + 30
        while not claimindex.current(fresh_kb) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert claimindex.current(fresh_kb)
    finally:
        keeper.stop(wait=30)
    assert not keeper.thread.is_alive()


def test_cli_load_rebuilds_the_index_and_import_when_told(tmp_path: Path) -> None:
    store = tmp_path / "store"
    loaded = ckb("load", store=store)
    assert loaded.returncode == 0 and "claim index:" in loaded.stdout, loaded.stderr
    extra = tmp_path / "extra.ttl"
    extra.write_text(f"<{CKBR.z}> <{CKB.hedgeText}> \"likely\" .\n", encoding="utf-8")
    skipped = ckb("import", str(extra), store=store)
    assert skipped.returncode == 0 and "claim index: stale" in skipped.stdout, skipped.stderr
    assert not lifecycle.read_meta(store).claim_index
    rebuilt = ckb("index", store=store)
    assert rebuilt.returncode == 0 and "claim index:" in rebuilt.stdout, rebuilt.stderr
    assert lifecycle.read_meta(store).claim_index
    with KnowledgeBase.open(store, read_only=True) as kb:
        assert claimindex.current(kb)
    again = ckb("import", str(extra), "--name", "again", "--index", store=store)
    assert again.returncode == 0 and "claim index:" in again.stdout and lifecycle.read_meta(store).claim_index


def test_quote_search_in_memory_matches_each_quote_alone() -> None:
    quotes = [(0, "hello world"), (1, "say hello"), (1, "hello again"), (3, "nothing"), (2, "")]
    held = claimbitmaps.ClaimBitmaps(0, list("abcd"), {}, quotes)
    for needle in ("hello", "o", "ld say", "\0say", "again", "", "x"):
        assert list(held.containing(needle)) == sorted({n for n, t in quotes if needle in t}), needle
