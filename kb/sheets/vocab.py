"""What a sheet may name, read from the KB's own ontology and actors: hedges, kinds, support kinds,
statuses, actor classes, and the actors' labels (to match an agent or a name in a fact)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kb.namespaces import CKB, CKBR, GRAPH_CLAIM_INDEX, GRAPH_INFERRED

RDFS = "http://www.w3.org/2000/01/rdf-schema#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
KINDS = {"report": CKB.Report, "assessment": CKB.Assessment, "forecast": CKB.Forecast,
         "characterisation": CKB.Characterisation}


@dataclass
class Vocab:
    """The KB's terms a sheet uses, each keyed by its lower-cased label (and local name)."""

    hedges: dict[str, str] = field(default_factory=dict)
    supports: dict[str, str] = field(default_factory=dict)
    statuses: dict[str, str] = field(default_factory=dict)
    actor_classes: dict[str, str] = field(default_factory=dict)
    place_classes: dict[str, str] = field(default_factory=dict)
    # lower-cased label or altLabel -> every KB actor carrying it; the same for places
    names: dict[str, set[str]] = field(default_factory=dict)
    place_names: dict[str, set[str]] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)  # IRI -> its rdfs:label
    shown: dict[str, list[str]] = field(default_factory=dict)  # vocabulary -> its labels, for messages
    # the other vocabularies of individuals (role, participant role, weapon, fatalities) and the
    # event classes, each by its name in messages
    more: dict[str, dict[str, str]] = field(default_factory=dict)

    def individuals(self, kind: str) -> dict[str, str]:
        """The lookup table of one vocabulary by its name in messages."""
        known = {"hedge": self.hedges, "support": self.supports, "status": self.statuses}
        return known[kind] if kind in known else self.more[kind]


def _terms(kb: Any, cls: str, shown: list[str]) -> dict[str, str]:
    """Each named individual of ``cls`` under its label and its local name, lower-cased; its labels
    are added to ``shown``."""
    rows = kb.query(f"SELECT ?t ?l WHERE {{ ?t a <{cls}> . OPTIONAL {{ ?t <{RDFS}label> ?l }} }}",
                    inferred=False).rows
    out: dict[str, str] = {}
    for r in rows:
        t = str(r["t"])
        out[t.rsplit("#", 1)[-1].lower()] = t
        if r.get("l") is not None:
            out[str(r["l"]).lower()] = t
            shown.append(str(r["l"]))
    shown.sort()
    return out


def load_vocab(kb: Any, skip_graph: str = "") -> Vocab:
    """Read the vocabularies and the actors' names from the KB (not from the graph being replaced)."""
    v = Vocab()
    for kind, cls in (("hedge", CKB.Hedge), ("support", CKB.SupportKind), ("status", CKB.EventStatus)):
        v.shown[kind] = []
        setattr(v, {"hedge": "hedges", "support": "supports", "status": "statuses"}[kind],
                _terms(kb, str(cls), v.shown[kind]))
    for kind, cls in (("role", CKB.AttributionRole), ("participant role", CKB.ParticipantRole),
                      ("weapon", CKB.WeaponCategory), ("fatalities", CKB.FatalityStatus)):
        v.shown[kind] = []
        v.more[kind] = _terms(kb, str(cls), v.shown[kind])
    rows = kb.query(f"SELECT ?c WHERE {{ ?c <{RDFS}subClassOf>* <{CKB.Event}> }}", inferred=False).rows
    events = sorted(str(r["c"]) for r in rows if str(r["c"]).startswith(str(CKB)))
    v.more["event type"] = {e.rsplit("#", 1)[-1].lower(): e for e in events}
    v.shown["event type"] = [e.rsplit("#", 1)[-1] for e in events]
    for top, into in ((CKB.Actor, v.actor_classes), (CKB.UnnamedAgent, v.actor_classes),
                      (CKB.Place, v.place_classes)):
        rows = kb.query(f"SELECT ?c WHERE {{ ?c <{RDFS}subClassOf>* <{top}> }}", inferred=False).rows
        for r in rows:
            c = str(r["c"])
            if c.startswith(str(CKB)):
                into[c.rsplit("#", 1)[-1].lower()] = c
    skip = ", ".join(f"<{g}>" for g in (skip_graph, GRAPH_INFERRED, GRAPH_CLAIM_INDEX) if g)
    places = set(v.place_classes.values())
    classes = " ".join(f"<{c}>" for c in sorted(set(v.actor_classes.values()) | places))
    rows = kb.query(f"""
        SELECT DISTINCT ?a ?t ?p ?l WHERE {{
          VALUES ?t {{ {classes} }}
          GRAPH ?gt {{ ?a a ?t }}
          FILTER (STRSTARTS(STR(?a), "{CKBR}") && ?gt NOT IN ({skip}))
          {{ GRAPH ?gl {{ ?a <{RDFS}label> ?l }} BIND (<{RDFS}label> AS ?p) }}
          UNION {{ GRAPH ?gl {{ ?a <{SKOS}altLabel> ?l }} BIND (<{SKOS}altLabel> AS ?p) }}
          FILTER (?gl NOT IN ({skip}))
        }}""", inferred=False, limit=1_000_000, timeout=300).rows
    for r in rows:
        a, label = str(r["a"]), str(r["l"])
        into = v.place_names if str(r["t"]) in places else v.names
        into.setdefault(label.lower(), set()).add(a)
        if str(r["p"]) == RDFS + "label":
            v.labels.setdefault(a, label)
    return v
