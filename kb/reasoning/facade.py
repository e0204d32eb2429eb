"""Validation and reasoning on the KnowledgeBase (a mixin: kb.api.KnowledgeBase uses it)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from kb.namespaces import GRAPH_INFERRED
from kb.store import loader

if TYPE_CHECKING:
    from kb.reasoning.validate import ValidationReport


@dataclass
class ReasonReport:
    """What a reasoning run found and wrote."""

    consistent: bool
    reasoner: str
    inferred: int
    seconds: float
    explanation: str = ""
    saved_to: Path | None = None


class Reasoning:
    """``validate`` and ``reason`` over the KB's asserted graphs (needs graphs(), rdflib_graph(),
    shapes and backend from the KnowledgeBase)."""

    def validate(self) -> ValidationReport:
        """Validate everything but the inferences against the SHACL shapes."""
        from kb.reasoning.validate import validate_graphs  # pySHACL loads in ~0.6 s: only when validating

        asserted = [g for g in self.graphs() if g != GRAPH_INFERRED]
        return validate_graphs(self.rdflib_graph(asserted), self.shapes.graph())

    def reason(self, reasoner: str = "hermit", save: bool = False) -> ReasonReport:
        """Run the OWL reasoner and replace the inferred graph with what it entails."""
        from kb.reasoning import reason as reasoning

        asserted = [g for g in self.graphs() if g != GRAPH_INFERRED]
        outcome = reasoning.reason(self.rdflib_graph(asserted), reasoner=reasoner)
        report = ReasonReport(
            outcome.consistent, outcome.reasoner, len(outcome.inferred), outcome.seconds, outcome.explanation
        )
        if not outcome.consistent:
            return report
        data = outcome.inferred.serialize(format="nt", encoding="utf-8")
        self.backend.replace_graphs([], extra=[(data, GRAPH_INFERRED)])
        if save:
            report.saved_to = loader.project_root() / "data" / "inferred" / "inferred.ttl"
            reasoning.write_inferred(outcome.inferred, report.saved_to, reasoner=outcome.reasoner)
        return report
