"""Answers read from a server as the KB reads them: Virtuoso's SPARQL XML, bounded page queries,
page queries Virtuoso compiles."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from kb import KnowledgeBase
from kb.namespaces import CKBR, import_graph
from kb.store import remote as remote_store
from kb.views.facts import actor_edges
from tests.engines import Server
from webui import create_app

pytestmark = pytest.mark.remote

GRAPH = import_graph("answers-test")
ODD = ("line\r\nbreak", "tab\there", "quote \" and \\ back", "]]> <b>&amp;</b>", "مرحبا", "emoji 🙂", " ")
HUB = f"{CKBR}answers-test/hub"


@pytest.fixture(scope="module", params=("oxigraph", "virtuoso"))
def server(request: pytest.FixtureRequest) -> Server:
    return request.getfixturevalue(request.param)


def _data() -> str:
    lines = [f'<{CKBR}answers-test/s{i}> <http://www.w3.org/2000/01/rdf-schema#comment> '
             f'"{v.replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"'
             .replace("\r", "\\r").replace("\n", "\\n").replace("\t", "\\t") + " ."
             for i, v in enumerate(ODD)]
    lines += [f'<{CKBR}answers-test/lang> <http://www.w3.org/2000/01/rdf-schema#label> "Damas"@fr .',
              f'<{CKBR}answers-test/typed> <http://purl.org/dc/terms/created> '
              f'"2014-05-01"^^<http://www.w3.org/2001/XMLSchema#date> .',
              f'<{CKBR}answers-test/blank> <http://www.w3.org/ns/prov#qualifiedAttribution> _:q .',
              '_:q <http://www.w3.org/ns/prov#agent> <https://w3id.org/conflict-kb/id/x> .']
    # more statements about one IRI than an entity page shows (browse._MAX_STATEMENTS = 2,000)
    lines += [f"<{CKBR}answers-test/in{i}> <http://www.w3.org/2000/01/rdf-schema#seeAlso> <{HUB}> ."
              for i in range(2100)]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def both(server: Server,
         tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[KnowledgeBase, KnowledgeBase]]:
    path = tmp_path_factory.mktemp("answers") / "answers-test.nt"
    path.write_text(_data(), encoding="utf-8")
    with KnowledgeBase.open(endpoint=server.query, update_endpoint=server.update) as far, \
            KnowledgeBase.open(memory=True) as near:
        far.load()
        for k in (far, near):
            k.import_file(path, name="answers-test")
        yield far, near


def _rows(k: KnowledgeBase, q: str) -> list[tuple]:
    return sorted(tuple((type(r[v]).__name__, r[v], getattr(r[v], "language", None),
                         getattr(r[v], "datatype", None)) for v in sorted(r)) for r in k.query(q).rows)


def test_odd_literals_read_as_embedded(both: tuple[KnowledgeBase, KnowledgeBase]) -> None:
    q = f"SELECT ?s ?o WHERE {{ GRAPH <{GRAPH}> {{ ?s ?p ?o FILTER(isLiteral(?o)) }} }}"
    far, near = both
    assert len(_rows(far, q)) == len(ODD) + 2
    assert _rows(far, q) == _rows(near, q)


def test_blank_nodes_read_as_blank_nodes(both: tuple[KnowledgeBase, KnowledgeBase]) -> None:
    prov = "http://www.w3.org/ns/prov#"
    q = (f"SELECT ?q ?a WHERE {{ GRAPH <{GRAPH}> {{ ?s <{prov}qualifiedAttribution> ?q . "
         f"?q <{prov}agent> ?a }} }}")
    (row,) = both[0].query(q).rows
    assert type(row["q"]).__name__ == "BNode" and str(row["a"]) == "https://w3id.org/conflict-kb/id/x"


def test_an_entity_page_asks_the_server_for_no_more_rows_than_it_shows(
        both: tuple[KnowledgeBase, KnowledgeBase], monkeypatch: pytest.MonkeyPatch) -> None:
    far = both[0]
    rows_sent: list[int] = []
    read = remote_store.RemoteBackend._read

    def sized(self: object, sparql: str, kind: str, timeout: float, dataset: object = ()) -> bytes:
        body = read(self, sparql, kind, timeout, dataset)
        if kind == "select":
            rows_sent.append(len(json.loads(body)["results"]["bindings"]))
        return body

    monkeypatch.setattr(remote_store.RemoteBackend, "_read", sized)
    app = create_app({"KB": far, "PAGE_CACHE_BYTES": 0})
    page = app.test_client().get("/id/answers-test/hub")
    assert page.status_code == 200
    assert max(rows_sent) <= 2001, max(rows_sent)  # the server cut the 2,100 incoming statements


@pytest.mark.parametrize("relation", ["backs", "member-of", "fought"])
def test_one_relation_of_the_actor_graph_answers_as_embedded(
        both: tuple[KnowledgeBase, KnowledgeBase], kb: KnowledgeBase, relation: str) -> None:
    far = both[0]
    page = create_app({"KB": far, "PAGE_CACHE_BYTES": 0}).test_client().get(f"/actors?relation={relation}")
    assert page.status_code == 200, page.get_data(as_text=True)[:300]

    def edges(k: KnowledgeBase) -> set[tuple[str, str, str, str]]:
        return {(f.relation, f.subject, f.other, f.relation_label) for f in actor_edges(k, [relation])[0]}

    assert edges(far) == edges(kb)
    assert edges(kb)
