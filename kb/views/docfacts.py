"""What a document or an imported dataset contributed: its claims, the facts and events they
state, and the actors they name.

A document contributes the claims quoted from it (ckb:hasQuote / ckb:inDocument) and those
derived from the statements reported in it (ckb:reportedIn); a dataset is the graph of one
import (its prov:Activity and ckb:ImportedFile), counted in that graph up to MAX_COUNT, with
the row count the import recorded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox

from kb.namespaces import CKB
from kb.terms import iri_ref
from kb.views.browse import labels, values_block
from kb.views.chains import UPSTREAM
from kb.views.look import PROV, Look, looking
from kb.views.lookups import RDF_TYPE

MAX_CLAIMS = 2000  # claims of one document followed to their facts
MAX_COUNT = 2000  # things counted in one dataset's graph ("at least" beyond; ~50 us a quad on disk)
SHOWN = 20  # actors and events listed


@dataclass
class Contribution:
    """Counts of what a document or dataset brought into the KB, and a sample of it."""

    kind: str  # "document" or "dataset"
    claims: int = 0
    facts: int = 0
    events: int = 0
    actors: int = 0
    rows: int | None = None  # a dataset's imported rows (its own record)
    at_least: bool = False
    event_list: list[tuple[str, str]] = field(default_factory=list)
    actor_list: list[tuple[str, str]] = field(default_factory=list)
    graph: str = ""


def contribution(kb: Any, iri: str) -> Contribution | None:
    """What the document or dataset ``iri`` contributed, or None when it is neither."""
    with looking(kb) as look:
        types = look.types(iri)
        if look.first_of(types, str(CKB.Document)):
            out, events, actors = _document(look, iri)
        elif (look.first_of(types, str(CKB.ImportedFile))
              or look.values(iri, str(CKB.rowCount), 1)):
            out, events, actors = _dataset(kb, look, iri)
            if out is None:
                return None
        else:
            return None
    names = labels(kb, [*events[:SHOWN], *actors[:SHOWN]])
    out.event_list = sorted(((e, names[e]) for e in events[:SHOWN]), key=lambda x: x[1].lower())
    out.actor_list = sorted(((a, names[a]) for a in actors[:SHOWN]), key=lambda x: x[1].lower())
    return out


def _document(look: Look, doc: str) -> tuple[Contribution, list[str], list[str]]:
    """The claims quoted from the document or derived from statements reported in it."""
    # remotely each ahead/behind is one query per chunk, in place of one per node (kb.views.look)
    quotes, cut = look.subjects(str(CKB.inDocument), doc, MAX_CLAIMS)
    look.behind([str(CKB.hasQuote)], quotes)
    claims = {c for q in quotes for c in look.subjects(str(CKB.hasQuote), q, 20)[0]}
    stmts, more = look.subjects(str(CKB.reportedIn), doc, MAX_CLAIMS)
    look.behind(UPSTREAM, stmts)
    claims |= {c for s in stmts for p in UPSTREAM for c in look.subjects(p, s, 50)[0]}
    kinds = look.subclasses(str(CKB.Claim))
    chosen = sorted(claims)[:MAX_CLAIMS]
    said = [str(p) for p in (CKB.supports, CKB.about, CKB.mentions)]
    look.ahead(chosen, [RDF_TYPE, *said])
    claims = {c for c in chosen if kinds & set(look.types(c))}
    look.behind([str(CKB.statedBy)], claims)
    facts = {f for c in claims for f in look.subjects(str(CKB.statedBy), c, 200)[0]}
    supported = {x for c in claims for p in said for x in look.iris(c, p, 50)}
    look.ahead(supported, [RDF_TYPE, str(CKB.participant)])
    events = sorted(x for x in supported if look.is_a(x, str(CKB.Event)))
    named = {a for e in events for a in look.iris(e, str(CKB.participant), 50)}
    named |= {x for x in supported if look.is_a(x, str(CKB.Actor))}
    out = Contribution("document", len(claims), len(facts), len(events), len(named),
                       at_least=cut or more or len(claims) >= MAX_CLAIMS)
    return out, events, sorted(named)


def _dataset(kb: Any, look: Look, iri: str) -> tuple[Contribution | None, list[str], list[str]]:
    """Counts in the import graph holding ``iri`` (the import's activity or its file)."""
    graph = _graph_of(kb, look, iri)
    if not graph:
        return None, [], []
    runs = [iri] if look.values(iri, str(CKB.rowCount), 1) else look.subjects(PROV + "used", iri, 5)[0]
    rows = next((int(v) for r in runs for v in look.values(r, str(CKB.rowCount), 1) if v.isdigit()), None)
    claims, c_cut = _typed(kb, look, graph, look.subclasses(str(CKB.Claim)), MAX_COUNT)
    events, e_cut = _typed(kb, look, graph, look.subclasses(str(CKB.Event)), MAX_COUNT)
    actors, a_cut = _typed(kb, look, graph, look.subclasses(str(CKB.Actor)), MAX_COUNT)
    out = Contribution("dataset", len(claims), 0, len(events), len(actors), rows,
                       c_cut or e_cut or a_cut, graph=graph)
    return out, events, actors


def _graph_of(kb: Any, look: Look, iri: str) -> str:
    """The named graph holding the thing's statements (an import's own record is in its graph)."""
    if look.r is not None:
        quads = look.r.quads(iri, None, None, union=False, limit=1)[0]
        return quads[0].graph_name.value if quads else ""
    rows = kb.query(f"SELECT ?g WHERE {{ GRAPH ?g {{ {iri_ref(iri)} ?p ?o }} }}", limit=1).rows
    return str(rows[0]["g"]) if rows else ""


def _typed(kb: Any, look: Look, graph: str, classes: frozenset[str], cap: int) -> tuple[list[str], bool]:
    """Things typed with one of ``classes`` in ``graph``, at most ``cap``; and whether cut."""
    found: dict[str, None] = {}
    if look.r is not None:
        g, typ = ox.NamedNode(graph), ox.NamedNode(RDF_TYPE)
        for cls in sorted(classes):
            for q in look.r.store.quads_for_pattern(None, typ, ox.NamedNode(cls), g):
                if isinstance(q.subject, ox.NamedNode):
                    found[q.subject.value] = None
                    if len(found) >= cap:
                        return list(found), True
        return list(found), False
    result = kb.query(f"""SELECT DISTINCT ?s WHERE {{ VALUES ?t {{ {values_block(sorted(classes))} }}
      GRAPH {iri_ref(graph)} {{ ?s a ?t }} FILTER(isIRI(?s)) }}""", limit=cap, inferred=False)
    return [str(r["s"]) for r in result.rows], bool(result.truncated)


__all__ = ["Contribution", "contribution"]
