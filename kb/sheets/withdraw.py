"""Withdrawn claims: the sheet keeps them as a record; the graph keeps only who withdrew each and when."""

from __future__ import annotations

from typing import Any

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import PROV, RDF, RDFS, XSD

from kb.imports.common import slug
from kb.namespaces import CKBR


def chain_keys(stmts: dict[str, Any], via: str | None) -> list[str]:
    """The keys of a claim's chain of statements, from ``via`` up to its first statement."""
    out: list[str] = []
    while via is not None and via in stmts and via not in out:
        out.append(via)
        via = stmts[via].get("quoting") or stmts[via].get("from")
    return out


def gone_statements(stmts: dict[str, Any], claims: list[dict[str, Any]]) -> set[str]:
    """Statements that only withdrawn claims came through: gone with them (the sheet keeps them)."""
    def keys(cl: dict[str, Any]) -> list[str]:
        return chain_keys(stmts, cl.get("via") or cl.get("quoting"))
    live = {k for cl in claims if "withdrawn" not in cl for k in keys(cl)}
    return {k for cl in claims if "withdrawn" in cl for k in keys(cl)} - live


def withdrawal(g: Graph, claim: URIRef, cl: dict[str, Any], doc_id: str) -> None:
    """A withdrawn claim: no type, quote or facts, only who withdrew it and when (PROV)."""
    w = cl["withdrawn"]
    act, agent = CKBR[f"withdrawal-{doc_id}-{cl['id']}"], CKBR["annotator-" + slug(w["by"])]
    at = Literal(w["at"], datatype=XSD.dateTime)
    g.add((claim, RDF.type, PROV.Entity))
    g.add((claim, RDFS.label, Literal("withdrawn claim: " + " ".join(cl["quote"].split())[:80], lang="en")))
    g.add((claim, PROV.invalidatedAtTime, at))
    g.add((claim, PROV.wasInvalidatedBy, act))
    g.add((act, RDF.type, PROV.Activity))
    g.add((act, RDFS.label, Literal(f"withdrawal of the claim {cl['id']} by {w['by']}", lang="en")))
    g.add((act, PROV.endedAtTime, at))
    g.add((act, PROV.wasAssociatedWith, agent))
    if "reason" in w:
        g.add((act, RDFS.comment, Literal(w["reason"], lang="en")))
    g.add((agent, RDF.type, PROV.Agent))
    g.add((agent, RDFS.label, Literal(w["by"])))
