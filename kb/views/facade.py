"""Browsing shortcuts on the KnowledgeBase (a mixin: kb.api.KnowledgeBase uses it)."""

from __future__ import annotations

from typing import Any


class Browsing:
    """describe, neighbourhood, search and resolve, each delegating to its view module."""

    def describe(self, iri: str, inferred: bool = True, incoming: bool = True) -> Any:
        """Describe an entity: label, types, outgoing and (unless told) incoming statements."""
        from kb.views import browse

        return browse.describe(self, iri, inferred=inferred, incoming=incoming)

    def neighbourhood(self, iri: str, depth: int = 1, limit: int = 200) -> dict[str, Any]:
        """Return the entity's neighbourhood as Cytoscape-ready nodes and edges."""
        from kb.views import browse

        return browse.neighbourhood(self, iri, depth=depth, limit=limit)

    def search(self, text: str, limit: int = 20) -> list[Any]:
        """Find entities by label and alias, best match first."""
        from kb.views import search

        return search.search(self, text, limit=limit)

    def resolve(self, iri_or_label: str) -> str:
        """Turn an IRI, a prefixed name or a label into an IRI."""
        from kb.views import search

        return search.resolve(self, iri_or_label)
