"""The query editor completes by context from this server's /api/complete: classes after `a`,
the properties of a class the query gives its subject, entities by the words of their labels."""

from __future__ import annotations

HINTS = ".CodeMirror-hints li"


def _editor(page, text: str) -> None:
    """The editor holding ``text`` with the cursor at its end, focused."""
    page.goto(page.base + "/query")
    page.evaluate("(t) => { window.ckbYasqe.setValue(t); }", text)
    page.click(".CodeMirror")
    page.keyboard.press("Control+End")


def _hints(page) -> list[str]:
    page.wait_for_selector(HINTS)
    return page.locator(HINTS).all_inner_texts()


def _pick(page, starting: str) -> None:
    page.locator(HINTS, has_text=starting).first.click()


def test_typing_a_class_after_a_offers_it(page) -> None:
    _editor(page, "SELECT * WHERE {\n  ?x a ")
    page.keyboard.type("ckb:Cl", delay=30)  # shown as it is typed: no Ctrl+Space needed
    hints = _hints(page)
    assert any(h.startswith("ckb:Clash ") for h in hints), hints
    assert all(h.startswith("ckb:Cl") for h in hints), hints  # only what the text starts
    _pick(page, "ckb:Clash ")
    assert page.evaluate("window.ckbYasqe.getValue()").endswith("?x a ckb:Clash")


def test_properties_follow_the_subjects_class(page) -> None:
    def first_properties(cls: str) -> list[str]:
        _editor(page, f"SELECT * WHERE {{\n  ?x a {cls} .\n  ?y a ckb:Claim .\n  ?x ")
        page.keyboard.type("ckb:", delay=30)
        page.keyboard.press("Control+Space")
        hints = _hints(page)
        page.keyboard.press("Escape")
        return hints

    clash = first_properties("ckb:Clash")
    # the properties the data uses with clashes come first, and say so
    assert "used" in clash[0] and "with ckb:Clash" in clash[0], clash[:5]
    assert any(h.startswith("ckb:participant ") for h in clash[:8]), clash[:8]
    claim = first_properties("ckb:Claim")
    assert "with ckb:Claim" in claim[0], claim[:5]
    assert claim[:5] != clash[:5]
    assert not any(h.startswith("ckb:participant ") and "with ckb:Claim" in h for h in claim), claim
    # the same subject continued after `;`, its class named with the query's own prefix
    _editor(page, "PREFIX o: <https://w3id.org/conflict-kb/ontology#>\n"
                  "SELECT * WHERE {\n  ?x a o:Clash ;\n    ")
    page.keyboard.type("o:", delay=30)
    page.keyboard.press("Control+Space")
    hints = _hints(page)
    assert hints[0].startswith("o:") and "with ckb:Clash" in hints[0], hints[:5]


def test_an_entity_by_the_words_of_its_label(page) -> None:
    _editor(page, "SELECT * WHERE {\n  ?x ckb:backer ")
    page.keyboard.type("Hezb", delay=40)
    hints = _hints(page)
    assert any(h.startswith("ckbr:Hezbollah ") and "Hezbollah" in h[len("ckbr:Hezbollah"):]
               for h in hints), hints
    _pick(page, "ckbr:Hezbollah ")
    assert page.evaluate("window.ckbYasqe.getValue()").endswith("?x ckb:backer ckbr:Hezbollah")
    # a later word of a label finds it too
    _editor(page, "SELECT * WHERE {\n  ?x ckb:participant ")
    page.keyboard.type("Republican", delay=30)
    assert any("Syrian Republican Guard" in h for h in _hints(page))


def test_keywords_and_predicates_are_not_looked_up_as_labels(page) -> None:
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url) if "/api/complete" in r.url else None)
    _editor(page, "SELECT * WHERE {\n  ?x ckb:backer ?y .\n  ")
    page.keyboard.type("FILTER", delay=30)
    page.wait_for_timeout(400)
    assert not [u for u in requests if "kind=entity" in u], requests
