"""Adding to a running KB, in a real chromium: the /import form behind the token, and the README's
worked example sent by ``ckb import --server`` (its entity page is the README's screenshot)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kb import KnowledgeBase
from kb.cli.main import main
from tests.browser.conftest import serving
from tests.test_live_import_readme import _block

pytestmark = pytest.mark.browser

SHEETS = Path(__file__).resolve().parents[1] / "fixtures" / "sheets"
TOKEN = "browser-upload-token"


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """This module's server: a fresh copy of the bundle, with imports enabled (overrides conftest's)."""
    with KnowledgeBase.open(memory=True) as kb:
        kb.load()
        with serving(kb, UPDATE_TOKEN=TOKEN) as base:
            yield base


def test_the_upload_form_imports_a_sheet_and_its_text(page, page_check) -> None:
    pg = page
    pg.goto(pg.base + "/")
    pg.get_by_role("link", name="Import", exact=True).click()
    pg.wait_for_selector("form.import-form")
    page_check(pg)
    pg.set_input_files("#imp-file", str(SHEETS / "vantor-basin.yaml"))
    pg.set_input_files("#imp-text", str(SHEETS / "vantor-basin.txt"))
    pg.fill("#imp-token", TOKEN)
    pg.get_by_role("button", name="Import").click()
    done = pg.locator(".import-done")
    done.wait_for()
    assert "imported 13 claims of vantor-basin.yaml" in done.inner_text()
    page_check(pg)
    pg.goto(pg.base + "/id/actor-ostrel-brigades")
    pg.wait_for_selector("#key-facts")
    assert "artillery support since March 2029" in pg.content()


def test_the_readme_example_sent_by_ckb_import_shows_on_its_actor_page(page, page_check, shot, tmp_path,
                                                                     capsys) -> None:
    (tmp_path / "carrow-point.txt").write_text(_block("`carrow-point.txt`", "text"), encoding="utf-8")
    (tmp_path / "carrow-point.yaml").write_text(_block("`carrow-point.yaml`", "yaml"), encoding="utf-8")
    pg = page
    sheet = str(tmp_path / "carrow-point.yaml")
    status = main(["import", sheet, "--server", pg.base + "/", "--token", TOKEN])  # the CLI, in this process
    out = capsys.readouterr()
    assert status == 0, out.err
    assert "imported 3 claims of carrow-point.yaml" in out.out
    pg.goto(pg.base + "/id/actor-carrow-harbour-guard")
    facts = pg.locator("#key-facts")
    facts.wait_for()
    text = facts.inner_text()
    assert "Republic of Estmere" in text and "the lighthouse at Carrow Point" in text, text
    page_check(pg)
    shot(pg, "worked-example")
