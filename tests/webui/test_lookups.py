"""Pages read by pattern lookups (kb.views.lookups) show exactly what the bounded queries show, run
no query in a worker, and follow writes at once."""

from __future__ import annotations

from collections.abc import Iterator
from html import unescape
from pathlib import Path
from urllib.parse import quote

import pytest
from flask.testing import FlaskClient

from kb import KnowledgeBase
from kb.namespaces import CKB, CKBR, GRAPH_BASE
from kb.views.chains import downstream_claims, source_chains
from kb.views.facts import key_facts
from webui import create_app

HTML = {"Accept": "text/html"}
PAGES = ["/id/Russia", "/id/Hezbollah", "/id/Iran", "/id/AnonymousSyrianOfficial", "/id/BasNews",
         "/source?iri=" + quote(str(CKBR.AnonymousSyrianOfficial), safe=""),
         "/source?iri=" + quote(str(CKBR.BasNews), safe=""), "/id/Russia?page=2"]


@pytest.fixture(scope="module")
def web(kb: KnowledgeBase) -> FlaskClient:
    return create_app({"KB": kb, "PAGE_CACHE_BYTES": 0}).test_client()


@pytest.fixture
def count_queries(kb: KnowledgeBase) -> Iterator[list[str]]:
    """Record every query the KB sends to its engine (the worker pool)."""
    sent: list[str] = []
    real = kb.backend.query

    def counting(request):
        sent.append(request.query)
        return real(request)

    kb.backend.query = counting
    yield sent
    del kb.backend.query


def _get(web: FlaskClient, url: str) -> str:
    response = web.get(url, headers=HTML)
    assert response.status_code == 200, (url, response.data[:300])
    return response.get_data(as_text=True)


@pytest.mark.parametrize("url", PAGES)
def test_lookup_pages_equal_query_pages(web: FlaskClient, kb: KnowledgeBase, url: str) -> None:
    by_pattern = _get(web, url)
    kb.use_lookups = False
    try:
        by_query = _get(web, url)
    finally:
        del kb.use_lookups
    assert by_pattern == by_query


@pytest.mark.parametrize("url", PAGES)
def test_a_page_view_sends_no_query_to_the_workers(web: FlaskClient, count_queries: list[str],
                                                   url: str) -> None:
    _get(web, url)
    assert count_queries == []


def test_the_query_path_is_still_taken_without_lookups(web: FlaskClient, kb: KnowledgeBase,
                                                      count_queries: list[str]) -> None:
    kb.use_lookups = False
    try:
        _get(web, "/id/Hezbollah")
    finally:
        del kb.use_lookups
    assert count_queries  # the counter sees queries, so the test above can fail


def test_the_anonymous_officials_claims_by_pattern(kb: KnowledgeBase) -> None:
    found, truncated = downstream_claims(kb, str(CKBR.AnonymousSyrianOfficial))
    assert not truncated and len(found) >= 3
    chains = source_chains(kb, sorted(found))
    anonymous = [c for c, ch in chains.items() if ch.anonymous_only]
    assert len(anonymous) >= 2  # the two factual claims resting only on him
    outlets = {label for ch in chains.values() for _i, label in ch.outlets}
    assert "Jerusalem Post" in outlets or "Bas News" in outlets


def test_hezbollahs_backers_according_to_whom(kb: KnowledgeBase) -> None:
    facts = dict((key, fs) for key, _h, fs in key_facts(kb, str(CKBR.Hezbollah)).groups)
    # Iran's own backing of Hezbollah (its backing of the militants including it is another fact)
    backers = {f.other_label: f for f in facts["backed-by"]
               if f.relation == str(CKBR["backing-iran-hezbollah"])}
    assert "Iran" in backers
    iran = backers["Iran"]
    # two claims in the article's own voice: no outlet upstream, and the page says so
    assert len(iran.claims) == 2 and iran.own_voice_only and not iran.outlets


def test_pages_follow_an_update(tmp_path: Path) -> None:
    with KnowledgeBase.open(tmp_path / "store", workers=1, update_token="t") as kb:
        kb.load()
        web = create_app({"KB": kb, "PAGE_CACHE_BYTES": 0}).test_client()
        before = unescape(_get(web, "/id/Hezbollah"))
        assert "a claim written after the load" not in before
        kb.update(f"""INSERT DATA {{ GRAPH <{GRAPH_BASE}data/extra> {{
          <{CKBR}ExtraClaim> a <{CKB.Report}> ; <http://www.w3.org/2000/01/rdf-schema#label>
            "a claim written after the load" ; <{CKB.supports}> <{CKBR.Hezbollah}> . }} }}""", token="t")
        after = unescape(_get(web, "/id/Hezbollah"))
        assert "a claim written after the load" in after


@pytest.mark.parametrize("local", ["Russia", "actor/12", "a-b_c.d~e", "x/y/z"])
def test_entity_url_is_what_url_for_builds(local: str) -> None:
    from flask import url_for

    from webui.entity import entity_url

    app = create_app({"KB": None, "TESTING": True})
    with app.test_request_context("/", base_url="http://h/prefix"):
        assert entity_url(str(CKBR) + local) == url_for("entity.by_id", local=local)
