"""Streaming CSV -> N-Triples conversion, the import record, and the hand-over to the store."""

from __future__ import annotations

import csv
import hashlib
import os
import re
import tempfile
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from ..errors import KBError
from ..namespaces import CKB, CKBR, import_graph

RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
RDFS_LABEL = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
XSD = "http://www.w3.org/2001/XMLSchema#"
PROV = "http://www.w3.org/ns/prov#"
IMPORTER = "conflict-kb-importer"


class BadRow(Exception):
    """A row that cannot be converted; the message is the reason, without position."""


@dataclass
class ImportResult:
    """What an import did: its graph, rows loaded and skipped, and whether the file was unchanged."""

    graph: str
    rows: int = 0
    skipped: list[tuple[int, str]] = field(default_factory=list)
    unchanged: bool = False
    triples: int = 0
    unmatched: list[str] = field(default_factory=list)


@cache
def ckb(name: str) -> ox.NamedNode:
    """An ontology term (cached: a few dozen terms, used millions of times)."""
    return ox.NamedNode(str(CKB) + name)


_CKBR = str(CKBR)


def res(name: str) -> ox.NamedNode:
    """An individual under ckbr:."""
    return ox.NamedNode(_CKBR + name)


def ns(iri: str) -> ox.NamedNode:
    """Any IRI."""
    return ox.NamedNode(iri)


def text(value: str) -> ox.Literal:
    """A plain string literal."""
    return ox.Literal(value)


def integer(value: int) -> ox.Literal:
    """An xsd:integer (the store keeps nonNegativeInteger values as integer anyway)."""
    return ox.Literal(str(value), datatype=ox.NamedNode(XSD + "integer"))


def decimal(value: float | str) -> ox.Literal:
    """An xsd:decimal."""
    return ox.Literal(str(value), datatype=ox.NamedNode(XSD + "decimal"))


def day(value: str) -> ox.Literal:
    """A calendar day as the ontology stores bounds: xsd:dateTime at 00:00, no time zone."""
    return ox.Literal(f"{value}T00:00:00", datatype=ox.NamedNode(XSD + "dateTime"))


def slug(value: str) -> str:
    """A stable IRI-safe key for a name: ASCII, lower case, dashes."""
    ascii_text = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    out = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    if not out:  # names in other scripts: key them by their hash
        out = "h" + hashlib.sha1(value.encode()).hexdigest()[:12]
    return out[:80]


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
    if not re.fullmatch(r"\d+", raw):
        raise BadRow(f"{column} {raw!r} is not a non-negative integer")
    return int(raw)


def coordinate(row: dict[str, str], column: str, limit: float) -> str | None:
    """A latitude/longitude column as a decimal string within ±limit, or None when empty."""
    raw = (row.get(column) or "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise BadRow(f"{column} {raw!r} is not a number") from None
    if not -limit <= value <= limit:
        raise BadRow(f"{column} {raw} is out of range")
    return raw


def sha256(path: Path) -> str:
    """Hex SHA-256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_rows(path: Path, required: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield (line number, row) from a UTF-8 CSV, streaming; a missing column is an error."""
    try:
        f = path.open(encoding="utf-8-sig", newline="")
    except OSError as e:
        raise KBError(f"{path}: {e.strerror}") from None
    with f:
        reader = csv.DictReader(f)
        missing = [c for c in required if c not in (reader.fieldnames or [])]
        if missing:
            raise KBError(f"{path}:1: missing column(s): {', '.join(missing)}")
        try:
            for row in reader:
                yield reader.line_num, row
        except (csv.Error, UnicodeDecodeError) as e:
            raise KBError(f"{path}:{reader.line_num}: {e}") from None


Converter = Callable[[dict[str, str], Any], list[ox.Triple]]


def run_import(
    kb: Any,
    path: str | Path,
    fmt: str,
    *,
    name: str | None = None,
    skip_bad: bool = False,
    report: str | Path | None = None,
    progress: Callable[[int], None] | None = None,
    aliases: Path | None = None,
) -> ImportResult:
    """Convert a dataset CSV to N-Triples in a temporary file and load it into its own graph."""
    from . import acled, actors, ucdp

    p = Path(path)
    if not p.is_file():
        raise KBError(f"{p}: no such file")
    module = {"ucdp-ged": ucdp, "acled": acled}.get(fmt)
    if module is None:
        raise KBError(f"unknown import format {fmt!r} (ucdp-ged or acled)")
    graph_name = name or f"{fmt}-{slug(p.stem)}"
    graph = import_graph(graph_name)
    checksum = sha256(p)
    if _already_imported(kb, graph, checksum):
        return ImportResult(graph, unchanged=True)
    matcher = actors.Matcher.for_kb(kb, aliases)
    result = ImportResult(graph)
    fd, tmp = tempfile.mkstemp(prefix="ckb-import-", suffix=".nt")
    os.close(fd)
    try:
        def triples() -> Iterator[ox.Triple]:
            for line, row in read_rows(p, module.REQUIRED):
                try:
                    out = module.convert(row, matcher)
                except BadRow as e:
                    if not skip_bad:
                        raise KBError(f"{p}:{line}: {e}") from None
                    result.skipped.append((line, str(e)))
                    continue
                result.rows += 1
                result.triples += len(out)
                if progress:
                    progress(result.rows)
                yield from out
            yield from matcher.record_triples()
            yield from _record(p, checksum, graph_name, result)

        with open(tmp, "wb") as out:
            ox.serialize(triples(), out, ox.RdfFormat.N_TRIPLES)
        if report is not None:
            _write_report(Path(report), p, result.skipped)
        kb.import_file(tmp, name=graph_name)
        result.unmatched = matcher.unmatched_names()
        return result
    finally:
        Path(tmp).unlink(missing_ok=True)


def _already_imported(kb: Any, graph: str, checksum: str) -> bool:
    """True when this graph already holds an import of a file with this checksum."""
    if graph not in kb.graphs():
        return False
    return _sums(kb, graph) == {checksum}


def _sums(kb: Any, graph: str) -> set[str]:
    """The file checksums recorded in an import graph."""
    rows = kb.query(f"SELECT ?sum WHERE {{ GRAPH <{graph}> {{ ?f <{CKB.sha256}> ?sum }} }}",
                    inferred=False, named_graphs=[graph]).rows
    return {str(r["sum"]) for r in rows}


def _record(path: Path, checksum: str, graph_name: str, result: ImportResult) -> Iterator[ox.Triple]:
    """The import's own record: which file (name, SHA-256), when, how many rows, by what."""
    run = res(f"import-{slug(graph_name)}")
    f = res(f"file-{checksum[:16]}")
    agent = res(IMPORTER)
    now = datetime.now(UTC).replace(microsecond=0).isoformat()
    yield ox.Triple(run, RDF_TYPE, ns(PROV + "Activity"))
    yield ox.Triple(run, RDFS_LABEL, text(f"import of {path.name}"))
    yield ox.Triple(run, ns(PROV + "used"), f)
    yield ox.Triple(run, ns(PROV + "endedAtTime"), ox.Literal(now, datatype=ox.NamedNode(XSD + "dateTime")))
    yield ox.Triple(run, ns(PROV + "wasAssociatedWith"), agent)
    yield ox.Triple(run, ckb("rowCount"), integer(result.rows))
    yield ox.Triple(run, ckb("skippedRows"), integer(len(result.skipped)))
    yield ox.Triple(f, RDF_TYPE, ckb("ImportedFile"))
    yield ox.Triple(f, RDFS_LABEL, text(path.name))
    yield ox.Triple(f, ckb("sha256"), text(checksum))
    yield ox.Triple(agent, RDF_TYPE, ckb("Software"))
    yield ox.Triple(agent, RDFS_LABEL, text("conflict-kb importer (kb.imports)"))


def _write_report(report: Path, source: Path, skipped: list[tuple[int, str]]) -> None:
    """Write the skipped rows and their reasons as CSV."""
    with report.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["file", "line", "reason"])
        for line, reason in skipped:
            w.writerow([source.name, line, reason])
