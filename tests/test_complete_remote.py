"""Editor completion on a remote engine (Oxigraph server on loopback): others may write to it, so
no index is kept; classes and properties come from the ontology on every request, entities not."""

from __future__ import annotations

import pytest

from kb import KnowledgeBase
from kb.derived.labels import class_usage, label_index
from tests.engines import Server
from webui import create_app

pytestmark = pytest.mark.remote


@pytest.fixture(scope="module")
def sparql_server(oxigraph: Server) -> Server:
    """Oxigraph alone (tests/conftest.py's ``remote`` runs on it): no remote engine keeps an index."""
    return oxigraph


def test_remote_completes_terms_from_the_ontology_and_keeps_no_index(remote: KnowledgeBase) -> None:
    web = create_app({"KB": remote, "TESTING": True}).test_client()
    classes = web.get("/api/complete", query_string={"kind": "class", "q": "ckb:Cl"}).get_json()
    assert "ckb:Clash" in [r["text"] for r in classes["results"]]
    props = web.get("/api/complete", query_string={"kind": "property", "q": "ckb:",
                                                    "class": "ckb:Clash"}).get_json()["results"]
    # without the data's usage, the ontology's domains still put the class's properties first
    assert props[0]["match"] == "class" and props[0]["detail"].startswith("domain")
    entity = web.get("/api/complete", query_string={"kind": "entity", "q": "Hezb"}).get_json()
    assert entity["results"] == [] and "embedded store" in entity["note"]
    assert label_index(remote) is None and class_usage(remote) is None
