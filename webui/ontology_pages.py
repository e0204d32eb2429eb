"""The ontology overview: every class and property with definition, place, domain, range, alignments."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from flask import Blueprint, render_template

from kb.namespaces import CKB, GRAPH_ONTOLOGY
from kb.views.browse import labels
from webui import get_kb

bp = Blueprint("ontology", __name__)

OWL = "http://www.w3.org/2002/07/owl#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
KINDS = {OWL + "Class": "class", RDFS + "Class": "class", OWL + "ObjectProperty": "object property",
         OWL + "DatatypeProperty": "datatype property", OWL + "AnnotationProperty": "annotation property",
         RDF + "Property": "property", OWL + "NamedIndividual": "individual"}
PARENT = {"class": RDFS + "subClassOf", "property": RDFS + "subPropertyOf"}
# Statements that tie a term to another vocabulary (shown as alignments when the target is foreign).
ALIGN = (OWL + "equivalentClass", OWL + "equivalentProperty", RDFS + "subClassOf",
         RDFS + "subPropertyOf", SKOS + "exactMatch", SKOS + "closeMatch", SKOS + "broadMatch",
         SKOS + "narrowMatch", SKOS + "relatedMatch", RDFS + "seeAlso", OWL + "sameAs")
FACETS = (RDFS + "comment", SKOS + "definition", RDFS + "domain", RDFS + "range", OWL + "inverseOf",
          SKOS + "example", SKOS + "scopeNote", SKOS + "editorialNote", RDF + "type")


@dataclass
class Term:
    """One ontology term as the overview shows it."""

    iri: str
    label: str = ""
    kinds: set[str] = field(default_factory=set)
    definition: str = ""
    notes: list[str] = field(default_factory=list)
    parents: list[str] = field(default_factory=list)
    children: list[str] = field(default_factory=list)
    domain: list[str] = field(default_factory=list)
    range: list[str] = field(default_factory=list)
    inverse: list[str] = field(default_factory=list)
    alignments: list[tuple[str, str]] = field(default_factory=list)  # (property, foreign IRI)


def _collect() -> dict[str, Term]:
    """Read the ontology graph (asserted only) into Terms of the ckb: namespace."""
    props = " ".join(f"<{p}>" for p in {*ALIGN, *FACETS})
    rows = get_kb().query(f"""
    SELECT ?t ?p ?o WHERE {{
      GRAPH <{GRAPH_ONTOLOGY}> {{ ?t ?p ?o }}
      VALUES ?p {{ {props} }}
      FILTER(isIRI(?t) && STRSTARTS(STR(?t), "{CKB}"))
    }}""", inferred=False).rows
    terms: dict[str, Term] = {}
    for row in rows:
        iri, prop, obj = str(row["t"]), str(row["p"]), row["o"]
        term = terms.setdefault(iri, Term(iri))
        value = str(obj)
        if prop == RDF + "type":
            if value in KINDS:
                term.kinds.add(KINDS[value])
        elif prop in (SKOS + "definition", RDFS + "comment"):
            if not term.definition or prop == SKOS + "definition":
                if term.definition:
                    term.notes.append(term.definition)
                term.definition = value
            else:
                term.notes.append(value)
        elif prop in (SKOS + "example", SKOS + "scopeNote", SKOS + "editorialNote"):
            term.notes.append(value)
        elif prop == RDFS + "domain" and value.startswith("http"):
            term.domain.append(value)
        elif prop == RDFS + "range" and value.startswith("http"):
            term.range.append(value)
        elif prop == OWL + "inverseOf":
            term.inverse.append(value)
        if prop in ALIGN and value.startswith("http"):
            if value.startswith(str(CKB)):
                if prop in PARENT.values():
                    term.parents.append(value)
            else:
                term.alignments.append((prop, value))
    terms = {i: t for i, t in terms.items() if t.kinds}
    for term in terms.values():
        for parent in term.parents:
            if parent in terms:
                terms[parent].children.append(term.iri)
    return terms


@bp.get("/ontology")
def index() -> str:
    """All terms grouped by kind, each with an anchor (#n-...) other pages link to."""
    terms = _collect()
    names = labels(get_kb(), {i for t in terms.values()
                              for i in (t.iri, *t.parents, *t.domain, *t.range, *t.inverse)})
    for term in terms.values():
        term.label = names.get(term.iri, term.iri)
        for attr in ("parents", "children", "domain", "range", "inverse"):
            setattr(term, attr, sorted(set(getattr(term, attr)), key=lambda i: names.get(i, i)))
        term.alignments.sort()
    groups: dict[str, list[Term]] = defaultdict(list)
    for term in terms.values():
        kind = "class" if "class" in term.kinds else (
            "individual" if term.kinds == {"individual"} else "property")
        groups[kind].append(term)
    for members in groups.values():
        members.sort(key=lambda t: t.label.lower())
    roots = [t for t in groups.get("class", []) if not any(p in terms for p in t.parents)]
    return render_template("ontology.html", groups=groups, names=names, terms=terms, roots=roots)
