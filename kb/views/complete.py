"""Completions for the query editor: prefixes, classes, properties for a class, entities by label.

The editor tells which context it is in (after ``a``: a class; in a predicate position after a
subject whose class the query states: that class's properties; a bare word: an entity). The
answers come from the ontology (a few hundred terms, read by fixed queries) and from
kb.derived.labels (every label, and the properties each class's instances carry in the data),
both kept per store generation. Nothing the user types ever becomes query text.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from kb.derived import labels
from kb.derived.labels import LabelIndex, label_index, normalise, usage_if_counted
from kb.derived.memo import memo
from kb.errors import KBError
from kb.namespaces import CKB, PREFIXES
from kb.terms import IRI_PATTERN, check_iri
from kb.views.lookups import RDF_TYPE, reader

KINDS = ("prefix", "class", "property", "entity")
MAX_TEXT = 200  # characters of typed text: a label or an IRI prefix, never a query
MAX_LIMIT = 50
MAX_CLASSES = 8  # classes of one subject the editor may name
_PNAME = re.compile(r"([A-Za-z][\w.-]*)?:([^\s<>\"{}|\\^`]*)")
_LOCAL = re.compile(r"[A-Za-z_][\w.-]*")  # a local name safe to write after ``prefix:``

_TERMS = """PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX owl: <http://www.w3.org/2002/07/owl#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?t ?kind (SAMPLE(?l) AS ?label) WHERE {
  VALUES (?type ?kind) { (owl:Class "class") (rdfs:Class "class") (owl:ObjectProperty "property")
    (owl:DatatypeProperty "property") (owl:AnnotationProperty "property") (rdf:Property "property") }
  ?t a ?type . FILTER(isIRI(?t))
  OPTIONAL { ?t rdfs:label ?l FILTER(LANGMATCHES(LANG(?l), "en") || LANG(?l) = "") }
} GROUP BY ?t ?kind"""
_DOMAINS = """PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?p ?d WHERE { ?p rdfs:domain ?d FILTER(isIRI(?p) && isIRI(?d)) }"""
_SUPERS = """PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?c ?s WHERE { ?c rdfs:subClassOf ?s FILTER(isIRI(?c) && isIRI(?s)) }"""


@dataclass(frozen=True)
class Completion:
    """One suggestion: what to insert, what it is, and why it is offered."""

    text: str  # what the editor inserts: a prefixed name (KB prefixes), <iri>, or a PREFIX line
    iri: str
    label: str
    detail: str = ""  # e.g. "1,204 instances", "used 3,010 times with Clash", "Actor"
    match: str = ""  # entities: "exact", "prefix" or "word"; properties: "class" or "other"


@dataclass
class Ontology:
    """The ontology's classes and properties with labels, domains and superclasses."""

    classes: dict[str, str]
    properties: dict[str, str]
    domains: dict[str, set[str]]  # property -> its domains
    supers: dict[str, set[str]]  # class -> its direct superclasses

    def above(self, cls: str) -> set[str]:
        """``cls`` and every class above it."""
        found, todo = {cls}, [cls]
        while todo:
            for sup in self.supers.get(todo.pop(), ()):
                if sup not in found:
                    found.add(sup)
                    todo.append(sup)
        return found


def ontology(kb: Any) -> Ontology:
    """The ontology's terms, read once per store generation (every call on a remote engine)."""
    held = memo(kb, "completion-ontology")
    if held is not None and "ontology" in held:
        return held["ontology"]
    onto = Ontology({}, {}, {}, {})
    for row in kb.query(_TERMS, inferred=False, limit=100_000).rows:
        iri, label = str(row["t"]), str(row.get("label") or "")
        (onto.classes if str(row["kind"]) == "class" else onto.properties).setdefault(iri, label)
    for row in kb.query(_DOMAINS, inferred=False, limit=100_000).rows:
        onto.domains.setdefault(str(row["p"]), set()).add(str(row["d"]))
    for row in kb.query(_SUPERS, inferred=False, limit=100_000).rows:
        onto.supers.setdefault(str(row["c"]), set()).add(str(row["s"]))
    if held is not None:
        held["ontology"] = onto
    return onto


def shorten(iri: str) -> str:
    """``iri`` as a prefixed name with the KB's prefixes where it can be one, else ``<iri>``."""
    for prefix, ns in PREFIXES.items():
        if iri.startswith(ns) and _LOCAL.fullmatch(iri[len(ns):]):
            return f"{prefix}:{iri[len(ns):]}"
    return f"<{iri}>"


def _local(iri: str) -> str:
    return re.split(r"[#/]", iri)[-1]


def _matcher(text: str) -> Any:
    """A test of an IRI (and its label) against typed text: an IRI or prefixed-name prefix,
    or a word that starts the local name or a word of the label; case-insensitive."""
    raw = text.strip().lstrip("<").rstrip(">")
    pname = _PNAME.fullmatch(raw)
    if pname and (pname.group(1) or "") in PREFIXES and "//" not in raw:
        raw = PREFIXES[pname.group(1) or ""] + pname.group(2)
    elif pname and "//" not in raw and not raw.lower().startswith("urn:"):
        return lambda iri, label: False  # a prefix the KB does not know: nothing of its own
    needle = raw.casefold()
    if not needle:
        return lambda iri, label: True
    if IRI_PATTERN.fullmatch(raw):
        return lambda iri, label: iri.casefold().startswith(needle)
    word = normalise(raw)
    return lambda iri, label: (_local(iri).casefold().startswith(word) or any(
        w.startswith(word) for w in normalise(label).split()) or normalise(label).startswith(word))


def _terms(kb: Any, kind: str, text: str, classes: Sequence[str], limit: int) -> list[Completion]:
    onto, usage = ontology(kb), usage_if_counted(kb)
    test = _matcher(text)
    if kind == "class":
        counts = usage.instances if usage else Counter()
        found = [c for c, label in onto.classes.items() if test(c, label)]
        found.sort(key=lambda c: (-counts.get(c, 0), shorten(c)))
        return [Completion(shorten(c), c, onto.classes[c] or _local(c),
                           f"{counts[c]:,} instances" if c in counts else "", "class")
                for c in found[:limit]]
    related: Counter[str] = Counter()
    reasons: dict[str, str] = {}
    for cls in classes:
        above = onto.above(cls)
        for prop, doms in onto.domains.items():
            if doms & above and prop not in reasons:
                related[prop] += 0
                reasons[prop] = f"domain {shorten(next(iter(sorted(doms & above))))}"
        for prop, n in (usage.usage.get(cls, Counter()) if usage else Counter()).items():
            related[prop] += n
            reasons[prop] = f"used {n:,} time{'' if n == 1 else 's'} with {shorten(cls)}"
    names = {**onto.properties}
    for prop in related:
        names.setdefault(prop, "")
    mine = sorted((p for p in related if test(p, names[p])), key=lambda p: (-related[p], shorten(p)))
    rest = sorted((p for p in onto.properties if p not in related and test(p, names[p])),
                  key=lambda p: (not p.startswith(str(CKB)), shorten(p)))
    return ([Completion(shorten(p), p, names[p] or _local(p), reasons[p], "class") for p in mine]
            + [Completion(shorten(p), p, names[p] or _local(p), "", "other") for p in rest])[:limit]


def _entities(kb: Any, index: LabelIndex, text: str, limit: int) -> list[Completion]:
    hits = index.find(text, limit)
    types: dict[str, list[str]] = {}
    with reader(kb) as read:
        if read is not None:
            for iri, _, _ in hits:
                # direct (asserted) types only: the inferred graph adds every superclass
                types[iri] = sorted(_local(t.value) for t in read.objects(iri, RDF_TYPE, inferred=False)
                                    if hasattr(t, "value"))[:3]
    return [Completion(shorten(iri), iri, label, ", ".join(types.get(iri, [])), how)
            for iri, label, how in hits]


def _prefixes(text: str, limit: int) -> list[Completion]:
    word = text.strip().rstrip(":").casefold()
    return [Completion(f"PREFIX {p}: <{ns}>", ns, p, ns, "prefix")
            for p, ns in sorted(PREFIXES.items()) if p.casefold().startswith(word)][:limit]


def complete(kb: Any, kind: str, text: str = "", classes: Sequence[str] = (),
             limit: int = 20) -> dict[str, Any]:
    """The suggestions for ``kind`` and typed ``text`` as JSON-ready data; KBError on bad input."""
    if kind not in KINDS:
        raise KBError(f"unknown kind {kind!r}: give one of {', '.join(KINDS)}")
    if len(text) > MAX_TEXT:
        raise KBError(f"the text is {len(text)} characters long; the limit is {MAX_TEXT}")
    if any(c in text for c in "\n\r\x00"):
        raise KBError("the text must be one line")
    if len(classes) > MAX_CLASSES:
        raise KBError(f"at most {MAX_CLASSES} classes; got {len(classes)}")
    classes = [check_iri(_expand(c)) for c in classes]
    limit = min(max(int(limit), 1), MAX_LIMIT)
    note = ""
    if kind == "prefix":
        found = _prefixes(text, limit)
    elif kind == "entity":
        short = len(normalise(text)) < 2
        index = label_index(kb, within=0.0 if short else labels.WAIT)  # starts the read after a write
        if short:
            found = []
            note = "type at least two letters of a label"
        elif index is None:
            found = []
            note = ("the labels are being read after a change to the store; try again in a moment"
                    if labels.embedded(kb) else
                    "entity completion needs the KB's embedded store (this one is remote)")
        else:
            found = _entities(kb, index, text, limit)
    else:
        found = _terms(kb, kind, text, classes, limit)
    return {"kind": kind, "text": text, "classes": classes,
            "results": [dict(vars(c)) for c in found], "note": note}


def _expand(name: str) -> str:
    """A class as sent by the editor: <iri>, an IRI, or a prefixed name with a KB prefix."""
    name = name.strip()
    if name.startswith("<") and name.endswith(">"):
        return name[1:-1]
    pname = _PNAME.fullmatch(name)
    if pname and (pname.group(1) or "") in PREFIXES and "//" not in name:
        return PREFIXES[pname.group(1) or ""] + pname.group(2)
    return name
