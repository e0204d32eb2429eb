"""Result renderers keep every kind of term intact."""

from __future__ import annotations

import csv
import io
import json

import pyoxigraph as ox

from kb import KnowledgeBase

VALUES = """SELECT ?x ?y WHERE { VALUES (?x ?y) {
  (<http://example.org/a> "tab\\there \\"quoted\\"\\nnew line")
  ("chat"@fr 42)
  (UNDEF "2015-09-01"^^xsd:date)
} }"""


def test_json_tsv_and_csv_agree_with_the_engine(kb: KnowledgeBase) -> None:
    result = kb.query(VALUES)
    parsed = list(ox.parse_query_results(result.serialize("json"), format=ox.QueryResultsFormat.JSON))
    via_tsv = list(ox.parse_query_results(result.serialize("tsv"), format=ox.QueryResultsFormat.TSV))
    assert [[str(s[v]) for v in ("x", "y")] for s in parsed] == [
        [str(s[v]) for v in ("x", "y")] for s in via_tsv
    ]
    assert parsed[0]["y"].value == 'tab\there "quoted"\nnew line'
    assert parsed[1]["x"].language == "fr"
    assert parsed[2]["x"] is None
    rows = list(csv.reader(io.StringIO(result.serialize("csv").decode())))
    assert rows[0] == ["x", "y"] and rows[1][1] == 'tab\there "quoted"\nnew line' and rows[3][0] == ""
    assert json.loads(result.serialize("json"))["head"]["vars"] == ["x", "y"]


def test_ask_results(kb: KnowledgeBase) -> None:
    result = kb.query("ASK { ?s a ckb:Claim }")
    assert json.loads(result.serialize("json")) == {"head": {}, "boolean": True}
    # SPARQL TSV defines no boolean form: whatever the engine writes is the answer.
    raw = kb.backend.store.query("ASK { ?s a ckb:Claim }", prefixes=kb.prefixes,
                                 use_default_graph_as_union=True)
    assert result.serialize("tsv") == raw.serialize(format=ox.QueryResultsFormat.TSV)
