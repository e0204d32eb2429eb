"""N-Triples terms for dataset rows, row checks and streaming CSV reading."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache, lru_cache
from json.encoder import encode_basestring  # type: ignore[attr-defined]
from pathlib import Path

from kb.namespaces import CKB, CKBR

XSD = "http://www.w3.org/2001/XMLSchema#"
PROV = "http://www.w3.org/ns/prov#"
RDF_TYPE = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
RDFS_LABEL = "<http://www.w3.org/2000/01/rdf-schema#label>"
IMPORTER = "conflict-kb-importer"

# Rows become N-Triples text, term by term, and the store's own parser reads it (strictly: a bad
# IRI or literal stops the load). Building Python term objects cost ~1 ms a row; text costs a tenth.
# IRIREF as N-Triples defines it: no spaces, controls or <>"{}|^`\ (so row data cannot break out).
_IRI = re.compile(r'[^\x00-\x20<>"{}|^`\\]+')
_NOT_SLUG = re.compile(r"[^a-z0-9]+")
DIGITS = re.compile(r"\d+", re.ASCII)
DECIMAL = re.compile(r"-?\d{1,3}(?:\.\d+)?", re.ASCII)  # what xsd:decimal and WKT both accept
MAX_COUNT_DIGITS = 9


class BadRow(Exception):
    """A row that cannot be converted; the message is the reason, without its line (maybe a column)."""

    def __init__(self, message: str, column: int | None = None) -> None:
        super().__init__(message)
        self.column = column


def shown(value: str, width: int = 40) -> str:
    """A value as an error message quotes it: repr'd (so one line), and cut short when long."""
    return repr(value) if len(value) <= width else f"{value[:width]!r}... ({len(value)} characters)"


@dataclass
class ImportResult:
    """What an import did: its graph, rows loaded and skipped, and whether the file was unchanged."""

    graph: str
    rows: int = 0
    skipped: list[tuple[int, str]] = field(default_factory=list)
    unchanged: bool = False
    triples: int = 0
    unmatched: list[str] = field(default_factory=list)


def iri(value: str) -> str:
    """An IRI as an N-Triples term; a BadRow if row data made it unusable as an IRI."""
    if not _IRI.fullmatch(value):
        raise BadRow(f"{shown(value)} cannot be part of an IRI")
    return f"<{value}>"


@cache
def ckb(name: str) -> str:
    """An ontology term (cached: a few dozen terms, used millions of times)."""
    return f"<{CKB}{name}>"


_CKBR = str(CKBR)


def res(name: str) -> str:
    """An individual under ckbr:."""
    return iri(_CKBR + name)


@cache
def ns(value: str) -> str:
    """A fixed vocabulary IRI (the importer's own constants, never row data)."""
    return f"<{value}>"


def text(value: str) -> str:
    """A plain string literal; JSON's string escapes are a subset of N-Triples' (ECHAR, UCHAR)."""
    return encode_basestring(value)  # json's C escaper, as json.dumps(ensure_ascii=False) uses


def integer(value: int) -> str:
    """An xsd:integer (the store keeps nonNegativeInteger values as integer anyway)."""
    return f'"{int(value)}"^^<{XSD}integer>'


def decimal(value: float | str) -> str:
    """An xsd:decimal (from a string that float() accepted, so it holds no quote or backslash)."""
    return f'"{value}"^^<{XSD}decimal>'


def day(value: str) -> str:
    """A calendar day as the ontology stores bounds: xsd:dateTime at 00:00, no time zone."""
    return f'"{value}T00:00:00"^^<{XSD}dateTime>'


def triple(s: str, p: str, o: str) -> str:
    """One N-Triples line."""
    return f"{s} {p} {o} .\n"


@lru_cache(maxsize=65536)  # names repeat across rows: actors, places, outlets
def slug(value: str) -> str:
    """A stable IRI-safe key for a name: ASCII, lower case, dashes."""
    ascii_text = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    out = _NOT_SLUG.sub("-", ascii_text.lower()).strip("-")
    if not out:  # names in other scripts: key them by their hash
        out = "h" + hashlib.sha1(value.encode()).hexdigest()[:12]
    return out[:80]


@lru_cache(maxsize=65536)
def name_key(value: str) -> str:
    """A key for a name that keeps names differing only in case or accents apart (one label per IRI)."""
    return f"{slug(value)}-{hashlib.sha1(value.encode()).hexdigest()[:6]}"


def count(row: dict[str, str], column: str, required: bool = True) -> int | None:
    """A non-negative integer column, or a BadRow naming the column."""
    raw = (row.get(column) or "").strip()
    if not raw:
        if required:
            raise BadRow(f"{column} is empty")
        return None
    if not DIGITS.fullmatch(raw):
        raise BadRow(f"{column} {shown(raw)} is not a non-negative integer")
    if len(raw.lstrip("0")) > MAX_COUNT_DIGITS:  # no event has a billion dead: a broken cell
        raise BadRow(f"{column} {shown(raw, 12)} is too large for a count "
                     f"(at most {MAX_COUNT_DIGITS} digits)")
    return int(raw)


def coordinate(row: dict[str, str], column: str, limit: float) -> str | None:
    """A latitude/longitude column as a decimal string within ±limit, or None when empty."""
    raw = (row.get(column) or "").strip()
    if not raw:
        return None
    if not DECIMAL.fullmatch(raw):
        raise BadRow(f"{column} {shown(raw)} is not a decimal number")
    if not -limit <= float(raw) <= limit:
        raise BadRow(f"{column} {raw} is out of range")
    return raw


def sha256(path: Path) -> str:
    """Hex SHA-256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
