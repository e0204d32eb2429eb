"""kb.store.using: the protocol's update dataset becomes USING clauses at the places a real parse finds."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from kb.errors import KBError, QuerySyntaxError
from kb.store.using import DatasetConflict, with_using

FOAF = "PREFIX foaf: <http://xmlns.com/foaf/0.1/>\n"


def test_no_dataset_leaves_the_update_alone():
    assert with_using("CLEAR ALL", [], []) == "CLEAR ALL"


def test_clauses_go_before_each_where_and_nowhere_else():
    update = (FOAF + "CLEAR ALL ; # a WHERE in a comment\n"
              "INSERT { GRAPH <http://t/> { ?s a 'WHERE' } } where { ?s a foaf:Document } ;\n"
              "DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }")
    out = with_using(update, ["http://d/1", "http://d/2"], ["http://n/1"])
    clauses = "USING <http://d/1> USING <http://d/2> USING NAMED <http://n/1> "
    assert out.count(clauses) == 2
    assert f"}} {clauses}where {{" in out and f"}} {clauses}WHERE {{" in out
    assert "# a WHERE in a comment" in out and "'WHERE'" in out


def test_unicode_escapes_before_the_keyword_keep_offsets_right():
    update = r"INSERT { <http://x/\u0041> <http://p/> 'caf\u00E9' } WHERE { }"
    assert with_using(update, ["http://d/"]) == (
        r"INSERT { <http://x/\u0041> <http://p/> 'caf\u00E9' } USING <http://d/> WHERE { }")


def test_the_engine_applies_the_dataset():
    store = ox.Store()
    for g in ("http://d/1", "http://d/2"):
        store.add(ox.Quad(ox.NamedNode(g + "#s"), ox.NamedNode("http://p/"), ox.Literal("x"),
                          ox.NamedNode(g)))
    store.update(with_using("INSERT { GRAPH <http://out/> { ?s ?p ?o } } WHERE { ?s ?p ?o }",
                            ["http://d/1"]))
    out = {q.subject.value for q in store.quads_for_pattern(None, None, None, ox.NamedNode("http://out/"))}
    assert out == {"http://d/1#s"}


@pytest.mark.parametrize("update", [
    "WITH <http://a/> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }",
    "INSERT { ?s ?p ?o } USING <http://a/> WHERE { ?s ?p ?o }",
    "INSERT { ?s ?p ?o } USING NAMED <http://a/> WHERE { GRAPH ?g { ?s ?p ?o } }",
    "DELETE WHERE { ?s ?p ?o }",
])
def test_a_dataset_given_twice_or_where_none_fits_is_refused(update):
    with pytest.raises(DatasetConflict):
        with_using(update, ["http://d/"])


def test_bad_iris_and_bad_syntax_are_refused():
    with pytest.raises(KBError, match="not a valid IRI"):
        with_using("INSERT { ?s ?p ?o } WHERE { ?s ?p ?o }", ["http://d/> } ; DROP ALL ; #"])
    with pytest.raises(QuerySyntaxError):
        with_using("CLEAR XYZ", ["http://d/"])


def test_deep_or_long_updates_are_refused_with_a_message_not_a_crash():
    nested = "INSERT { ?s ?p ?o } WHERE " + "{" * 5000 + "}" * 5000
    many = " ; ".join(["INSERT { ?s ?p ?o } WHERE { ?s ?p ?o }"] * 2000)
    for update in (nested, many):
        with pytest.raises(DatasetConflict, match="too deeply"):
            with_using(update, ["http://d/"])
