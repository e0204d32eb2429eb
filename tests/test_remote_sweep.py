"""Pages the 1M sweep (benchmarks/sweep_remote.py) found slow on a server, at a size a test can
load: the bundle, 150,000 generated triples (benchmarks/generate.py), 10,000 more violent
events, each with two participations, and 40,000 more quotes in 400 documents without text."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from benchmarks import generate
from kb import KnowledgeBase
from kb.errors import ForbiddenQuery
from kb.namespaces import CKB, CKBR
from kb.store.protocol import own_dataset
from kb.views.facts import key_facts
from kb.views.sides import engagements
from kb.views.sourcetext import documents
from tests.engines import Server

pytestmark = pytest.mark.remote

EVENTS = 10_000
TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"


def _events() -> str:
    lines = []
    for i in range(EVENTS):
        event = f"<{CKBR}sweep-test/event/{i}>"
        lines.append(f"{event} <{TYPE}> <{CKB.Clash}> .")
        for j in range(2):
            part = f"<{CKBR}sweep-test/part/{i}/{j}>"
            lines.append(f"{event} <{CKB.hasParticipation}> {part} .")
            lines.append(f"{part} <{CKB.participationActor}> <{CKBR}sweep-test/actor/{(7 * i + j) % 900}> .")
            lines.append(f"{part} <{CKB.participantRole}> <{(CKB.SideA, CKB.SideB)[j]}> .")
    for i in range(400):
        lines.append(f"<{CKBR}sweep-test/document/{i}> <{TYPE}> <{CKB.Document}> .")
    lines += [f"<{CKBR}sweep-test/quote/{i}> <{CKB.inDocument}> <{CKBR}sweep-test/document/{i % 400}> ."
              for i in range(40_000)]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module", params=("oxigraph", "virtuoso"))
def far(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[KnowledgeBase]:
    server: Server = request.getfixturevalue(request.param)
    folder = tmp_path_factory.mktemp("sweep")
    (folder / "sweep-test.nt").write_text(_events(), encoding="utf-8")
    with (folder / "synthetic.nt").open("w", encoding="utf-8") as out:
        generate.write(150_000, out, seed=7)
    with KnowledgeBase.open(endpoint=server.query, update_endpoint=server.update) as kb:
        kb.load()
        kb.import_file(folder / "sweep-test.nt", name="sweep-test")
        kb.import_file(folder / "synthetic.nt", name="synthetic")
        yield kb


def _best_of_three(fn: object) -> float:
    best = float("inf")
    for _ in range(3):
        start = time.monotonic()
        fn()  # type: ignore[operator]
        best = min(best, time.monotonic() - start)
    return best


def test_a_class_page_does_not_read_every_violent_event(far: KnowledgeBase) -> None:
    # A class's page asks for its fights like any entity's (kb.views.facts.key_facts). With the
    # event types as a VALUES block, Oxigraph server joined the types first and read every event:
    # 0.4-0.6 s at 3,000 events here, 4-7 s per class page at 1M triples (the sweep); with them as
    # a FILTER the actor's participations come first (0.003-0.02 s at 10,000 events, load 13).
    assert engagements(far, str(CKB.Place), 500) == ([], False)
    assert _best_of_three(lambda: engagements(far, str(CKB.Place), 500)) < 0.25
    # an actor of the generated events: each of its events is a fight, found as quickly
    actor = f"{CKBR}sweep-test/actor/5"
    mine = far.query(f"SELECT DISTINCT ?ev WHERE {{ ?ev <{CKB.hasParticipation}>/"
                     f"<{CKB.participationActor}> <{actor}> }}").rows
    found, cut = engagements(far, actor, 500)
    assert {e.event for e in found} == {str(r["ev"]) for r in mine} and len(mine) > 5 and not cut
    assert _best_of_three(lambda: engagements(far, actor, 500)) < 0.25


def test_the_page_of_a_class_with_many_instances_reads_its_relations_quickly(far: KnowledgeBase) -> None:
    # ckb:Report has one instance per generated claim (about 4,800 here, 32,000 at 1M). With the
    # roles as a VALUES of (key, mine, theirs), Virtuoso took 3.8-4.9 s for its key facts here
    # and 20-24 s at 1M (the class page answered 503 at the 30 s limit); with FILTERs 0.1-0.25 s.
    assert key_facts(far, str(CKB.Report)).groups == []
    assert _best_of_three(lambda: key_facts(far, str(CKB.Report))) < 1.0


def test_the_reader_lists_its_documents_without_counting_every_quote(far: KnowledgeBase) -> None:
    # /reader lists the documents with text (the bundle's article) among the ones without text,
    # each with quotes. With the text as a FILTER EXISTS after the quotes: 1.1-1.7 s at 1M on
    # Oxigraph server, embedded too (32,000 quotes); 0.13 s here before the 40,000 more quotes.
    assert [d[0] for d in documents(far)] == [f"{CKBR}doc-russia-iran-infighting-syria"]
    assert _best_of_three(lambda: documents(far)) < 0.25


def test_a_name_that_ends_in_from_is_no_from_clause() -> None:
    # Each query of a source chain names prov:wasDerivedFrom: the client parsed each with rdflib
    # for its FROM clauses (0.05-0.5 s apiece, about 1 s of /actors on Virtuoso at 1M), and
    # refused any that rdflib cannot parse (here LATERAL, which Oxigraph answers).
    derived = ("SELECT * WHERE { ?c <http://www.w3.org/ns/prov#wasDerivedFrom> ?from . "
               "LATERAL { SELECT ?x WHERE { ?from ?p ?x } LIMIT 1 } }")
    assert own_dataset(derived, {}, ["g"]) == (["g"], ["g"], False)
    assert own_dataset("SELECT ?from { ?s ckb:drawnFrom ?from }", {"ckb": str(CKB)}, ["g"]) == (
        ["g"], ["g"], False)
    # real FROM clauses are still read, however they are spaced
    for query in ("SELECT * FROM <g> WHERE { ?s ?p ?o }", "SELECT *FROM<g>{ ?s ?p ?o }",
                  "DESCRIBE <x>FROM <g>", "construct { ?s ?p ?o }\nfrom\n<g> { ?s ?p ?o }"):
        assert own_dataset(query, {}, ["g", "h"]) == (["g"], [], True), query
    with pytest.raises(ForbiddenQuery):
        own_dataset("SELECT * FROM NAMED <other> { ?s ?p ?o }", {}, ["g"], refuse=lambda g: g != "g")
