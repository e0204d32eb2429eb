"""The names and types of IRIs for pages: labels (cached per store until its next write),
local names, rdf:types, and checked IRIs as VALUES blocks."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from rdflib.term import Identifier

from kb.derived.memo import memo, remember
from kb.namespaces import PREFIXES
from kb.terms import IRI_PATTERN, iri_ref
from kb.views import pagerows
from kb.views.lookups import reader

RDFS_LABEL = PREFIXES["rdfs"] + "label"
XSD = "http://www.w3.org/2001/XMLSchema#"
# A literal's datatype in words, for pages (the IRI stays in the tooltip).
DATATYPE_WORDS = {
    **dict.fromkeys((XSD + t for t in ("integer", "int", "long", "short", "decimal", "double", "float",
                                       "nonNegativeInteger", "positiveInteger")), "number"),
    XSD + "date": "date", XSD + "dateTime": "date and time", XSD + "gYear": "year",
    XSD + "gYearMonth": "month", XSD + "boolean": "yes or no", XSD + "anyURI": "web address",
    XSD + "string": "text", PREFIXES["rdf"] + "langString": "text"}
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December")
# Label sources in order of preference (the brief: rdfs:label, then skos:prefLabel).
LABEL_PROPERTIES = (RDFS_LABEL, PREFIXES["skos"] + "prefLabel")
_CHUNK = 300  # IRIs per VALUES block


def local_name(iri: str) -> str:
    """Return the part of an IRI after its last '#' or '/' (the label of last resort)."""
    tail = iri.rstrip("/#")
    cut = max(tail.rfind("#"), tail.rfind("/"))
    return tail[cut + 1 :] or iri


def datatype_words(datatype: Any) -> str:
    """A literal's datatype as a reader says it ("number", "date"), else its local name."""
    return DATATYPE_WORDS.get(str(datatype), local_name(str(datatype)))


def literal_words(value: Any, shown: str | None = None) -> str:
    """A literal's value for a reader: dates written out ("25 April 2003", a midnight time left
    off); anything else as ``shown`` (else as it is written)."""
    text, datatype = str(value), str(getattr(value, "datatype", "") or "")
    shown = text if shown is None else shown
    if datatype in (XSD + "date", XSD + "dateTime") and len(text) >= 10 and text[4] == "-" == text[7]:
        year, month, day = text[:4], text[5:7], text[8:10]
        if year.isdigit() and month.isdigit() and day.isdigit() and 1 <= int(month) <= 12:
            written = f"{int(day)} {_MONTHS[int(month) - 1]} {year}"
            clock = text[11:16] if datatype == XSD + "dateTime" else ""
            return written if clock in ("", "00:00") else f"{written}, {clock}"
    return shown


def values_block(iris: Iterable[str]) -> str:
    """Return validated IRIs as the body of a SPARQL VALUES block."""
    return " ".join(iri_ref(i) for i in iris)


def chunks(items: list[str]) -> Iterable[list[str]]:
    """``items`` in runs of at most _CHUNK (one VALUES block each)."""
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def lang_rank(term: Identifier) -> int:
    """0 for an English or untagged literal, else 1 (English labels rank first)."""
    lang = getattr(term, "language", None) or ""
    return 0 if lang in ("", "en") or lang.startswith("en-") else 1


def labels(kb: Any, iris: Iterable[str]) -> dict[str, str]:
    """Map each IRI to rdfs:label, else skos:prefLabel (English first), else its local name;
    remembered until the store's next write (kb.derived.memo)."""
    wanted = {str(i) for i in iris if IRI_PATTERN.fullmatch(str(i))}
    known = memo(kb, "labels")
    if known is None:
        return _read_labels(kb, sorted(wanted))
    found = {i: known[i] for i in wanted if i in known}
    if len(found) < len(wanted):
        read = _read_labels(kb, sorted(wanted - set(found)))
        remember(read, known)
        found |= read
    return found


def _read_labels(kb: Any, wanted: list[str]) -> dict[str, str]:
    """labels() read from the store."""
    best: dict[str, tuple[int, int, str]] = {}
    # FILTER IN, not a second VALUES: Oxigraph server joined VALUES ?s x VALUES ?p by scanning
    # every label (60 IRIs at 10M: 11.3 s against 12 ms)
    props = ", ".join(iri_ref(p) for p in LABEL_PROPERTIES)
    with reader(kb) as r:
        rows = pagerows.labels_rows(r, wanted, LABEL_PROPERTIES) if r else [
            row for part in chunks(wanted) for row in kb.query(
                f"SELECT ?s ?p ?l WHERE {{ VALUES ?s {{ {values_block(part)} }} "
                f"GRAPH ?g {{ ?s ?p ?l }} FILTER(?p IN ({props}) && isLiteral(?l)) }}").rows]
    for row in rows:
        s, lab = str(row["s"]), row["l"]
        rank = (LABEL_PROPERTIES.index(str(row["p"])), lang_rank(lab), str(lab))
        if s not in best or rank < best[s]:
            best[s] = rank
    return {i: best[i][2] if i in best else local_name(i) for i in wanted}


def types_of(kb: Any, iris: Iterable[str]) -> dict[str, list[str]]:
    """Map each IRI to its sorted rdf:type IRIs (all graphs, inferred included)."""
    found: dict[str, set[str]] = defaultdict(set)
    wanted = sorted({str(i) for i in iris})
    with reader(kb) as r:
        rows = pagerows.types_rows(r, wanted) if r else [row for part in chunks(wanted) for row in kb.query(
            f"SELECT DISTINCT ?s ?t WHERE {{ VALUES ?s {{ {values_block(part)} }} "
            f"GRAPH ?g {{ ?s a ?t }} FILTER(isIRI(?t)) }}").rows]
    for row in rows:
        found[str(row["s"])].add(str(row["t"]))
    return {i: sorted(ts) for i, ts in found.items()}
