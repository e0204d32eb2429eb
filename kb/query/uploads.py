"""Uploaded RDF (Graph Store bodies, multipart files) is parsed in a fenced, limited worker.

A parser is the part of a server an anonymous byte stream reaches first. RDF/XML in particular
may declare DTD entities that expand without bound: a 688-byte body once took 62 s and 4.9 GB
of the server's memory, and 744 bytes aborted the whole server. So:

- **Before parsing**, in the server: RDF/XML that declares an entity (``<!ENTITY``) is refused
  with a 400 naming its line and column; nothing else in a DTD can make a document grow.
- **The parse** runs in a worker (``kb.query.worker``), fenced off the network like a query
  worker, limited in memory (``kb.query.memory``) and in time (the caller's limit). pyoxigraph
  parses; for RDF/XML, Python's expat first checks that the document is well-formed XML, so a
  body cut off mid-document (which pyoxigraph accepts as far as it got) is a 400 with the
  position where it ends, never a partial graph. A worker that meets an entity declaration
  anyway (say, in an encoding the byte scan cannot read) refuses it as well.
- **The answer** is the triples as N-Triples, which the server reads back with no expansion
  possible, each blank node renamed apart from every other request's.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Any, BinaryIO
from xml.parsers import expat

import pyoxigraph as ox

from kb.errors import KBError, ParseError, QueryTimeout
from kb.query.memory import MemoryLimit, answer_limit, exceeded, limit

_ENTITY = re.compile(rb"<!ENTITY", re.IGNORECASE)
_REFUSED = ("RDF/XML that declares DTD entities (<!ENTITY ...>) is not accepted: entities can expand "
            "without bound; expand them in the file, or send Turtle or N-Triples")


class UploadTooLarge(KBError):
    """An upload whose triples are more than a worker sends back."""

    status = 413


class UploadTimeout(KBError):
    """An upload that took longer than its time limit to parse."""

    status = 503


@dataclass(frozen=True)
class ParseRequest:
    """One RDF document to parse in a worker."""

    data: bytes
    media_type: str
    base_iri: str | None
    name: str
    timeout: float


def _position(data: bytes, offset: int) -> tuple[int, int]:
    line = data.count(b"\n", 0, offset) + 1
    return line, offset - (data.rfind(b"\n", 0, offset) + 1) + 1


def refuse_entities(data: bytes, fmt: ox.RdfFormat, name: str) -> None:
    """ParseError (400) if an RDF/XML document declares a DTD entity; checked before any parse."""
    if fmt != ox.RdfFormat.RDF_XML:
        return
    found = _ENTITY.search(data)
    if found:
        raise ParseError(name, *_position(data, found.start()), _REFUSED)


# expat's errors for a document that stops early: no root element closed, a token or character cut.
_CUT_OFF = {expat.errors.codes[message] for message in (expat.errors.XML_ERROR_NO_ELEMENTS,
                                                         expat.errors.XML_ERROR_UNCLOSED_TOKEN,
                                                         expat.errors.XML_ERROR_PARTIAL_CHAR)}


class _Entity(Exception):
    """expat met an entity declaration."""


def _refuse_entity(*args: Any) -> None:
    raise _Entity


def _well_formed(data: bytes | BinaryIO) -> dict[str, Any] | None:
    """None if ``data`` is well-formed XML without entity declarations; else where it is not."""
    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.EntityDeclHandler = _refuse_entity
    try:
        if isinstance(data, bytes):
            parser.Parse(data, True)
        else:
            parser.ParseFile(data)
    except _Entity:
        return {"line": parser.CurrentLineNumber, "column": parser.CurrentColumnNumber + 1,
                "message": _REFUSED}
    except expat.ExpatError as err:
        message = expat.ErrorString(err.code)
        if err.code in _CUT_OFF:
            message += " (the document ends before its elements are closed: is it cut off?)"
        return {"line": err.lineno, "column": err.offset + 1, "message": message}
    return None


def check_rdf_xml(data: bytes | BinaryIO, name: str) -> None:
    """ParseError (with line:column) unless ``data`` is well-formed XML declaring no entity.

    pyoxigraph's RDF/XML parser accepts a document cut off after any complete element (no
    closing ``</rdf:RDF>``), so a truncated file would load as far as it went: check it first.
    """
    wrong = _well_formed(data)
    if wrong is not None:
        raise ParseError(name, wrong["line"], wrong["column"], wrong["message"])


def parse_here(job: ParseRequest, answer_limit: int) -> dict[str, Any]:
    """In a worker: the document's triples as N-Triples ({"body"}), or where it is wrong ({"parse_error"})."""
    fmt = ox.RdfFormat.from_media_type(job.media_type)
    assert fmt is not None and not fmt.supports_datasets, "the caller checks the media type"
    if fmt == ox.RdfFormat.RDF_XML:
        wrong = _well_formed(job.data)
        if wrong is not None:
            return {"parse_error": wrong}
    try:
        parsed = ox.parse(job.data, format=fmt, base_iri=job.base_iri, rename_blank_nodes=True)
        body = ox.serialize((q.triple for q in parsed), format=ox.RdfFormat.N_TRIPLES)
    except SyntaxError as err:
        detail = str(err.msg if hasattr(err, "msg") else err)
        detail = detail.split(": ", 1)[1] if detail.startswith("Parser error") and ": " in detail else detail
        return {"parse_error": {"line": err.lineno, "column": err.offset, "message": detail}}
    except ValueError as err:  # e.g. bytes that are not UTF-8
        return {"parse_error": {"line": None, "column": None, "message": str(err)}}
    if len(body) > answer_limit:
        return {"too_large": len(body), "limit": answer_limit}
    return {"body": body}


_pool: Any = None
_pool_lock = threading.Lock()


def _workers() -> Any:
    """The upload workers: one, on an empty store (a parse needs none), started on first use."""
    global _pool
    with _pool_lock:
        if _pool is None:
            from kb.query.view import StoreSpec
            from kb.query.worker import WorkerPool  # the worker module imports this one

            _pool = WorkerPool(1)
            _pool.reset(StoreSpec())
        return _pool


def parse(data: bytes, fmt: ox.RdfFormat, base_iri: str | None, name: str, timeout: float,
          require_fence: bool = False) -> list[ox.Triple]:
    """Parse one RDF document in a fenced, limited worker; ParseError (400, line:column) if it is wrong."""
    refuse_entities(data, fmt, name)
    if len(data) > answer_limit(limit()):
        raise UploadTooLarge(f"{name}: {len(data) / 2**20:.1f} MB is more than the "
                             f"{answer_limit(limit()) / 2**20:g} MB one upload may hold")
    pool = _workers()
    pool.require_fence = require_fence
    try:
        answer = pool.run(ParseRequest(data, fmt.media_type, base_iri, name, timeout))
    except QueryTimeout:
        raise UploadTimeout(f"{name}: took longer than {timeout:g} s to parse; send a smaller file") from None
    except MemoryLimit:
        raise exceeded(limit(), "upload") from None
    if "parse_error" in answer:
        wrong = answer["parse_error"]
        raise ParseError(name, wrong["line"], wrong["column"], wrong["message"])
    if "too_large" in answer:
        raise UploadTooLarge(f"{name}: its triples take {answer['too_large'] / 2**20:.1f} MB as N-Triples, "
                             f"more than the {answer['limit'] / 2**20:g} MB one upload may hold")
    # N-Triples cannot declare or expand anything: reading it back costs what it weighs.
    return [q.triple for q in ox.parse(answer["body"], format=ox.RdfFormat.N_TRIPLES)]


def close() -> None:
    """Stop the upload worker (a later upload starts another)."""
    global _pool
    with _pool_lock:
        if _pool is not None:
            _pool.close()
            _pool = None
