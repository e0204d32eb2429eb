"""``ckb import SHEET.yaml`` and ``ckb sheet new TEXT``: a checked sheet compiled into its own import
graph through the store's all-or-nothing replace path, and a skeleton sheet for a new text."""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from rdflib import Graph, Literal
from rdflib.namespace import DCTERMS, OWL, PROV, RDF, RDFS, SKOS, XSD

from kb.errors import KBError
from kb.imports.common import IMPORTER, slug
from kb.namespaces import CKB, CKBR, import_graph
from kb.store.loader import attach_texts

from .check import Checked, check_sheet
from .compile import compile_sheet
from .source import Problem, SheetSyntaxError, read_sheet


class SheetProblems(KBError):
    """A sheet with problems: nothing was written; each problem is one line."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


@dataclass
class SheetImport:
    """What importing a sheet did."""

    graph: str
    unchanged: bool = False
    claims: int = 0
    triples: int = 0
    minted: list[str] = field(default_factory=list)
    notes: list[Problem] = field(default_factory=list)


def sheet_graph(path: Path) -> str:
    """The import graph of the sheet at ``path``: named for its document's graph: or id (its file stem
    if unreadable)."""
    try:
        data = read_sheet(path).data
        doc_id = data["document"].get("graph") or data["document"]["id"]
    except (SheetSyntaxError, KeyError, TypeError, AttributeError):
        doc_id = slug(path.stem)
    return import_graph(f"sheet-{doc_id}")


def recorded(kb: Any, graph: str, doc_id: str, short_ids: bool = False) -> dict[str, tuple[int, str, str]]:
    """Each quote (by its key) as the last import of this sheet placed it: (start, prefix, suffix)."""
    if graph not in kb.graphs():
        return {}
    prefix = f"{CKBR}quote-" if short_ids else f"{CKBR}quote-{doc_id}-"
    rows = kb.query(f"""SELECT ?q ?s ?before ?after WHERE {{ GRAPH <{graph}> {{
                          ?q <{CKB.startOffset}> ?s .
                          OPTIONAL {{ ?q <{CKB["prefix"]}> ?before }}
                          OPTIONAL {{ ?q <{CKB["suffix"]}> ?after }} }} }}""",
                    inferred=False, named_graphs=[graph]).rows
    return {str(r["q"])[len(prefix):]: (int(str(r["s"])), str(r.get("before") or ""),
                                        str(r.get("after") or ""))
            for r in rows if str(r["q"]).startswith(prefix)}


def check(path: Path, kb: Any) -> Checked:
    """Check a sheet as an import of it would, re-anchoring against its last import's quotes."""
    graph = sheet_graph(path)
    try:
        sheet = read_sheet(path)
        doc_id = sheet.data["document"]["id"]
    except SheetSyntaxError:
        return check_sheet(path, kb, graph)
    except (KeyError, TypeError):  # the schema check says what is missing
        return check_sheet(path, kb, graph, sheet=sheet)
    # Re-anchor against what the store holds: a quote that moved since is reported, not shifted silently.
    last = recorded(kb, graph, str(doc_id), bool(sheet.data["document"].get("short_ids")))
    checked = check_sheet(path, kb, graph, sheet=sheet, recorded=last)
    if not checked.problems:
        _, _, unstated = compile_sheet(checked)
        for where in unstated:
            checked.problem((where[0], ("key", where[1])), f"{where[1]!r} is named by no claim, so no claim "
                            "states what it is: quote the words that name it (a claim via a statement "
                            "by it, or one that states a fact about it)")
    return checked


PREFIXES = {"ckb": str(CKB), "ckbr": str(CKBR), "owl": str(OWL), "rdf": str(RDF), "rdfs": str(RDFS),
            "xsd": str(XSD), "skos": str(SKOS), "dcterms": str(DCTERMS), "prov": str(PROV),
            "org": "http://www.w3.org/ns/org#"}


def _checked(kb: Any, path: str | Path) -> tuple[Path, Any]:
    """The sheet at ``path`` checked against the KB; KBError if there is no file, SheetProblems if bad."""
    p = Path(path)
    if not p.is_file():
        raise KBError(f"{p}: no such file")
    checked = check(p, kb)
    if checked.problems:
        raise SheetProblems(checked.problems)
    return p, checked


def compile_file(kb: Any, path: str | Path) -> Graph:
    """Check and compile a sheet without loading it (SheetProblems if it is bad): the graph it gives."""
    _p, checked = _checked(kb, path)
    g, _, _ = compile_sheet(checked)
    for prefix, ns in PREFIXES.items():
        g.bind(prefix, ns, override=True, replace=True)
    return g


def compiled_turtle(g: Graph, sheet: str) -> str:
    """A compiled sheet as Turtle, its first lines saying where it comes from and not to edit it."""
    body = g.serialize(format="turtle")
    return (f"# Generated from {sheet} by `ckb sheet compile {sheet} -o <this file>`: do not edit;\n"
            "# edit the sheet and compile again (tests/test_sheet_article.py checks they agree).\n" + body)


def import_sheet(kb: Any, path: str | Path) -> SheetImport:
    """Check, compile and load a sheet into its own graph, all-or-nothing; SheetProblems if it is bad."""
    p, checked = _checked(kb, path)
    assert checked.sheet is not None and checked.text_path is not None
    graph = sheet_graph(p)
    g, minted, _ = compile_sheet(checked)
    d = checked.sheet.data["document"]
    _record(g, p, d["id"], d.get("graph") or d["id"])
    body = g.serialize(format="nt", encoding="utf-8")
    claims = len(checked.sheet.data["claims"])
    if _holds(kb, graph, body, checked):
        return SheetImport(graph, unchanged=True, claims=claims, notes=checked.notes)
    with tempfile.TemporaryDirectory(prefix="ckb-sheet-") as tmp:
        nt = Path(tmp) / "sheet.nt"
        nt.write_bytes(body)
        (Path(tmp) / "sources").mkdir()
        # the loader reads the text from sources/ beside the file it loads (ckb:textFile -> ckb:fullText)
        shutil.copyfile(checked.text_path, Path(tmp) / "sources" / checked.text_path.name)
        kb.backend.replace_graphs([(nt, graph)], prepare=attach_texts)
    return SheetImport(graph, claims=claims, triples=kb.graphs().get(graph, 0), minted=minted,
                       notes=checked.notes)


def _record(g: Graph, path: Path, doc_id: str, key: str) -> None:
    """The import's own record, without a time: compiling the same sheet gives the same graph.

    Not a ckb:ImportedFile: the claims explorer takes a graph holding one for a dataset's rows,
    while a sheet's claims belong to their document."""
    # named for the graph: a second sheet on one document (its annotations) is a run of its own
    run, agent = CKBR[f"import-sheet-{key}"], CKBR[IMPORTER]
    g.add((run, RDF.type, PROV.Activity))
    g.add((run, RDFS.label, Literal(f"import of the claim sheet {path.name}")))
    g.add((run, PROV.used, CKBR[f"doc-{doc_id}"]))
    g.add((run, PROV.wasAssociatedWith, agent))
    g.add((agent, RDF.type, CKB.Software))
    g.add((agent, RDFS.label, Literal("conflict-kb importer (kb.imports)")))


def _holds(kb: Any, graph: str, body: bytes, checked: Checked) -> bool:
    """True when the graph already holds exactly these triples and this text: nothing to write."""
    if graph not in kb.graphs():
        return False
    want = {(str(t.subject), str(t.predicate), str(t.object))
            for t in ox.parse(body, format=ox.RdfFormat.N_TRIPLES)}
    held = {(str(q.subject), str(q.predicate), str(q.object)) for q in kb.backend.quads(graph)}
    text = {t for t in held if t[1] == f"<{CKB.fullText}>"}
    return held - text == want and [t[2] for t in text] == [str(ox.Literal(checked.text))]


SKELETON = """\
# Claim sheet for {text}: fill in, then `ckb sheet check {sheet}` and `ckb import {sheet}`.
# See docs/sheets.md for every field.
document:
  id: {doc_id}
  title: {title}
  publisher: publisher          # the key of an agent below
  # date: 2024-05-01
  # url: https://example.org/the-article
  text: {text}
agents:
  publisher:
    actor: the publisher's name   # a KB actor's label (matched), or a new actor's label with type:
    type: MediaOutlet
statements: {{}}                # e.g. official: {{by: official, when: on Tuesday}}
claims:
  - id: first-claim
    quote: {quote}
    kind: report                # report | assessment | forecast | characterisation
    # hedge: reportedly         # from the KB's hedge vocabulary; hedge_text: the source's own word
    # via: official             # the statement the article has it from
    states:
      - backs: {{backer: ..., backed: ..., support: unspecified support}}
"""


def new_sheet(text_path: Path, sheet_path: Path) -> str:
    """Write a skeleton sheet for a text file (refusing to overwrite); return what was written."""
    if not text_path.is_file():
        raise KBError(f"{text_path}: no such file")
    if sheet_path.exists():
        raise KBError(f"{sheet_path} exists already; not overwritten")
    text = text_path.read_text(encoding="utf-8")
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    title = lines[0] if lines else text_path.stem
    sentence = (lines[1] if len(lines) > 1 else title).split(". ")[0]
    rel = Path(os.path.relpath(text_path.resolve(), sheet_path.resolve().parent))
    out = SKELETON.format(text=_q(str(rel)), sheet=sheet_path.name, doc_id=slug(text_path.stem),
                          title=_q(title), quote=_q(sentence))
    sheet_path.write_text(out, encoding="utf-8")
    return out


def _q(value: str) -> str:
    """A YAML double-quoted scalar (JSON's string syntax is YAML's)."""
    import json

    return json.dumps(value, ensure_ascii=False)
