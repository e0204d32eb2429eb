"""The smaller abuses of issue 19, against a real `ckb serve`: never a 500, never one client's
Host header in another client's page."""

from __future__ import annotations

import urllib.parse
import urllib.request
from collections.abc import Iterator

import pytest

from kb.namespaces import GRAPH_DATA
from tests.webui.serving import TOKEN, Server, ckb_serve

CAFE = "https://w3id.org/conflict-kb/id/café-δ"


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    with ckb_serve() as running:
        yield running


def test_map_external_does_not_put_a_host_into_the_cached_page(server: Server) -> None:
    status, body, _ = server.get("/map?_external=1", headers={"Host": "evil.example", "Accept": "text/html"})
    assert status == 200
    assert b"evil.example" not in body
    status, body, _ = server.get("/map?_external=1", headers={"Accept": "text/html"})
    assert status == 200 and b"evil.example" not in body


@pytest.mark.parametrize("query", ["endpoint=x", "values=1", "_anchor=a", "_method=POST", "_scheme=ftp"])
def test_map_with_url_for_options_is_not_a_500(server: Server, query: str) -> None:
    status, body, _ = server.get(f"/map?{query}", headers={"Accept": "text/html"})
    assert status < 500, body[:300]


def test_entity_download_of_a_non_ascii_iri(server: Server) -> None:
    update = (f"INSERT DATA {{ GRAPH <{GRAPH_DATA}> {{ <{CAFE}> "
              "<http://www.w3.org/2000/01/rdf-schema#label> \"Café\" } }")
    req = urllib.request.Request(f"http://127.0.0.1:{server.port}/sparql", data=update.encode(),
                                 method="POST", headers={"Content-Type": "application/sparql-update",
                                                         "Authorization": f"Bearer {TOKEN}"})
    with urllib.request.urlopen(req, timeout=30) as r:
        assert r.status == 204
    for fmt in ("ttl", "nt", "jsonld"):
        path = "/entity?" + urllib.parse.urlencode({"iri": CAFE, "format": fmt})
        conn_status, body, _ = server.get(path)
        assert conn_status == 200, body[:300]
        assert "Café".encode() in body or b"Caf\\u00E9" in body
    # The header names the file in ASCII and, exactly, in UTF-8 (RFC 6266).
    with urllib.request.urlopen(f"http://127.0.0.1:{server.port}"
                                + "/entity?" + urllib.parse.urlencode({"iri": CAFE, "format": "ttl"}),
                                timeout=30) as r:
        disposition = r.headers["Content-Disposition"]
    assert "filename*=UTF-8''" + urllib.parse.quote("café-δ.ttl", safe="") in disposition
    assert server.alive()
