"""Events matched across sources (kb.linking): the ACLED twins of the Bangladesh GED rows are found.

The twins (tests/fixtures/make_acled_twins.py, fixed seed) are ACLED-format rows written for the same
events as the 601 GED rows: dates moved by a day, points a few kilometres, ACLED's actor names and
event types, some fatality counts changed; 60 ACLED-only rows have no true pair.
"""

from __future__ import annotations

import csv
import importlib.util
from pathlib import Path

import pytest

from kb import KnowledgeBase
from kb.cli.main import main
from kb.imports import run_import
from kb.linking.eventlinks import GRAPH_EVENT_MATCHES, link_events
from kb.linking.events import MatchParams, Record, compatible
from kb.namespaces import CKB as NS_CKB
from kb.namespaces import CKBR as NS_CKBR
from kb.views.eventcodings import event_codings
from tests.conftest import FIXTURES, GED_BANGLADESH

ROOT = Path(__file__).resolve().parent.parent
TWINS, TRUTH = FIXTURES / "acled-bangladesh-twins.csv", FIXTURES / "acled-bangladesh-twins.truth.csv"
GED = GED_BANGLADESH
CKB, CKBR = str(NS_CKB), str(NS_CKBR)
P = f"PREFIX ckb: <{CKB}>\nPREFIX ckbr: <{CKBR}>\n"
pytestmark = pytest.mark.skipif(not GED.is_file(), reason="UCDP GED Bangladesh sample not available")


def truth() -> set[tuple[str, str]]:
    with TRUTH.open(encoding="utf-8", newline="") as f:
        return {tuple(sorted((CKBR + "acled-" + r["event_id_cnty"], CKBR + "ucdp-ged-" + r["ged_id"])))
                for r in csv.DictReader(f)}


def links_in_store(kb) -> dict[tuple[str, str], tuple[str, str]]:
    rows = kb.query(P + f"""SELECT ?m ?a ?b ?score ?time WHERE {{ GRAPH <{GRAPH_EVENT_MATCHES}> {{
        ?a ckb:sameEventAs ?b . ?m ckb:matchedEvent ?a, ?b ; ckb:matchScore ?score ;
        <http://www.w3.org/ns/prov#generatedAtTime> ?time }} }}""", limit=100_000).rows
    return {tuple(sorted((str(r["a"]), str(r["b"])))): (str(r["score"]), str(r["time"])) for r in rows}


@pytest.fixture(scope="module")
def matched():
    with KnowledgeBase.open(memory=True) as k:
        k.ensure_loaded()
        run_import(k, GED, "ucdp-ged")
        run_import(k, TWINS, "acled")
        report = link_events(k)
        yield k, report


def test_fixture_is_reproducible(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("make_acled_twins", FIXTURES / "make_acled_twins.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out, pairs = tmp_path / "twins.csv", tmp_path / "truth.csv"
    assert module.make(GED, out, pairs) == 661
    assert out.read_bytes() == TWINS.read_bytes() and pairs.read_bytes() == TRUTH.read_bytes()
    assert len(truth()) == 601


def test_true_pairs_are_linked_and_few_links_are_wrong(matched) -> None:
    kb, report = matched
    stored = set(links_in_store(kb))
    assert stored == {(k.a, k.b) for k in report.links}
    true = truth()
    found = len(stored & true)
    recall, wrong = found / len(true), (len(stored) - found) / len(stored)
    print(f"recall {recall:.3f} ({found}/{len(true)}), wrong {wrong:.3f} of {len(stored)} links")
    assert recall >= 0.90
    assert wrong < 0.05
    # the ACLED-only protests are of no type a UCDP event can be: never linked
    protests = {str(r["e"]) for r in kb.query(P + "SELECT ?e WHERE { ?e a ckb:Protest ; ckb:acledId ?id }",
                                              limit=1000).rows}
    assert protests and not any(a in protests or b in protests for a, b in stored)


def test_links_are_statements_with_method_score_and_time_never_sameas(matched) -> None:
    kb, _ = matched
    assert not kb.query(P + "ASK { ?a owl:sameAs ?b . ?a ckb:acledId ?id }").boolean
    row = kb.query(P + f"""SELECT ?label ?def ?method ?who WHERE {{
        ckb:sameEventAs rdfs:label ?label ; skos:definition ?def .
        GRAPH <{GRAPH_EVENT_MATCHES}> {{ ?m a ckb:EventMatch ; ckb:matchingMethod ?method ;
          ckb:matchReason ?why ; <http://www.w3.org/ns/prov#wasAttributedTo> ?who }} }} LIMIT 1""").rows[0]
    assert str(row["label"]) == "same event as" and "MELTT" in str(row["method"])
    # both records stay whole: each keeps its own id and dates
    assert kb.query(P + "ASK { ?a ckb:sameEventAs ?b . ?a ckb:acledId ?x . ?b ckb:ucdpId ?y }").boolean or \
        kb.query(P + "ASK { ?a ckb:sameEventAs ?b . ?b ckb:acledId ?x . ?a ckb:ucdpId ?y }").boolean


def test_rerunning_and_reimporting_change_nothing(matched) -> None:
    kb, _ = matched
    before = links_in_store(kb)
    graphs = kb.graphs()
    again = link_events(kb)
    assert (again.added, again.removed) == (0, 0)
    assert run_import(kb, TWINS, "acled").unchanged and run_import(kb, GED, "ucdp-ged").unchanged
    again = link_events(kb)
    assert (again.added, again.removed) == (0, 0)
    assert links_in_store(kb) == before  # the same links, scores and times
    assert kb.graphs() == graphs


def test_event_page_view_shows_both_codings_and_their_differences(matched) -> None:
    kb, _ = matched
    # GED 71663: 13-14 Dec 2013, Bhāndāria, 1 dead; its twin is ACLED's coding of the same clash
    view = event_codings(kb, CKBR + "ucdp-ged-71663")
    assert view is not None and len(view.codings) == 2
    ged, acled = view.codings
    assert ged.values["source"] == "UCDP GED 71663" and acled.values["source"].startswith("ACLED BGD")
    assert "Bhāndāria" in ged.values["place"] and "Bhandaria" in acled.values["place"]
    assert view.differs["dates"] == (ged.values["dates"] != acled.values["dates"])
    assert view.differs["place"] and view.differs["actors"]  # moved point; ACLED's own actor names
    assert not view.differs["type"]
    assert view.links[0].reasons and float(view.links[0].score) >= 0.55
    assert event_codings(kb, CKBR + "Hezbollah") is None  # nothing linked: no section


def test_codings_include_renders(matched) -> None:
    from flask import render_template_string

    from webui import create_app

    kb, _ = matched
    app = create_app({"KB": kb, "TESTING": True})
    with app.test_request_context("/"):
        html = render_template_string('{% include "_event_codings.html" %}',
                                      codings=event_codings(kb, CKBR + "ucdp-ged-71663"))
    assert 'id="event-codings"' in html and "UCDP GED 71663" in html
    assert 'class="differs" data-field="place"' in html and 'class="agrees" data-field="type"' in html


def test_the_event_page_shows_both_codings(matched) -> None:
    from webui import create_app

    kb, _ = matched
    html = create_app({"KB": kb, "TESTING": True}).test_client().get(
        "/id/ucdp-ged-71663", headers={"Accept": "text/html"}).get_data(as_text=True)
    section = html[html.index('id="event-codings"'):]
    assert "UCDP GED 71663" in section and "ACLED BGD" in section
    assert 'class="differs" data-field="place"' in section


def test_types_are_compatible_only_through_the_alignments(matched) -> None:
    from kb.linking.eventlinks import class_tree

    kb, _ = matched
    ancestors, _ = class_tree(kb)
    day = __import__("datetime").date(2013, 1, 1)

    def rec(*types: str) -> Record:
        return Record("x", "s", day, day, types=frozenset(CKB + t for t in types))
    assert compatible(rec("Clash"), rec("Strike", "ViolentEvent"), ancestors)  # UCDP state-based ~ strike
    assert compatible(rec("Riot"), rec("Clash", "Riot"), ancestors)  # UCDP non-state ~ mob violence
    assert not compatible(rec("Protest"), rec("Clash", "ViolentEvent"), ancestors)
    assert not compatible(rec("OneSidedViolence"), rec("Riot"), ancestors)


def test_cli_match_events(tmp_path: Path, capsys) -> None:
    store = str(tmp_path / "store")
    assert main(["--store", store, "import", "--format", "ucdp-ged", str(GED)]) == 0
    assert main(["--store", store, "import", "--format", "acled", str(TWINS)]) == 0
    capsys.readouterr()
    assert main(["--store", store, "match-events"]) == 0
    first = capsys.readouterr().out
    assert "linked as the same event" in first and f"<{GRAPH_EVENT_MATCHES}>" in first
    assert main(["--store", store, "match-events"]) == 0
    assert "0 new, 0 dropped" in capsys.readouterr().out
    assert MatchParams().min_score > 0


def test_links_follow_the_records_when_an_import_is_dropped() -> None:
    with KnowledgeBase.open(memory=True) as kb:
        kb.ensure_loaded()
        run_import(kb, GED, "ucdp-ged")
        twins = run_import(kb, TWINS, "acled")
        assert len(link_events(kb).links) >= 541
        kb.backend.drop_graph(twins.graph)
        report = link_events(kb)
        assert report.links == [] and report.removed >= 541
        assert GRAPH_EVENT_MATCHES not in kb.graphs()  # no graph that names only the matcher
