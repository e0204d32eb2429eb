"""SHACL validation with pySHACL."""

from __future__ import annotations

from dataclasses import dataclass, field

from pyshacl import validate as shacl_validate
from rdflib import Graph, Namespace
from rdflib.term import Node

SH = Namespace("http://www.w3.org/ns/shacl#")


@dataclass
class Violation:
    """One failed constraint: the node, the path, the rule and its message."""

    focus: str
    path: str | None
    constraint: str
    shape: str
    severity: str
    message: str
    value: str | None = None

    def __str__(self) -> str:
        path = f" {self.path}" if self.path else ""
        return f"{self.severity}: {self.focus}{path}: {self.message} [{self.constraint}]"


@dataclass
class ValidationReport:
    """Whether the data conforms, and every violation if not."""

    conforms: bool
    results: list[Violation] = field(default_factory=list)
    text: str = ""


def _name(node: Node | None) -> str | None:
    if node is None:
        return None
    return node.n3() if not str(node).startswith("http") else str(node)


def validate_graphs(data: Graph, shapes: Graph) -> ValidationReport:
    """Validate ``data`` (with its ontology merged in) against ``shapes``."""
    conforms, report, text = shacl_validate(data, shacl_graph=shapes, inference="none")
    results = []
    for r in report.subjects(SH.resultSeverity, None):
        results.append(
            Violation(
                focus=_name(report.value(r, SH.focusNode)) or "",
                path=_name(report.value(r, SH.resultPath)),
                constraint=_name(report.value(r, SH.sourceConstraintComponent)) or "",
                shape=_name(report.value(r, SH.sourceShape)) or "",
                severity=str(report.value(r, SH.resultSeverity)).rsplit("#", 1)[-1],
                message=str(report.value(r, SH.resultMessage) or ""),
                value=_name(report.value(r, SH.value)),
            )
        )
    results.sort(key=lambda v: (v.focus, v.path or "", v.constraint))
    return ValidationReport(bool(conforms), results, str(text))
