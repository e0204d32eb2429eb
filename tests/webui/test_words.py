"""Words, not codes (issue 20): the claims explorer's facets and CSV, the home page's counts and
the entity neighbourhood, with a real dataset imported, checked against the store itself."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import pyoxigraph as ox
import pytest
from flask.testing import FlaskClient

from kb import KnowledgeBase
from kb.derived import bitmaps as claimbitmaps
from kb.derived import claimindex
from kb.imports import run_import
from kb.namespaces import CKB, CKBR, GRAPH_INFERRED
from kb.views.claimfacets import facet_counts
from kb.views.claims import check_filters
from tests.conftest import GED_BANGLADESH
from webui import create_app

GED = GED_BANGLADESH
if not GED.is_file():
    GED = Path(__file__).resolve().parents[1] / "fixtures" / "ucdp-ged-tiny.csv"
HTML = {"Accept": "text/html"}
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
SUBCLASS = "http://www.w3.org/2000/01/rdf-schema#subClassOf"
LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
PROV = "http://www.w3.org/ns/prov#"
KINDS = [str(CKB[k]) for k in ("Report", "Assessment", "Forecast", "Characterisation")]


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KnowledgeBase]:
    """The bundle and a UCDP GED import in a disk store, its claim index built."""
    with KnowledgeBase.open(tmp_path_factory.mktemp("words") / "store") as k:
        k.load()
        run_import(k, GED, "ucdp-ged")
        claimindex.build(k)
        assert claimbitmaps.ready(k, wait=True) is not None
        yield k


@pytest.fixture(scope="module")
def web(kb: KnowledgeBase) -> FlaskClient:
    return create_app({"KB": kb}).test_client()


def page(web: FlaskClient, url: str) -> str:
    response = web.get(url, headers=HTML)
    assert response.status_code == 200, (url, response.data[:300])
    return unescape(response.get_data(as_text=True))


class Store:
    """The store's own triples, read by pattern (no view code): the answers the pages must give."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb

    def objects(self, s: str | None, p: str, o: str | None = None) -> list[tuple[str, str, str]]:
        with self.kb.backend.reading() as store:
            return [(q.subject.value, q.object.value, getattr(q.graph_name, "value", ""))
                    for q in store.quads_for_pattern(None if s is None else ox.NamedNode(s),
                                                     ox.NamedNode(p), None if o is None else ox.NamedNode(o))]

    def types(self, s: str) -> set[str]:
        return {o for _s, o, _g in self.objects(s, RDF_TYPE)}

    def below(self, cls: str) -> set[str]:
        """``cls`` and its subclasses (rdfs:subClassOf*)."""
        found, todo = {cls}, [cls]
        while todo:
            for sub, _o, _g in self.objects(None, SUBCLASS, todo.pop()):
                if sub not in found:
                    found.add(sub)
                    todo.append(sub)
        return found

    def claims(self) -> set[str]:
        return {s for k in KINDS for s, _o, _g in self.objects(None, RDF_TYPE, k)}

    def label(self, s: str) -> str:
        return next((o for _s, o, _g in self.objects(s, LABEL)), s)


def facet_links(html: str, name: str) -> dict[str, int]:
    """A facet's values on the explorer page (from its links) with the counts shown."""
    found = {}
    link = rf'<a href="([^"]+)" data-facet="{name}"[^>]*>[^<]*</a> <span class="count">(\d+)'
    for href, n in re.findall(link, html):
        found[parse_qs(urlsplit(href).query)[name][0]] = int(n)
    return found


def test_according_to_lists_outlets_only_and_first_speakers_apart(web: FlaskClient,
                                                                   kb: KnowledgeBase) -> None:
    store = Store(kb)
    outlets = store.below(str(CKB.MediaOutlet)) | store.below(str(CKB.OutletGroup))
    cited = {a for c in store.claims() for p in ("wasDerivedFrom", "wasQuotedFrom")
             for _c, st, _g in store.objects(c, PROV + p)
             for _s, a, _g2 in store.objects(st, PROV + "wasAttributedTo")}
    people = {a for a in cited if not store.types(a) & outlets}
    assert people, "the data cites people and unnamed agents directly: the test needs them"
    html = page(web, "/claims")
    shown = facet_links(html, "via")
    counted = {v for v, _n in facet_counts(kb, check_filters({}), bitmaps=False)[0]["via"]}
    assert shown and set(shown) <= counted
    for agent in counted:  # every value, by the engine and on the page, is an outlet in the store
        assert store.types(agent) & outlets, (agent, store.types(agent))
    assert not people & (set(shown) | counted)
    assert str(CKBR.AhramOnline) in shown and "According to (the outlet cited)" in html
    # the first speakers have a facet of their own, people and unnamed agents included
    speakers = facet_links(html, "speaker")
    assert "First speaker" in html and any(not store.types(v) & outlets for v in speakers)


def test_one_hedge_vocabulary_and_the_coders_judgement_apart(web: FlaskClient, kb: KnowledgeBase) -> None:
    store = Store(kb)
    html = page(web, "/claims")
    hedges = facet_links(html, "hedge")
    coding = {str(CKB.CodedClear), str(CKB.CodedUnclear)}
    hedge_individuals = {s for s, _o, _g in store.objects(None, RDF_TYPE, str(CKB.Hedge))}
    assert hedges and set(hedges) <= hedge_individuals - coding
    # "Reports:" and "reportedly" are one hedge, counted once, named by the vocabulary's word
    reported = {c for c, h, _g in store.objects(None, str(CKB.hedge), str(CKB.Reportedly))}
    assert hedges[str(CKB.Reportedly)] == len(reported & store.claims())
    facet_html = html[html.index("<h2>Hedge</h2>"):]
    facet_html = facet_html[:facet_html.index("</details>")]
    assert "Reports" not in facet_html and "event_clarity" not in facet_html and ">reportedly<" in facet_html
    # UCDP's event_clarity is shown as the coder's judgement, with the store's counts
    judged = facet_links(html, "coding")
    stated = {(c, h) for c, h, _g in store.objects(None, str(CKB.hedge))}
    expected = Counter(h for _c, h in stated if h in coding)
    assert judged == dict(expected) and "event_clarity" not in html and ">coded as clear<" in html
    # filtering by the hedge's word still works: ?hedge=reportedly is ckb:Reportedly
    assert page(web, "/claims?hedge=reportedly").count('class="claim-row"') == hedges[str(CKB.Reportedly)]


def test_event_types_are_the_most_specific(web: FlaskClient, kb: KnowledgeBase) -> None:
    store = Store(kb)
    events = store.below(str(CKB.Event))
    closure = {c: store.below(c) for c in events}
    expected: dict[str, set[str]] = defaultdict(set)
    for claim in store.claims():
        for _c, ev, _g in store.objects(claim, str(CKB.supports)):
            types = store.types(ev) & events
            for t in types:  # no other type of the event lies below t
                if not any(u != t and u in closure[t] for u in types):
                    expected[t].add(claim)
    counted = dict(facet_counts(kb, check_filters({}), bitmaps=False)[0]["event"])
    top = sorted(expected.items(), key=lambda kv: (-len(kv[1]), kv[0]))[:30]
    assert counted == {t: len(cs) for t, cs in top}
    assert str(CKB.ViolentEvent) not in counted and str(CKB.Clash) in counted
    assert facet_links(page(web, "/claims"), "event") == counted


def test_document_facet_counts_the_claims_of_each_document_and_dataset(web: FlaskClient,
                                                                      kb: KnowledgeBase) -> None:
    store = Store(kb)
    files = defaultdict(set)  # graph -> the imported files recorded in it
    for f, _o, g in store.objects(None, RDF_TYPE, str(CKB.ImportedFile)):
        files[g].add(f)
    expected: Counter[str] = Counter()
    for claim in store.claims():
        graphs = {g for k in KINDS for _s, _o, g in store.objects(claim, RDF_TYPE, k)} - {GRAPH_INFERRED}
        datasets = {f for g in graphs for f in files.get(g, ())}
        if datasets:
            expected.update(datasets)
        else:
            expected.update({d for _c, q, _g in store.objects(claim, str(CKB.hasQuote))
                             for _q, d, _g2 in store.objects(q, str(CKB.inDocument))})
    assert len(expected) >= 2  # the article and the imported file
    engine = dict(facet_counts(kb, check_filters({}), bitmaps=False)[0]["document"])
    assert engine == dict(expected) == dict(facet_counts(kb, check_filters({}))[0]["document"])
    html = page(web, "/claims")
    assert facet_links(html, "document") == dict(expected) and "Document or dataset" in html
    dataset = next(iter(files[next(iter(files))]))
    assert store.label(dataset) in html
    # the filter lists exactly that dataset's claims
    listed = page(web, "/claims?document=" + quote(dataset, safe=""))
    assert f"<strong>{expected[dataset]}</strong> claim" in listed


def test_claims_csv_has_outlets_and_gives_labels_not_iris(web: FlaskClient, kb: KnowledgeBase) -> None:
    store = Store(kb)
    response = web.get("/claims?format=csv")
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert list(rows[0]) == ["claim", "label", "kind", "anonymity", "hedge", "coder_judgement",
                             "according_to", "first_speaker", "document", "quote"]
    assert len(rows) == len(store.claims())
    for row in rows:
        for column in ("kind", "hedge", "coder_judgement", "according_to", "first_speaker", "document"):
            assert "://" not in row[column], (column, row)
        assert row["claim"].startswith("https://")
    by_claim = {r["claim"]: r for r in rows}
    strike = by_claim[str(CKBR["claim-strike-blew-up"])]
    assert strike["according_to"] == store.label(str(CKBR.JerusalemPost))
    assert strike["first_speaker"] == store.label(str(CKBR.AnonymousSyrianOfficial))
    assert strike["kind"] == "Report"
    assert by_claim[str(CKBR["claim-headline"])]["hedge"] == store.label(str(CKB.Reportedly))
    coded = {c: store.label(h) for c, h, _g in store.objects(None, str(CKB.hedge))
             if h in (str(CKB.CodedClear), str(CKB.CodedUnclear))}
    assert coded and all(by_claim[c]["coder_judgement"] == w and by_claim[c]["hedge"] == ""
                         for c, w in coded.items())


def test_home_page_counts_the_imported_data(web: FlaskClient, kb: KnowledgeBase) -> None:
    store = Store(kb)
    clashes = {s for s, _o, g in store.objects(None, RDF_TYPE, str(CKB.Clash)) if g != GRAPH_INFERRED}
    imported = {s for s, _o, g in store.objects(None, RDF_TYPE, str(CKB.Clash)) if "/graph/import/" in g}
    assert imported  # the dataset adds clashes
    html = page(web, "/")
    section = html[html.index("What is in the data"):]
    assert re.search(rf'>Clash</a> <span class="count">{len(clashes)}</span>', section), section[:1500]


def test_neighbourhood_shows_actors_events_and_places_in_words(web: FlaskClient, kb: KnowledgeBase) -> None:
    store = Store(kb)
    kinds = {k: store.below(str(CKB[k.capitalize()])) for k in ("actor", "event", "place")}
    data = web.get("/api/neighbours?iri=" + quote(str(CKBR.Russia), safe="")).get_json()
    nodes = {n["id"]: n for n in data["nodes"]}
    assert len(nodes) > 5 and nodes[str(CKBR.Russia)]["kind"] == "focus"
    for iri, node in nodes.items():
        assert "fact-" not in iri and not store.types(iri) & {str(CKB.FactStatement), str(CKB.Claim)}
        if node["kind"] != "focus":
            assert store.types(iri) & kinds[node["kind"]], (iri, node)
    words = {e["label"] for e in data["edges"]}
    assert {"backs", "took part in", "rival of"} <= words and "fact object" not in words
    assert all(e["label"] and "://" not in e["label"] for e in data["edges"])
    # a big actor: a few events per kind of link, the rest counted, as many as the store holds
    government = next(s for s, o, _g in store.objects(None, LABEL) if o == "Government of Bangladesh")
    taken = {ev for ev, _a, _g in store.objects(None, str(CKB.participant), government)}
    data = web.get("/api/neighbours?iri=" + quote(government, safe="")).get_json()
    shown = [e for e in data["edges"] if e["label"] == "took part in"]
    more = [m for m in data["more"] if m["words"] == "took part in"]
    assert len(shown) == 6 and more and more[0]["count"] == len(taken) - 6
    assert len(data["nodes"]) <= 40


def test_literals_read_in_words_on_an_imported_events_page(web: FlaskClient, kb: KnowledgeBase) -> None:
    store = Store(kb)
    event, day, _g = store.objects(None, str(CKB.earliestDate))[0]
    html = page(web, "/entity?iri=" + quote(event, safe=""))
    year, month, date = int(day[:4]), int(day[5:7]), int(day[8:10])
    months = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
              "October", "November", "December"]
    assert f">{date} {months[month - 1]} {year}<" in html  # not 2003-04-25T00:00:00
    assert ">date and time<" in html and ">number<" in html
    assert not re.search(r">xsd:\w+<", html)  # the datatype's IRI only in a tooltip


def test_type_pills_name_each_type_once(web: FlaskClient, kb: KnowledgeBase) -> None:
    store = Store(kb)
    labels = [store.label(t) for t in store.types(str(CKBR.Russia))]
    assert labels.count("Organization") > 1  # org:Organization and prov:Organization, say
    html = page(web, "/id/Russia")
    pills = re.findall(r'<a class="chip[^"]*" href="[^"]*" title="[^"]*">([^<]+)</a>',
                       html[html.index('<p class="types">'):].split("</p>", 1)[0])
    assert pills and len(pills) == len(set(pills)) and pills.count("Organization") == 1
