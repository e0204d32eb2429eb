"""The annotation tests' common ground (tests/test_annotate_web.py, tests/browser/test_annotate_in_reader.py):
the Vantor basin sheet's document and quote, a KB holding it, and the forged requests every
annotation route must refuse."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kb import KnowledgeBase
from kb.sheets.importer import import_sheet

SHEETS = Path(__file__).resolve().parent / "fixtures" / "sheets"
TEXT = (SHEETS / "vantor-basin.txt").read_text(encoding="utf-8")
CKBR = "https://w3id.org/conflict-kb/id/"
DOC = CKBR + "doc-vantor-basin"
QUOTE = "the Kessani Home Guard relies on volunteers from across the basin"


def forged(token: str) -> list[tuple[dict[str, str], str]]:
    """Headers a write must be refused (403) with, each with what the answer says: no token, a
    wrong one, the right one sent from another site."""
    auth = {"Authorization": f"Bearer {token}"}
    return [({}, "Authorization: Bearer"), ({"Authorization": "Bearer wrong"}, "not valid"),
            ({**auth, "Origin": "http://evil.example"}, "another site"),  # cross-site, even with the token
            ({**auth, "Sec-Fetch-Site": "cross-site"}, "another site")]


@pytest.fixture(scope="module")
def annotated_kb() -> Iterator[KnowledgeBase]:
    """The bundle in memory with the Vantor basin sheet imported: the reader's annotated document."""
    with KnowledgeBase.open(memory=True) as k:
        k.load()
        import_sheet(k, SHEETS / "vantor-basin.yaml")
        yield k
