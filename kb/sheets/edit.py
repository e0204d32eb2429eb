"""Editing a claim sheet from a program (the reader's annotations): add, change or withdraw one
claim on a document, writing the sheet and its graph in the store together, all-or-nothing.

Each annotated document gets its own sheet, ``FOLDER/<doc id>/annotations.yaml`` beside a copy of
the document's text, compiled into its own graph (``document: graph:``, so never the graph of the
document's own sheet); ``ckb import`` of that file gives the same graph in a rebuilt store."""

from __future__ import annotations

import os
import tempfile
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from kb.errors import KBError
from kb.imports.common import slug
from kb.namespaces import CKB, CKBR
from kb.terms import iri_ref

from .facts import PAIRS
from .importer import SheetImport, import_sheet, sheet_graph
from .vocab import KINDS

SHEET = "annotations.yaml"
RELATIONS = ("backs", "alliance", "rivalry", "clash", *PAIRS)
HEADER = ("# Claims annotated in the reader (conflict-kb). Source data, not a cache: keep it;\n"
          "# `ckb import` this file to put its claims into a rebuilt store.\n")
_LOCK = threading.Lock()  # one edit at a time: read, change, check, write


class EditError(KBError):
    """An annotation that cannot be made (bad input, unknown claim): nothing was written."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Annotation:
    """One claim as the reader's form gives it: the quote's selectors and what it states."""

    quote: str
    start: int
    prefix: str = ""
    suffix: str = ""
    kind: str = "report"
    hedge: str = ""
    hedge_text: str = ""
    chain: list[str] = field(default_factory=list)  # speakers' IRIs, the first speaker first
    states: list[dict[str, Any]] = field(default_factory=list)  # {relation, actors: [IRI, IRI], term}
    characterises: str = ""  # an actor's IRI (kind characterisation)


@dataclass
class Document:
    """What the store says about the annotated document."""

    iri: str
    id: str
    title: str
    publisher: str
    text_name: str
    text: str


def document(kb: Any, iri: str) -> Document:
    """The document ``iri`` as the store holds it; EditError if it cannot be annotated."""
    prefix = str(CKBR) + "doc-"
    if not iri.startswith(prefix) or slug(iri[len(prefix):]) != iri[len(prefix):]:
        raise EditError(f"<{iri}> is not a document the reader can annotate (ckbr:doc-ID)")
    node = iri_ref(iri)
    rows = kb.query(f"""SELECT ?title ?pub ?file ?text WHERE {{ {node} <{CKB.fullText}> ?text .
        OPTIONAL {{ {node} <http://www.w3.org/2000/01/rdf-schema#label> ?title }}
        OPTIONAL {{ {node} <http://www.w3.org/ns/prov#wasAttributedTo> ?pub }}
        OPTIONAL {{ {node} <{CKB.textFile}> ?file }} }} LIMIT 1""", inferred=False).rows
    if not rows:
        raise EditError(f"no document with text <{iri}>", 404)
    r = rows[0]
    if r.get("pub") is None:
        raise EditError(f"<{iri}> names no publisher (prov:wasAttributedTo) to attribute its claims to")
    doc_id = iri[len(prefix):]
    name = Path(str(r.get("file") or f"{doc_id}.txt")).name
    return Document(iri, doc_id, str(r.get("title") or doc_id), str(r["pub"]), name, str(r["text"]))


def sheet_path(folder: Path, doc_id: str) -> Path:
    """Where the annotations of one document are kept."""
    return Path(folder) / doc_id / SHEET


def load(folder: Path, doc: Document) -> dict[str, Any]:
    """The document's annotation sheet as plain values (a new one if it has none yet)."""
    path = sheet_path(folder, doc.id)
    if path.is_file():
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    return {"document": {"id": doc.id, "graph": f"{doc.id}-annotations", "title": doc.title,
                         "publisher": "publisher", "text": doc.text_name},
            "agents": {"publisher": {"actor": doc.publisher}}, "statements": {}, "claims": []}


def claims(folder: Path, doc: Document) -> list[dict[str, Any]]:
    """The claims of a document's annotation sheet, withdrawn ones included."""
    return list(load(folder, doc)["claims"]) if sheet_path(folder, doc.id).is_file() else []


def add(kb: Any, folder: Path, doc: Document, a: Annotation) -> str:
    """Add a claim to the document's annotation sheet and the store; return its id."""
    with _LOCK:
        data = load(folder, doc)
        taken = {c["id"] for c in data["claims"]}
        base = "ann-" + slug(" ".join(a.quote.split()[:6]))[:40].strip("-")
        cid, n = base, 1
        while cid in taken or _claim_exists(kb, doc, cid):
            n += 1
            cid = f"{base}-{n}"
        data["claims"].append(_entry(kb, data, doc, cid, a))
        _commit(kb, folder, doc, data)
        return cid


def change(kb: Any, folder: Path, doc: Document, cid: str, a: Annotation) -> None:
    """Replace what claim ``cid`` says (its quote, kind, hedge, chain, facts)."""
    with _LOCK:
        data = load(folder, doc)
        i = _find(data, cid)
        _drop_chain(data, cid)
        data["claims"][i] = _entry(kb, data, doc, cid, a)
        _commit(kb, folder, doc, data)


def withdraw(kb: Any, folder: Path, doc: Document, cid: str, by: str, reason: str = "") -> None:
    """Mark claim ``cid`` withdrawn by ``by`` now: it states nothing more; the sheet keeps the record."""
    by = " ".join(by.split())
    if not by:
        raise EditError("say who withdraws the claim")
    with _LOCK:
        data = load(folder, doc)
        i = _find(data, cid)
        record = {"at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "by": by[:200]}
        if reason.strip():
            record["reason"] = reason.strip()[:1000]
        data["claims"][i]["withdrawn"] = record
        _commit(kb, folder, doc, data)


def _find(data: dict[str, Any], cid: str) -> int:
    for i, c in enumerate(data["claims"]):
        if c["id"] == cid:
            if "withdrawn" in c:
                raise EditError(f"the claim {cid} was withdrawn on {c['withdrawn']['at']}; "
                                "it is kept as a record and cannot be changed", 409)
            return i
    raise EditError(f"no claim {cid!r} among this document's annotations", 404)


def _claim_exists(kb: Any, doc: Document, cid: str) -> bool:
    """True when another graph (the document's own sheet, say) already has this claim's IRI."""
    iri = CKBR[f"claim-{doc.id}-{cid}"]
    return bool(kb.query(f"SELECT ?p WHERE {{ <{iri}> ?p ?o }} LIMIT 1", inferred=False).rows)


def _entry(kb: Any, data: dict[str, Any], doc: Document, cid: str, a: Annotation) -> dict[str, Any]:
    """The sheet's claim for an annotation, adding the agents and statements it names."""
    end = a.start + len(a.quote)
    if not a.quote.strip():
        raise EditError("select some words of the text: the quote is empty")
    if a.start < 0 or doc.text[a.start:end] != a.quote:
        raise EditError(f"the text at {a.start}..{end} is not the quote; reload the page and select again")
    if not doc.text[:a.start].endswith(a.prefix) or not doc.text[end:].startswith(a.suffix):
        raise EditError("the prefix or suffix is not the text around the quote")
    if a.kind not in KINDS:
        raise EditError(f"unknown kind {a.kind!r} (one of: {', '.join(KINDS)})")
    entry: dict[str, Any] = {"id": cid, "quote": a.quote, "start": a.start}
    if doc.text.count(a.quote) > 1 and a.prefix:
        entry["prefix"] = a.prefix  # the TextQuoteSelector's context settles a repeated quote
    entry["kind"] = a.kind
    if a.hedge:
        entry["hedge"] = a.hedge
        entry["hedge_text"] = a.hedge_text.strip() or a.hedge
    via = None
    for k, speaker in enumerate(a.chain, start=1):
        key = f"{cid}-s{k}"
        data.setdefault("statements", {})[key] = {"by": _agent(kb, data, speaker)}
        if via:
            data["statements"][key]["quoting"] = via
        via = key
    if via:
        entry["via"] = via
    if a.kind == "characterisation":
        if not a.characterises:
            raise EditError("a characterisation needs the actor it characterises")
        entry["characterises"] = _agent(kb, data, a.characterises)
        entry["words"] = a.quote
    else:
        if not a.states:
            raise EditError("say what the claim states: a relation and its actors")
        entry["states"] = [_fact(kb, data, s) for s in a.states]
    return entry


def _fact(kb: Any, data: dict[str, Any], s: dict[str, Any]) -> dict[str, Any]:
    """One stated fact in the sheet's words: a relation name and its actors' keys."""
    name, actors, term = s.get("relation"), s.get("actors") or [], str(s.get("term") or "").strip()
    if name not in RELATIONS:
        raise EditError(f"unknown relation {name!r} (one of: {', '.join(RELATIONS)})")
    if len(actors) != 2 or not all(isinstance(x, str) and x for x in actors):
        raise EditError(f"{name} needs two actors, picked from the suggestions")
    one, two = (_agent(kb, data, x) for x in actors)
    if name in PAIRS:
        first, second = PAIRS[name][0]
        return {name: {first: one, second: two}}
    if name == "backs":
        return {"backs": {"backer": one, "backed": two, **({"support": term} if term else {})}}
    if name == "clash":
        return {"clash": {"sides": [[one], [two]], **({"status": term} if term else {})}}
    return {name: {"parties": [one, two]}}


def _agent(kb: Any, data: dict[str, Any], iri: str) -> str:
    """The sheet's key for a KB actor (added to agents: if new); EditError if it is no actor."""
    for k, agent in data["agents"].items():
        if agent["actor"] == iri:
            return k
    rows = kb.query(f"""SELECT ?t WHERE {{ {iri_ref(iri)} a ?t .
        ?t <http://www.w3.org/2000/01/rdf-schema#subClassOf>* <{CKB.Actor}> }} LIMIT 1""").rows
    if not iri.startswith(str(CKBR)) or not rows:
        raise EditError(f"<{iri}> is not an actor of the KB: pick one from the suggestions")
    key = slug(iri[len(str(CKBR)):])
    while key in data["agents"]:
        key += "-x"
    data["agents"][key] = {"actor": iri}
    return key


def _drop_chain(data: dict[str, Any], cid: str) -> None:
    """Remove the statements a claim's chain was written with (they are rewritten with it)."""
    for key in [k for k in data.get("statements", {}) if k.startswith(f"{cid}-s")]:
        del data["statements"][key]


def _prune(data: dict[str, Any]) -> None:
    """Drop agents no claim or statement names any more (the publisher stays)."""
    used = {"publisher"} | {s["by"] for s in data.get("statements", {}).values()}
    for c in data["claims"]:
        used |= {c.get("characterises")} | _strings(c.get("states") or [])
    for k in [k for k in data["agents"] if k not in used]:
        del data["agents"][k]


def _strings(value: Any) -> set[str]:
    """Every string inside nested lists and mappings (the keys a fact names)."""
    if isinstance(value, str):
        return {value}
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    return set().union(*(_strings(v) for v in items))


def _commit(kb: Any, folder: Path, doc: Document, data: dict[str, Any]) -> SheetImport:
    """Check the changed sheet and load it into its graph, then put it in place; on any failure
    neither the sheet file nor the store changes."""
    _prune(data)
    path = sheet_path(folder, doc.id)
    path.parent.mkdir(parents=True, exist_ok=True)
    body = HEADER + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".edit-") as tmp:
        trial, text = Path(tmp) / SHEET, Path(tmp) / doc.text_name
        trial.write_text(body, encoding="utf-8")
        # the text as the store holds it now: quotes are placed (and re-anchored) against it
        text.write_text(doc.text, encoding="utf-8")
        result = import_sheet(kb, trial)  # SheetProblems or a store error: nothing was written
        try:
            os.replace(text, path.parent / doc.text_name)
            os.replace(trial, path)
        except OSError:
            _restore(kb, path, sheet_graph(trial))
            raise
    return result


def _restore(kb: Any, path: Path, graph: str) -> None:
    """Put the store back as the sheet on disk says (the file could not be replaced)."""
    if path.is_file():
        import_sheet(kb, path)
    elif graph in kb.graphs():
        kb.backend.drop_graph(graph)
