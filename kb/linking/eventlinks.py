"""Event matching against the store: records read from every source, links kept in a graph of their own.

The links are statements the KB owns, in GRAPH_EVENT_MATCHES: for each pair, ``a ckb:sameEventAs b``
and a ckb:EventMatch node with the method, score, reasons and time. The records are never merged.
Matching is a function of the store: running it again on the same data writes nothing (a link that
stays keeps the time it was first made), and a re-import of an unchanged file changes no record.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from kb.imports.common import XSD, iri, ns, res, text, triple
from kb.namespaces import CKB, GRAPH_BASE, GRAPH_INFERRED

from .events import Link, MatchParams, Record, match

GRAPH_EVENT_MATCHES = GRAPH_BASE + "matches/events"
PROV = "http://www.w3.org/ns/prov#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
POS = "http://www.w3.org/2003/01/geo/wgs84_pos#"
MATCHER = "conflict-kb-event-matcher"
PRECISE = {str(CKB.ExactLocation), str(CKB.NearLocation)}
LIMIT = 10_000_000


@dataclass
class MatchReport:
    """What a matching run found and wrote."""

    graph: str
    candidates: int = 0
    records: int = 0
    links: list[Link] = field(default_factory=list)
    added: int = 0
    removed: int = 0
    kept: int = 0


def _rows(kb: Any, sparql: str) -> list[dict[str, Any]]:
    return kb.query(sparql, inferred=False, limit=LIMIT, timeout=600).rows


def read_records(kb: Any) -> list[Record]:
    """Every dated, located event of every source, with its aligned types, actors and fatalities."""
    skip = f"<{GRAPH_INFERRED}>, <{GRAPH_EVENT_MATCHES}>"
    base: dict[str, dict[str, Any]] = {}
    for r in _rows(kb, f"""SELECT ?ev ?g ?t ?start ?end ?acled ?ucdp ?fat ?lat ?lon ?prec ?country WHERE {{
        GRAPH ?g {{ ?ev a ?t }} FILTER (?g NOT IN ({skip}))
        ?t <{RDFS}subClassOf>* <{CKB.Event}> .
        ?ev <{CKB.earliestDate}> ?start ; <{CKB.latestDate}> ?end ; <{CKB.place}> ?pl .
        ?pl <{POS}lat> ?lat ; <{POS}long> ?lon .
        OPTIONAL {{ ?ev <{CKB.acledId}> ?acled }} OPTIONAL {{ ?ev <{CKB.ucdpId}> ?ucdp }}
        OPTIONAL {{ ?ev <{CKB.fatalitiesBest}> ?fat }} OPTIONAL {{ ?ev <{CKB.locationPrecision}> ?prec }}
        OPTIONAL {{ ?ev <{CKB.codedCountry}> ?country }}
      }}"""):
        ev = str(r["ev"])
        rec = base.setdefault(ev, {"types": set(), "row": r})
        rec["types"].add(str(r["t"]))
    aligned: dict[str, set[str]] = defaultdict(set)
    for r in _rows(kb, f"""SELECT DISTINCT ?ev ?c WHERE {{ ?ev <{CKB.codedAs}> ?code .
        VALUES ?m {{ <{SKOS}exactMatch> <{SKOS}closeMatch> <{SKOS}broadMatch> <{SKOS}narrowMatch>
                    <{SKOS}relatedMatch> }}
        ?c ?m ?code . FILTER (STRSTARTS(STR(?c), "{CKB}")) }}"""):
        aligned[str(r["ev"])].add(str(r["c"]))
    actors: dict[str, set[str]] = defaultdict(set)
    names: dict[str, set[str]] = defaultdict(set)
    for r in _rows(kb, f"""SELECT ?ev ?actor ?name WHERE {{ ?ev <{CKB.hasParticipation}> ?p .
        ?p <{CKB.participationActor}> ?actor . OPTIONAL {{ ?p <{CKB.asDescribed}> ?name }} }}"""):
        actors[str(r["ev"])].add(str(r["actor"]))
        if r.get("name") is not None:
            names[str(r["ev"])].add(str(r["name"]))
    out = []
    for ev, rec in base.items():
        r = rec["row"]
        source = ("ACLED" if r.get("acled") is not None else
                  "UCDP" if r.get("ucdp") is not None else str(r["g"]))
        try:
            lat, lon = float(str(r["lat"])), float(str(r["lon"]))
        except ValueError:
            continue
        fat = r.get("fat")
        out.append(Record(ev, source, _day(r["start"]), _day(r["end"]), lat, lon,
                          coarse=r.get("prec") is not None and str(r["prec"]) not in PRECISE,
                          types=frozenset((rec["types"] | aligned[ev]) - {str(CKB.Event)}),
                          actors=frozenset(actors[ev]), names=tuple(sorted(names[ev])),
                          fatalities=int(str(fat)) if fat is not None else None,
                          country=str(r["country"]) if r.get("country") is not None else ""))
    return sorted(out, key=lambda x: x.iri)


def _day(term: Any) -> date:
    return date.fromisoformat(str(term)[:10])


def class_tree(kb: Any) -> tuple[dict[str, frozenset[str]], dict[str, str]]:
    """Each ckb class's ancestors-or-self below ckb:Event, and the classes' labels."""
    parents: dict[str, set[str]] = defaultdict(set)
    for r in _rows(kb, f"""SELECT ?c ?s WHERE {{ ?c <{RDFS}subClassOf> ?s .
        FILTER (STRSTARTS(STR(?c), "{CKB}") && STRSTARTS(STR(?s), "{CKB}")) }}"""):
        parents[str(r["c"])].add(str(r["s"]))
    ancestors: dict[str, frozenset[str]] = {}
    for c in list(parents):
        seen, todo = {c}, [c]
        while todo:
            for p in parents.get(todo.pop(), ()):
                if p not in seen:
                    seen.add(p)
                    todo.append(p)
        ancestors[c] = frozenset(seen - {str(CKB.Event)})  # everything is an Event: no evidence
    labels = {str(r["c"]): str(r["l"]) for r in _rows(kb, f"""SELECT ?c ?l WHERE {{
        ?c a <http://www.w3.org/2002/07/owl#Class> ; <{RDFS}label> ?l .
        FILTER (STRSTARTS(STR(?c), "{CKB}")) }}""")}
    return ancestors, labels


def node_for(link: Link) -> str:
    """The match node's IRI: from the two events alone, so a re-run names it the same."""
    return res("eventmatch-" + hashlib.sha1(f"{link.a}|{link.b}".encode()).hexdigest()[:20])


def _signature(node: str, a: str, b: str, score: float, method: str, reasons: frozenset[str]) -> tuple:
    return node, a, b, round(score, 3), method, reasons


def _existing(kb: Any) -> dict[tuple, str]:
    """The links in the graph now: signature -> the time they were made."""
    if GRAPH_EVENT_MATCHES not in kb.graphs():
        return {}
    found: dict[str, dict[str, Any]] = {}
    for r in kb.query(f"""SELECT ?m ?e ?score ?method ?time ?reason WHERE {{ GRAPH <{GRAPH_EVENT_MATCHES}> {{
        ?m a <{CKB.EventMatch}> ; <{CKB.matchedEvent}> ?e ; <{CKB.matchScore}> ?score ;
           <{CKB.matchingMethod}> ?method ; <{PROV}generatedAtTime> ?time .
        OPTIONAL {{ ?m <{CKB.matchReason}> ?reason }} }} }}""", inferred=False,
                      named_graphs=[GRAPH_EVENT_MATCHES], limit=LIMIT, timeout=600).rows:
        m = found.setdefault(f"<{r['m']}>", {"events": set(), "reasons": set(), "row": r})
        m["events"].add(str(r["e"]))
        if r.get("reason") is not None:
            m["reasons"].add(str(r["reason"]))
    out = {}
    for node, m in found.items():
        a, b = sorted(m["events"]) if len(m["events"]) == 2 else (next(iter(m["events"])),) * 2
        r = m["row"]
        sig = _signature(node, a, b, float(str(r["score"])), str(r["method"]), frozenset(m["reasons"]))
        out[sig] = str(r["time"])
    return out


def link_events(kb: Any, params: MatchParams | None = None, write: bool = True) -> MatchReport:
    """Match every source's events and keep the links in GRAPH_EVENT_MATCHES (unless write is False)."""
    params = params or MatchParams()
    records = read_records(kb)
    ancestors, labels = class_tree(kb)
    links, n = match(records, params, ancestors, labels)
    report = MatchReport(GRAPH_EVENT_MATCHES, candidates=n, records=len(records), links=links)
    method = params.describe()
    old = _existing(kb)
    now = datetime.now(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")
    new = {_signature(node_for(k), k.a, k.b, k.score, method, frozenset(k.reasons)): k for k in links}
    report.kept = len(new.keys() & old.keys())
    report.added, report.removed = len(new) - report.kept, len(old) - report.kept
    if not write or new.keys() == old.keys():
        return report  # the same links: nothing to write, and every link keeps its time
    if not new:  # no link left: no graph (not one that names only the matcher)
        kb.backend.drop_graph(GRAPH_EVENT_MATCHES)
        return report
    lines = [triple(res(MATCHER), ns(RDFS + "label"), text("conflict-kb event matcher (kb.linking)")),
             triple(res(MATCHER), "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>", f"<{CKB.Software}>")]
    for sig, k in new.items():
        lines += _link_triples(sig[0], k, method, old.get(sig, now))
    kb.backend.replace_graphs([], extra=[("".join(lines).encode("utf-8"), GRAPH_EVENT_MATCHES)])
    return report


def _link_triples(node: str, k: Link, method: str, when: str) -> list[str]:
    """The link and its record: the two events, method, score, reasons, when and by what."""
    a, b = iri(k.a), iri(k.b)
    out = [triple(a, f"<{CKB.sameEventAs}>", b),
           triple(node, "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>", f"<{CKB.EventMatch}>"),
           triple(node, ns(RDFS + "label"), text(f"same event: {k.a.rsplit('/', 1)[-1]} = "
                                                f"{k.b.rsplit('/', 1)[-1]} (score {k.score:.3f})")),
           triple(node, f"<{CKB.matchedEvent}>", a), triple(node, f"<{CKB.matchedEvent}>", b),
           triple(node, f"<{CKB.matchScore}>", f'"{k.score:.3f}"^^<{XSD}decimal>'),
           triple(node, f"<{CKB.matchingMethod}>", text(method)),
           triple(node, ns(PROV + "generatedAtTime"), f'"{when}"^^<{XSD}dateTime>'),
           triple(node, ns(PROV + "wasAttributedTo"), res(MATCHER))]
    out += [triple(node, f"<{CKB.matchReason}>", text(reason)) for reason in k.reasons]
    return out


__all__ = ["GRAPH_EVENT_MATCHES", "MatchReport", "link_events", "read_records"]
