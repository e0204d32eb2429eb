"""Rendered pages are kept per store generation: served again unchanged, dropped by any write."""

from __future__ import annotations

from flask import Flask

from tests.webui.conftest import HEZBOLLAH
from webui.pagecache import PageCache

TOKEN = {"Authorization": "Bearer s3cret"}
HTML = {"Accept": "text/html"}


def test_second_view_is_the_cached_bytes_with_fresh_headers(writable_app: Flask) -> None:
    cache = writable_app.extensions["ckb.pagecache"]
    web = writable_app.test_client()
    first = web.get("/id/hezbollah", headers=HTML)
    hits = cache.hits
    second = web.get("/id/hezbollah", headers=HTML)
    assert first.status_code == second.status_code == 200
    assert cache.hits == hits + 1
    assert second.data == first.data
    # Security headers are added to every answer, cached or not.
    assert second.headers["Content-Security-Policy"] == first.headers["Content-Security-Policy"]
    assert "Accept" in second.headers["Vary"]


def test_a_write_makes_every_cached_page_stale(writable_app: Flask) -> None:
    web = writable_app.test_client()
    assert b"Hizbullah Renamed" not in web.get("/id/hezbollah", headers=HTML).data
    update = (f'INSERT DATA {{ GRAPH <https://w3id.org/conflict-kb/graph/data> '
              f'{{ <{HEZBOLLAH}> <http://www.w3.org/2004/02/skos/core#altLabel> "Hizbullah Renamed" }} }}')
    answer = web.post("/sparql", data={"update": update}, headers=TOKEN)
    assert answer.status_code in (200, 204)
    assert b"Hizbullah Renamed" in web.get("/id/hezbollah", headers=HTML).data


def test_answers_differ_by_accept_and_errors_are_not_kept(writable_app: Flask) -> None:
    cache = writable_app.extensions["ckb.pagecache"]
    web = writable_app.test_client()
    html = web.get("/id/hezbollah", headers=HTML)
    turtle = web.get("/id/hezbollah", headers={"Accept": "text/turtle"})
    assert html.mimetype == "text/html" and turtle.mimetype == "text/turtle"
    hits = cache.hits
    assert web.get("/id/no-such-thing", headers=HTML).status_code == 404
    assert web.get("/id/no-such-thing", headers=HTML).status_code == 404
    assert cache.hits == hits


def test_the_cache_stays_within_its_bytes() -> None:
    cache = PageCache(max_bytes=1000)
    for n in range(10):
        cache.put((0, f"/p{n}", ""), 200, "text/html", b"x" * 300)
    assert cache.get((0, "/p9", "")) is not None
    assert cache.get((0, "/p0", "")) is None  # the oldest went first
    kept = [entry for n in range(10) if (entry := cache.get((0, f"/p{n}", ""))) is not None]
    assert len(kept) == 3 and sum(len(body) for _s, _t, body in kept) <= 1000


def test_off_when_configured_off(mini_kb) -> None:
    from webui import create_app

    app = create_app({"KB": mini_kb, "TESTING": True, "PAGE_CACHE_BYTES": 0})
    assert "ckb.pagecache" not in app.extensions
