"""The views the home page links to are built ahead, after start and after every write."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from kb import KnowledgeBase
from tests.webui.conftest import write_mini_project
from webui import create_app

TOKEN = {"Authorization": "Bearer s3cret"}
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
PATHS = ("/claims?anonymity=anonymous", "/claims")


@pytest.fixture
def warm_app(tmp_path: Path) -> Iterator[Flask]:
    with KnowledgeBase.open(memory=True, workers=1) as kb:
        kb.load(write_mini_project(tmp_path))
        app = create_app({"KB": kb, "TESTING": True, "UPDATE_TOKEN": "s3cret", "WARM_PAGES": PATHS})
        try:
            yield app
        finally:
            warmer = app.extensions["ckb.warmer"]
            warmer.stop(wait=30)
            assert not warmer.thread.is_alive()


def _warmed(app: Flask, generation: int) -> None:
    warmer = app.extensions["ckb.warmer"]
    end = time.monotonic() + 60
    while warmer.warmed != generation and time.monotonic() < end:
        time.sleep(0.05)
    assert warmer.warmed == generation


def test_landing_views_are_cached_before_the_first_visit(warm_app: Flask) -> None:
    kb, cache = warm_app.extensions["ckb"], warm_app.extensions["ckb.pagecache"]
    _warmed(warm_app, kb.generation())
    hits = cache.hits
    for path in PATHS:
        assert warm_app.test_client().get(path, headers=BROWSER).status_code == 200
    assert cache.hits == hits + len(PATHS)


def test_a_write_gets_the_landing_views_built_again(warm_app: Flask) -> None:
    kb, cache = warm_app.extensions["ckb"], warm_app.extensions["ckb.pagecache"]
    _warmed(warm_app, kb.generation())
    before = kb.generation()
    update = ('INSERT DATA { GRAPH <https://w3id.org/conflict-kb/graph/data> { '
              '<https://w3id.org/conflict-kb/id/x> <http://www.w3.org/2000/01/rdf-schema#label> "x" } }')
    answer = warm_app.test_client().post("/sparql", data={"update": update}, headers=TOKEN)
    assert answer.status_code in (200, 204)
    assert kb.generation() != before
    _warmed(warm_app, kb.generation())
    hits = cache.hits
    assert warm_app.test_client().get(PATHS[0], headers=BROWSER).status_code == 200
    assert cache.hits == hits + 1


def test_no_warming_unless_configured(writable_app: Flask) -> None:
    assert "ckb.warmer" not in writable_app.extensions


def test_browsers_accept_headers_share_one_cached_entity_page(writable_app: Flask) -> None:
    cache, web = writable_app.extensions["ckb.pagecache"], writable_app.test_client()
    assert web.get("/id/hezbollah", headers={"Accept": "text/html"}).status_code == 200
    hits = cache.hits
    assert web.get("/id/hezbollah", headers=BROWSER).status_code == 200
    assert cache.hits == hits + 1

