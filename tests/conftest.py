"""Shared fixtures: real stores, never mocks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kb import KnowledgeBase

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="session")
def kb() -> Iterator[KnowledgeBase]:
    """A memory KB loaded with the bundled ontology, shapes, data and inferences (read-only use)."""
    with KnowledgeBase.open(memory=True) as k:
        k.load()
        yield k


@pytest.fixture
def fresh_kb(tmp_path: Path) -> Iterator[KnowledgeBase]:
    """A new, empty on-disk KB per test, for tests that write."""
    with KnowledgeBase.open(tmp_path / "store") as k:
        yield k
