"""SERVICE and LOAD in every spelling, against a real `ckb serve`, with and without the fence.

A loopback listener counts connections: none may arrive, whatever the spelling, and the answer
is a 4xx (never a 500 and never the listener's data). Without the fence (CKB_FENCE=off, as on a
platform without libseccomp, with --no-sandbox) the query check alone must hold.
"""

from __future__ import annotations

import urllib.parse
import urllib.request
from collections.abc import Iterator

import pytest

from tests.conftest import counting_server
from tests.webui.serving import TOKEN, Server, ckb_serve


def _queries(url: str) -> dict[str, str]:
    s = f"<{url}>"
    body = "{ ?s ?p ?o }"
    return {
        "2SERVICE": f"SELECT * WHERE {{ ?x ?y 2SERVICE {s} {body} }}",
        "+2SERVICE": f"SELECT * WHERE {{ ?x ?y +2SERVICE {s} {body} }}",
        "-2SERVICE": f"SELECT * WHERE {{ ?x ?y -2SERVICE {s} {body} }}",
        "2SERVICE<iri>": f"SELECT * WHERE {{ ?x ?y 2SERVICE{s}{body} }}",
        "2.5SERVICE": f"SELECT * WHERE {{ ?x ?y 2.5SERVICE {s} {body} }}",
        "2e3SERVICE": f"SELECT * WHERE {{ ?x ?y 2e3SERVICE {s} {body} }}",
        "2SERVICE SILENT": f"SELECT * WHERE {{ ?x ?y 2SERVICE SILENT {s} {body} }}",
        "2service lower": f"SELECT * WHERE {{ ?x ?y 2service {s} {body} }}",
        "OPTIONAL 2SERVICE": f"SELECT * WHERE {{ OPTIONAL {{ ?x ?y 2SERVICE {s} {body} }} }}",
        "subquery 2SERVICE": f"SELECT * WHERE {{ {{ SELECT * WHERE {{ ?x ?y 2SERVICE {s} {body} }} }} }}",
        "ASK 2SERVICE": f"ASK {{ ?x ?y 2SERVICE {s} {body} }}",
        "CONSTRUCT 2SERVICE": f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ ?x ?y 2SERVICE {s} {body} }}",
        "blank.SERVICE": f"SELECT * WHERE {{ ?x ?y _:b.SERVICE {s} {body} }}",
        "var.SERVICE": f"SELECT * WHERE {{ ?x ?y ?z.SERVICE {s} {body} }}",
        "string SERVICE": f"SELECT * WHERE {{ ?x ?y \"a\"SERVICE {s} {body} }}",
        "escaped SERVICE": f"SELECT * WHERE {{ ?x ?y ?z . \\u0053ERVICE {s} {body} }}",
        "plain SERVICE": f"SELECT * WHERE {{ SERVICE {s} {body} }}",
        "SERVICE SILENT": f"SELECT * WHERE {{ SERVICE SILENT {s} {body} }}",
    }


def _updates(url: str) -> dict[str, str]:
    s = f"<{url}>"
    return {
        "LOAD": f"LOAD {s}",
        "LOAD SILENT": f"LOAD SILENT {s} INTO GRAPH <http://example.org/g>",
        "load after 2": f"INSERT DATA {{ <http://example.org/a> <http://example.org/b> 2 }} ;LOAD {s}",
        "2SERVICE in WHERE": f"INSERT {{ ?s ?p ?o }} WHERE {{ ?x ?y 2SERVICE {s} {{ ?s ?p ?o }} }}",
        "escaped LOAD": f"\\u004cOAD {s}",
    }


@pytest.fixture
def counting_listener() -> Iterator[tuple[str, list[str]]]:
    """A loopback HTTP-ish listener that counts every connection (and answers a canary)."""
    canary = (b"HTTP/1.1 200 OK\r\nContent-Type: application/n-triples\r\n"
              b"Connection: close\r\n\r\n<http://x/canary> <http://x/p> \"INTERNAL\" .\n")
    with counting_server(canary) as (port, hits):
        yield f"http://127.0.0.1:{port}/x", hits


def _send_all(server: Server, url: str) -> list[tuple[str, int, bytes]]:
    answers = []
    for name, text in _queries(url).items():
        status, body, _ = server.get("/sparql?" + urllib.parse.urlencode({"query": text}),
                                     headers={"Accept": "application/sparql-results+json"})
        answers.append((name, status, body))
    for name, text in _updates(url).items():
        req = urllib.request.Request(
            f"http://127.0.0.1:{server.port}/sparql", data=text.encode(), method="POST",
            headers={"Content-Type": "application/sparql-update", "Authorization": f"Bearer {TOKEN}"})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                answers.append((name, r.status, r.read()))
        except urllib.error.HTTPError as err:
            answers.append((name, err.code, err.read()))
    return answers


def _judge(answers: list[tuple[str, int, bytes]], hits: list[str]) -> None:
    wrong = [(n, s, b[:160]) for n, s, b in answers if not 400 <= s < 500 or b"INTERNAL" in b]
    assert not wrong, f"not refused with a 4xx: {wrong}"
    assert not hits, f"{len(hits)} connection(s) reached the loopback listener"


def test_no_spelling_connects_without_the_fence(counting_listener) -> None:
    url, hits = counting_listener
    with ckb_serve("--no-sandbox", env={"CKB_FENCE": "off"}) as server:
        answers = _send_all(server, url)
        assert server.alive()
    # The premise: these workers really ran without the fence.
    assert "CKB_FENCE=off" in server.log  # type: ignore[attr-defined]
    _judge(answers, hits)


def test_no_spelling_connects_with_the_fence(counting_listener) -> None:
    if _fence_unavailable():
        pytest.skip("this kernel cannot set up the seccomp fence")
    url, hits = counting_listener
    with ckb_serve() as server:
        answers = _send_all(server, url)
        assert server.alive()
    _judge(answers, hits)


def _fence_unavailable() -> bool:
    try:
        import pyseccomp  # noqa: F401
    except Exception:
        return True
    return False
