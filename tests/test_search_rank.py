"""Search ranks actors, then events, then claims, then the rest, then ontology terms."""

from __future__ import annotations

from kb import KnowledgeBase
from kb.namespaces import CKB
from kb.views.search import _category


def test_search_ranks_by_kind_of_entity(kb: KnowledgeBase) -> None:
    for text in ("rep", "hez", "ahram", "russia"):
        hits = kb.search(text, limit=50)
        assert hits, text
        ranks = [_category(h.iri, [t.iri for t in h.types]) for h in hits]
        assert ranks == sorted(ranks), (text, [(h.label, r) for h, r in zip(hits, ranks, strict=True)])
    first = kb.search("rep", limit=5)[0]
    assert str(CKB.Actor) in {t.iri for t in first.types}  # the Republican Guard, not a class
