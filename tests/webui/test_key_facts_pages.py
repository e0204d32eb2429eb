"""The answers on every kind of entity page (Flask client, the bundle plus a few synthetic UCDP rows).

Each test reads the page as HTML and checks the answer an analyst would quote, against what the
store says when asked another way (SPARQL), not against a copy of the expected text.
"""

from __future__ import annotations

import re
from html import unescape

import pytest
from flask.testing import FlaskClient

from kb import KnowledgeBase
from kb.namespaces import CKB, CKBR
from tests.conftest import IDLIB
from webui import create_app

HTML = {"Accept": "text/html"}


@pytest.fixture(scope="module")
def loaded(syria_loaded: KnowledgeBase) -> KnowledgeBase:
    return syria_loaded


@pytest.fixture(scope="module")
def web(loaded: KnowledgeBase) -> FlaskClient:
    return create_app({"KB": loaded}).test_client()


def text_of(web: FlaskClient, url: str, start: str, end: str | None = None) -> str:
    """The visible text of the page between two markers of its HTML."""
    response = web.get(url, headers=HTML)
    assert response.status_code == 200, (url, response.data[:300])
    html = response.get_data(as_text=True)
    assert start in html, (url, start)
    begin = html.index(">", html.index(start)) + 1  # after the tag holding the marker
    part = html[begin:html.index(end, begin) if end else None]
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", part)).split())


def items(section: str, cls: str, html: str) -> list[str]:
    """The texts of the <li> elements in the element with id ``section``."""
    start = html.index(f'id="{section}"')
    body = html[start:html.index("</section>", start)]
    return [" ".join(unescape(re.sub(r"<[^>]+>", " ", li)).split())
            for li in re.findall(rf'<li class="{cls}"[^>]*>(.*?)</li>', body, re.S)]


def test_hezbollah_page_shows_russian_air_support_through_the_militants(web: FlaskClient) -> None:
    html = web.get("/id/Hezbollah", headers=HTML).get_data(as_text=True)
    facts = [f for f in items("key-facts", "fact", html) if f.startswith("Russia ")]
    air = [f for f in facts if "air support" in f]
    assert air, facts
    assert any("through Iranian-backed Shiite militants loyal to Assad, which include Hezbollah" in f
               and "claim" in f for f in air), air


def test_iran_page_shows_the_25000_fighters_at_least_and_reportedly(web: FlaskClient) -> None:
    html = web.get("/id/Iran", headers=HTML).get_data(as_text=True)
    deployed = [f for f in items("key-facts", "fact", html) if "25,000" in f]
    assert deployed, items("key-facts", "fact", html)
    fact = deployed[0]
    assert "at least 25,000" in fact and "reportedly" in fact and "1 claim" in fact, fact
    assert 'data-group="deployed"' in html


def test_event_page_shows_the_infighting_by_side(web: FlaskClient) -> None:
    who = text_of(web, "/id/event-infighting", 'id="event-who"', "</p>")
    divisions, guard = "Russian-backed regime military divisions", "Syrian Republican Guard"
    # one sentence: the divisions (backed by Russia) fought the Guard (backed by Iran)
    assert re.search(rf"{divisions} .*backed by Russia .*fought {guard} .*backed by Iran", who), who
    sides = text_of(web, "/id/event-infighting", 'class="facts sides"', "</ul>")
    assert "side A" in sides and "side B" in sides
    # Russia and Iran only as the backers of their sides, never as direct fighters
    html = web.get("/id/event-infighting", headers=HTML).get_data(as_text=True)
    who_html = html[html.index('id="event-who"'):html.index("</p>", html.index('id="event-who"'))]
    direct = re.findall(r'class="iri party" href="[^"]*" title="([^"]+)"',
                        re.sub(r'<span class="backers">.*?</span></span>', "", who_html, flags=re.S))
    assert sorted(direct) == sorted([str(CKBR.RussianBackedRegimeDivisions), str(CKBR.SyrianRepublicanGuard)])
    status = text_of(web, "/id/event-infighting", 'id="event-status"', "</dd>")
    assert status == "ongoing"


def test_event_pages_say_attacked_planned_and_forced(web: FlaskClient) -> None:
    strike = text_of(web, "/id/event-russian-strike", 'id="event-who"', "</p>")
    assert re.search(r"Russian military .*attacked Iranian militias", strike), strike
    planned = text_of(web, "/id/event-future-battles", 'id="event-who"', "</p>")
    assert "prepare to fight" in planned and "not fought" in planned and "fought " not in planned
    forced = text_of(web, "/id/event-hezbollah-vacate", 'id="event-who"', "</p>")
    assert forced.startswith("Russia forced Hezbollah") and "not a battle" in forced, forced


def test_ucdp_event_page_shows_deaths_and_dates_from_the_row(web: FlaskClient) -> None:
    deaths = text_of(web, "/id/ucdp-ged-990001", 'id="event-deaths"', "</dd>")
    assert "low 6 · best 7 · high 9" in deaths and "side A 2, side B 5" in deaths, deaths
    when = text_of(web, "/id/ucdp-ged-990002", 'id="event-when"', "</dd>")
    assert when.startswith("between 2018-07-09 and 2018-07-10"), when
    who = text_of(web, "/id/ucdp-ged-990002", 'id="event-who"', "</p>")
    assert re.search(r"Syrian insurgents .*attacked Civilians", who), who  # one-sided violence
    where = text_of(web, "/id/ucdp-ged-990002", 'id="event-where"', "</dd>")
    assert "Jisr al-Shughur town" in where and "Idlib province" in where


def test_idlib_page_lists_the_events_in_idlib(web: FlaskClient, loaded: KnowledgeBase) -> None:
    url = "/id/" + IDLIB[len(str(CKBR)):]
    html = web.get(url, headers=HTML).get_data(as_text=True)
    start = html.index('id="place-events"')
    listed = re.findall(r'<li>(?:<span class="time">[^<]*</span> )?<a class="iri " href="[^"]*" '
                        r'title="([^"]+)"', html[start:html.index("</ol>", start)])
    expected = {str(r["e"]) for r in loaded.query(f"""SELECT ?e WHERE {{
      ?e <{CKB.place}>/<{CKB.partOfPlace}>* <{IDLIB}> }}""").rows}
    assert len(expected) == 3 and set(listed) == expected
    count = text_of(web, url, 'id="place-count"', "</p>")
    assert count.startswith("3 events in Idlib province"), count
    assert 'id="place-histogram"' in html


def test_bundled_idlib_page_says_who_controls_it(web: FlaskClient) -> None:
    html = text_of(web, "/id/IdlibProvince", 'id="place-facts"', "</section>")
    assert "unnamed armed group holding the Idlib stronghold controls last rebel stronghold" in html


@pytest.mark.parametrize(("who", "quote"), [
    ("BasNews", "the Russian military recently “blew up” targets held by Iranian militias"),
    ("AhmedRahal", "Russia is confronting Iran in Syria for two reasons."),
])
def test_source_pages_lead_with_what_was_said(web: FlaskClient, who: str, quote: str) -> None:
    html = web.get(f"/id/{who}", headers=HTML).get_data(as_text=True)
    said = html.index('id="said"')
    assert said < html.index('id="claims"')  # the words first, the claims about the source after
    section = unescape(html[said:html.index("</section>", said)])
    assert f'<blockquote class="quote">{quote}' in section


def test_source_page_does_not_read_as_said_nothing(web: FlaskClient) -> None:
    url = "/source?iri=https%3A%2F%2Fw3id.org%2Fconflict-kb%2Fid%2FBasNews"
    text = text_of(web, url, 'class="lede"', "</p>")
    assert "0 attributed" not in text
    assert "rest on what Bas News said" in text, text


def test_document_and_dataset_pages_say_what_they_contributed(web: FlaskClient,
                                                              loaded: KnowledgeBase) -> None:
    counts = text_of(web, "/id/doc-russia-iran-infighting-syria", 'id="contribution-counts"', "</p>")
    quoted = loaded.query(f"""SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE {{
      ?c <{CKB.hasQuote}>/<{CKB.inDocument}> <{CKBR['doc-russia-iran-infighting-syria']}> }}""").rows
    assert counts.startswith(f"{int(quoted[0]['n'])} claims"), counts
    dataset = text_of(web, "/id/import-ucdp-ged-ucdp-ged-syria-synthetic", 'id="contribution-counts"', "</p>")
    assert dataset.startswith("4 rows imported · 4 claims") and "4 events" in dataset, dataset
