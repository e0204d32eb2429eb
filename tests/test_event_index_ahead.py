"""'ckb index' builds the event index ahead (issue 20: at 300,000 events a server started after
'ckb index' read the events from the store for five minutes, /events answering 503 meanwhile)."""

from __future__ import annotations

from pathlib import Path

from kb import KnowledgeBase
from kb.derived import eventbuild, eventfile
from tests.conftest import SYNTHETIC_GED
from tests.test_cli import ckb


def test_ckb_index_keeps_the_event_index_for_the_next_server(tmp_path: Path) -> None:
    store = tmp_path / "store"
    assert ckb("load", store=store).returncode == 0
    imported = ckb("import", "--format", "ucdp-ged", str(SYNTHETIC_GED), store=store)
    assert imported.returncode == 0, imported.stderr
    indexed = ckb("index", store=store)
    assert indexed.returncode == 0 and "event index:" in indexed.stdout, indexed.stderr
    with KnowledgeBase.open(store, read_only=True) as kb:
        kept = eventfile.load(kb, eventbuild.stamp(kb), kb.generation())
        read = eventbuild.read(kb)
    assert kept is not None and kept.origin == "file"
    assert read is not None and len(kept.events) == len(read.events) >= 4
    assert [e.iri for e in kept.events] == [e.iri for e in read.events]  # the store's own rows
