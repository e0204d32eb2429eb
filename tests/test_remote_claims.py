"""The claims explorer on a SPARQL server (issue 23): every view answers from the remote claim
index when it is current; without one (never built, or stale after a write) the page says so and
reads a bounded number of claims within a time limit, never grouping every claim of the KB; the
index's restsOn is walked step by step from named statements, with the embedded store's answer."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from benchmarks import generate
from kb import KnowledgeBase
from kb.derived import claimindex
from kb.views import claimlist
from kb.views.claimfacets import facet_counts
from kb.views.claimlist import run
from kb.views.claims import check_filters
from tests.engines import Server
from webui import create_app

pytestmark = pytest.mark.remote

VIEWS: list[dict[str, str]] = [
    {}, {"anonymity": "anonymous"}, {"anonymity": "named"}, {"anonymity": "own voice"}, {"kind": "report"},
    {"q": "reportedly"}, {"anonymity": "anonymous", "kind": "report"}, {"hedge": "reportedly"},
    {"actor": "https://w3id.org/conflict-kb/id/Russia"}]
ID, PROV = "https://w3id.org/conflict-kb/id/", "http://www.w3.org/ns/prov#"
# A chain longer than the explorer's CHAIN_HOPS, with a cycle and a qualified attribution.
DEEP = [("claim-deep", "wasDerivedFrom", "deep-1"), ("deep-1", "wasQuotedFrom", "deep-2"),
        ("deep-2", "hadPrimarySource", "deep-3"), ("deep-3", "wasDerivedFrom", "deep-4"),
        ("deep-4", "wasDerivedFrom", "deep-5"), ("deep-5", "wasDerivedFrom", "deep-6"),
        ("deep-6", "wasDerivedFrom", "deep-3"), ("deep-6", "wasAttributedTo", "agent-deep")]


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("remote-claims") / "synthetic.nt"
    with path.open("w", encoding="utf-8") as fh:
        generate.write(3_000, fh, seed=5)
        fh.write(f"<{ID}claim-deep> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> "
                 "<https://w3id.org/conflict-kb/ontology#Report> .\n")
        fh.writelines(f"<{ID}{s}> <{PROV}{p}> <{ID}{o}> .\n" for s, p, o in DEEP)
        fh.write(f"<{ID}deep-4> <{PROV}qualifiedAttribution> _:q .\n_:q <{PROV}agent> <{ID}agent-q> .\n")
    return path


@pytest.fixture(scope="module", params=("oxigraph", "virtuoso"))
def remote(request: pytest.FixtureRequest, data: Path, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[KnowledgeBase]:
    server: Server = request.getfixturevalue(request.param)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CKB_DERIVED_DIR", str(tmp_path_factory.mktemp("derived")))
        with KnowledgeBase.open(endpoint=server.query, update_endpoint=server.update, update_token="t") as kb:
            kb.load()
            kb.import_file(data)
            yield kb


def _ids(listing: Any) -> list[str]:
    return [r.iri for r in listing.rows]


def test_without_an_index_each_view_says_so_and_answers_as_embedded(remote: KnowledgeBase,
                                                                    embedded: KnowledgeBase) -> None:
    assert not claimindex.current(remote)
    for args in VIEWS:
        f = check_filters(args)
        mine, theirs = run(remote, f, 25, 0), run(embedded, f, 25, 0)
        # fewer claims than the bound: the bounded view is the whole answer
        assert mine.notice and mine.bound == claimlist.FALLBACK_CLAIMS and not mine.more, args
        assert (mine.total, _ids(mine)) == (theirs.total, _ids(theirs)), args
        assert [r.anonymity for r in mine.rows] == [r.anonymity for r in theirs.rows], args
        assert facet_counts(remote, f) == facet_counts(embedded, f), args
    page = create_app({"KB": remote, "TESTING": True}).test_client().get("/claims?anonymity=anonymous")
    assert page.status_code == 200
    assert 'id="index-notice"' in page.get_data(as_text=True)


def test_without_an_index_a_view_reads_at_most_the_bound(remote: KnowledgeBase, embedded: KnowledgeBase,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(claimlist, "FALLBACK_CLAIMS", 40)
    for args in ({}, {"kind": "report"}, {"anonymity": "named"}):
        f = check_filters(args)
        mine = run(remote, f, 25, 0)
        assert mine.more and mine.bound == 40 and 0 < mine.total <= 40, (args, mine.total)
        assert set(_ids(mine)) <= set(_ids(run(embedded, f))), args  # an anonymity is the claim's own
        counts = facet_counts(remote, f)[0]
        assert sum(n for _v, n in counts["kind"]) <= 40 * 4, args  # once per kind of a claim
        assert sum(n for _v, n in counts["anonymity"]) <= 40, args
    body = create_app({"KB": remote, "TESTING": True}).test_client().get("/claims").get_data(as_text=True)
    assert "at least <strong>40</strong> claims" in body


def _most_cited(kb: KnowledgeBase) -> tuple[str, int]:
    """The agent the most claims rest on (from the embedded store's index), with their number."""
    wanted = str(claimindex.CKB.restsOn)
    with claimindex.reading(kb, claimindex.stamp(kb)) as found:
        assert found is not None
        counts = Counter(t.object.value for t in found if t.predicate.value == wanted)
    return counts.most_common(1)[0]


def test_without_an_index_a_source_view_reads_at_most_the_bound(remote: KnowledgeBase,
                                                                embedded: KnowledgeBase,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """The source pages link here: Virtuoso ignored the bound for ``source=`` (the claims resting on
    an agent, a subquery of their own inside the bounded one) and read every claim."""
    monkeypatch.setattr(claimlist, "FALLBACK_CLAIMS", 40)
    source, n = _most_cited(embedded)
    assert n > 40
    for args in ({"source": source}, {"source": source, "anonymity": "named"},
                 {"source": source, "kind": "report"}):
        f = check_filters(args)
        mine = run(remote, f, 25, 0)
        assert mine.bound == 40 and 0 < mine.total <= 40, (args, mine.total)
        assert set(_ids(mine)) <= set(_ids(run(embedded, f))), args
        assert sum(n for _v, n in facet_counts(remote, f)[0]["anonymity"]) <= 40, args
    assert run(remote, check_filters({"source": source}), 25, 0).more


def _csv(kb: KnowledgeBase, query: str) -> list[list[str]]:
    got = create_app({"KB": kb, "TESTING": True}).test_client().get("/claims?format=csv&" + query)
    assert got.status_code == 200, got.data[:300]
    return list(csv.reader(io.StringIO(got.get_data(as_text=True))))


def test_without_an_index_the_csv_reads_at_most_the_bound(remote: KnowledgeBase, embedded: KnowledgeBase,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """The download read every claim over the server (the page: at most FALLBACK_CLAIMS)."""
    monkeypatch.setattr(claimlist, "FALLBACK_CLAIMS", 40)
    assert not claimindex.current(remote)
    mine, theirs = _csv(remote, ""), _csv(embedded, "")
    assert mine[0] == theirs[0] and 0 < len(mine) - 1 <= 40 < len(theirs) - 1
    assert {r[0] for r in mine[1:]} <= {r[0] for r in theirs[1:]}
    source, _n = _most_cited(embedded)
    assert 0 < len(_csv(remote, urlencode({"source": source}))) - 1 <= 40  # Virtuoso's subquery too


def test_a_current_index_answers_every_view_with_no_notice(remote: KnowledgeBase,
                                                          embedded: KnowledgeBase) -> None:
    claimindex.build(remote)
    for args in VIEWS:
        f = check_filters(args)
        mine, theirs = run(remote, f, 25, 0), run(embedded, f, 25, 0)
        assert not mine.notice and mine.bound is None, args
        assert (mine.total, _ids(mine)) == (theirs.total, _ids(theirs)), args
        assert facet_counts(remote, f) == facet_counts(embedded, f), args


def _rows(table: list[list[str]]) -> list[tuple[str, ...]]:
    """A CSV's rows in a fixed order, each multi-valued cell's values sorted (the engines' GROUP_CONCAT
    orders differ, and so do their sorts of unlabelled claims)."""
    return sorted(tuple("; ".join(sorted(cell.split("; "))) for cell in row) for row in table[1:])


def test_with_a_current_index_the_csv_lists_the_pages_claims_within_the_cap(
        remote: KnowledgeBase, embedded: KnowledgeBase, monkeypatch: pytest.MonkeyPatch) -> None:
    import webui.claims

    claimindex.build(remote)
    assert claimindex.current(remote)
    for query in ("", "anonymity=named", urlencode({"source": _most_cited(embedded)[0]})):
        mine, theirs = _csv(remote, query), _csv(embedded, query)
        assert mine[0] == theirs[0] and _rows(mine) == _rows(theirs), query  # every claim, as embedded
    monkeypatch.setattr(webui.claims, "MAX_ROWS", 30, raising=False)
    monkeypatch.setattr(webui.claims, "CSV_CHUNK", 7, raising=False)  # several queries, one header
    mine = _csv(remote, "")
    page = _ids(run(embedded, check_filters({}), 30, 0))
    assert len(_rows(_csv(embedded, ""))) > 30 and mine[0] == _csv(embedded, "")[0]
    assert sorted(r[0] for r in mine[1:]) == sorted(page)  # the page's first 30 claims


UPSTREAM_STAR = re.compile(r"\?c\s*\(\s*prov:wasDerivedFrom\|prov:wasQuotedFrom\|prov:hadPrimarySource"
                           r"\s*\)\*")


def test_rests_on_is_walked_from_named_statements(remote: KnowledgeBase, embedded: KnowledgeBase,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[str] = []
    query = remote.query

    def recording(text: str, *args: Any, **kw: Any) -> Any:
        sent.append(text)
        return query(text, *args, **kw)

    monkeypatch.setattr(remote, "query", recording)
    claimindex.build(remote)
    # the zero-or-more path joined to the claims made each chunk take seconds at 1M
    assert not [q for q in sent if UPSTREAM_STAR.search(q)]
    assert any("VALUES ?s" in q and "prov:wasAttributedTo" in q for q in sent)
    wanted = str(claimindex.CKB.restsOn)

    def rests(kb: KnowledgeBase) -> set[tuple[str, str]]:
        with claimindex.reading(kb, claimindex.stamp(kb)) as found:
            assert found is not None
            return {(t.subject.value, t.object.value) for t in found if t.predicate.value == wanted}

    mine, theirs = rests(remote), rests(embedded)
    assert {(ID + "claim-deep", ID + a) for a in ("agent-deep", "agent-q")} <= theirs
    assert len(theirs) > 100 and mine == theirs, (sorted(mine - theirs)[:3], sorted(theirs - mine)[:3])


def test_a_query_naming_prov_was_derived_from_is_not_parsed_for_from_clauses(monkeypatch: pytest.MonkeyPatch
                                                                             ) -> None:
    import rdflib.plugins.sparql.parser as parser

    from kb.store import protocol

    parsed: list[str] = []
    real = parser.parseQuery

    def recording(text: str) -> Any:
        parsed.append(text)
        return real(text)

    monkeypatch.setattr(parser, "parseQuery", recording)
    own = ["https://w3id.org/conflict-kb/graph/data"]
    # every explorer query names prov:wasDerivedFrom: rdflib's parser took 0.1-0.4 s for each
    text = "SELECT ?c WHERE { ?c <http://www.w3.org/ns/prov#wasDerivedFrom> ?s . ?s ?p ?o }"
    assert protocol.own_dataset(text, {}, own) == (own, own, False) and not parsed
    named = f"SELECT ?c FROM <{own[0]}> WHERE {{ ?c <http://www.w3.org/ns/prov#wasDerivedFrom> ?s }}"
    assert protocol.own_dataset(named, {}, own) == (own, [], True) and len(parsed) == 1
