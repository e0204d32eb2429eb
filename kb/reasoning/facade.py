"""Validation and reasoning on the KnowledgeBase (a mixin: kb.api.KnowledgeBase uses it)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from kb.namespaces import GRAPH_DATA, GRAPH_INFERRED, GRAPH_MATCHES, GRAPH_ONTOLOGY
from kb.store import loader

if TYPE_CHECKING:
    from kb.reasoning.validate import ValidationReport

SHIPPED = Path("data") / "inferred" / "inferred.ttl"


@dataclass
class ReasonReport:
    """What a reasoning run found and wrote."""

    consistent: bool
    reasoner: str
    inferred: int
    seconds: float
    explanation: str = ""
    saved_to: Path | None = None
    note: str = ""  # why the OWL reasoner did not run (no Java), one line
    rule_triples: int = 0  # what the rules added beyond the reasoner's answer
    rule_seconds: float = 0.0


class Reasoning:
    """``validate`` and ``reason`` over the KB's asserted graphs (needs graphs(), rdflib_graph(),
    shapes and backend from the KnowledgeBase)."""

    def validate(self) -> ValidationReport:
        """Validate everything but the inferences against the SHACL shapes."""
        from kb.reasoning.validate import validate_graphs  # pySHACL loads in ~0.6 s: only when validating

        asserted = [g for g in self.graphs() if g != GRAPH_INFERRED]
        return validate_graphs(self.rdflib_graph(asserted), self.shapes.graph())

    def reason(self, reasoner: str = "hermit", save: bool = False) -> ReasonReport:
        """Reason over the ontology and articles (HermiT/Pellet), then over all data (the rules).

        The OWL reasoner sees the ontology and data graphs, where its full power is needed; the
        rules (kb.reasoning.rules, run by pyoxigraph) close everything asserted, imports
        included; the inferred graph is the union of both answers. Without Java the shipped
        inferred graph stands in for the reasoner's answer and the rules still run.
        """
        import pyoxigraph as ox

        from kb.reasoning import reason as reasoning
        from kb.reasoning import rulerun
        from kb.reasoning.datatypes import ox_definitions, ox_view

        asserted = [g for g in self.graphs() if g != GRAPH_INFERRED]
        bundle = (GRAPH_ONTOLOGY, GRAPH_DATA, GRAPH_MATCHES)  # the modelled sources and reviewed matches
        modelled = self.rdflib_graph([g for g in asserted if g in bundle])
        # the two parts are independent (the rules alone entail all the reasoner does for the
        # bundle, tests/test_rules.py), so the Java reasoner runs beside the rules: two cores
        with ThreadPoolExecutor(1) as pool:
            owl = pool.submit(reasoning.reason, modelled, reasoner=reasoner)
            ontology = list(self.backend.quads(GRAPH_ONTOLOGY)) if GRAPH_ONTOLOGY in asserted else []
            quads = (q for g in asserted for q in self.backend.quads(g))
            rules = rulerun.entail(ox_view(quads, ox_definitions(ontology)))
            try:
                outcome = owl.result()
                base = ox.parse(outcome.inferred.serialize(format="nt", encoding="utf-8"),
                                format=ox.RdfFormat.N_TRIPLES)
                report = ReasonReport(outcome.consistent, outcome.reasoner, len(outcome.inferred),
                                      outcome.seconds, outcome.explanation)
            except reasoning.ReasonerUnavailable as err:  # no Java: the shipped answer stands in
                outcome, shipped = None, loader.project_root() / SHIPPED
                base = ox.parse(path=str(shipped), format=ox.RdfFormat.TURTLE) if shipped.exists() else []
                report = ReasonReport(True, "shipped", 0, 0.0, note=str(err))
        if not report.consistent:
            return report
        if rules.clashes:
            report.consistent = False
            report.explanation = "inconsistent (rules): " + "; ".join(rules.clashes)
            return report
        known = {str(t) for t in base}
        more = sorted({str(t) for t in rules.inferred} - known)
        report.rule_triples, report.rule_seconds = len(more), rules.seconds
        report.inferred = len(known) + len(more)
        data = "".join(f"{t} .\n" for t in [*sorted(known), *more]).encode("utf-8")
        self.backend.replace_graphs([], extra=[(data, GRAPH_INFERRED)])
        what = "the shipped inferred graph" if outcome is None else "the reasoner's answer"
        rules_line = (f"rules: {len(more)} triples beyond {what} in {rules.seconds:.1f} s "
                      f"({rules.rounds} rounds)")
        report.explanation = rules_line if outcome is None else f"{outcome.explanation}; {rules_line}"
        if save and outcome is not None:  # the reasoner's answer for the bundle, never imports
            report.saved_to = loader.project_root() / SHIPPED
            reasoning.write_inferred(outcome.inferred, report.saved_to, reasoner=outcome.reasoner)
        return report
