"""One suite, three engines: embedded Oxigraph, Oxigraph server and Virtuoso give the same answers.

Every engine is loaded by ``ckb load``; then the ``ckb`` commands, the web pages and the
eleven competency questions run on each and are compared with the embedded store. Where
Virtuoso cannot run a standard query, the test names the upstream limitation (xfail, strict:
it fails the day Virtuoso answers right).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from rdflib import BNode, Graph, Literal
from rdflib.compare import isomorphic

from kb import KnowledgeBase
from kb.cli.main import main
from tests.engines import ROOT, Server
from webui import create_app

pytestmark = pytest.mark.remote

QUERIES = sorted((ROOT / "ontology" / "queries").glob("*.rq"))
ENGINES = ("embedded", "oxigraph", "virtuoso")

# Virtuoso 7.2.5 (Debian's virtuoso-opensource 7.2.5.1+dfsg1-0.3): evidence in the README.
ZERO_OR_MORE = ("Virtuoso 7.2.5 returns no rows for a zero-or-more property path (p*) joined with other "
                "patterns; splitting a/rdfs:subClassOf* into two patterns, or dropping the *, answers")
EXISTS_AS_INTEGER = ("Virtuoso 7.2.5 gives EXISTS as the integer 1 or 0, not the xsd:boolean SPARQL 1.1 "
                     "defines (BIND (EXISTS {...} AS ?anonymous))")
VIRTUOSO_LIMITS = {
    "b-intra-camp-clashes": ZERO_OR_MORE,
    "c-clash-source-chains": ZERO_OR_MORE,
    "e-iran-deployed-fighters": ZERO_OR_MORE,
    "g-idlib": ZERO_OR_MORE,
    "k-claim-chain": EXISTS_AS_INTEGER,
}


@pytest.fixture(scope="module")
def embedded_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    store = tmp_path_factory.mktemp("parity") / "store"
    # No claim index: only the embedded store keeps one (tests/test_claimindex.py compares it).
    assert main(["--store", str(store), "load", "--no-index"]) == 0
    return store


@pytest.fixture(scope="module", params=ENGINES)
def engine(request: pytest.FixtureRequest, embedded_store: Path) -> Iterator[tuple[str, list[str]]]:
    """(engine name, the ckb options that select it), loaded with the bundle by ``ckb load``."""
    if request.param == "embedded":
        yield "embedded", ["--store", str(embedded_store)]
        return
    server: Server = request.getfixturevalue(request.param)
    args = ["--endpoint", server.query, "--update-endpoint", server.update]
    assert main([*args, "load"]) == 0
    yield request.param, args


def _ckb(capsys: pytest.CaptureFixture[str], args: list[str], *command: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main([*args, *command])
    return code, capsys.readouterr().out


def _open(args: list[str]) -> KnowledgeBase:
    if args[0] == "--store":
        return KnowledgeBase.open(args[1], read_only=True)
    return KnowledgeBase.open(endpoint=args[1], update_endpoint=args[3])


COMMANDS = [
    ("query", "--format", "csv", "SELECT ?s ?l WHERE { ?s a ckb:ArmedGroup ; rdfs:label ?l } ORDER BY ?s ?l"),
    ("query", "--format", "json", "ASK { ckbr:Hezbollah ?p ?o }"),
    ("query", "--format", "nt", "CONSTRUCT { ckbr:Hezbollah ?p ?o } WHERE { ckbr:Hezbollah ?p ?o }"),
    ("describe", "Hezbollah"),
    ("search", "republican guard"),
    ("export", "--graph", "data", "--format", "nq"),
    ("export", "--format", "nq"),
    ("export", "--entity", "Hezbollah", "--format", "nt"),
    ("validate",),
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c[:3])[:40])
def test_ckb_commands_answer_alike(
    engine: tuple[str, list[str]], embedded_store: Path, command: tuple[str, ...],
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out = _ckb(capsys, engine[1], *command)
    if command not in _EMBEDDED:
        _EMBEDDED[command] = _ckb(capsys, ["--store", str(embedded_store)], *command)
    want_code, want = _EMBEDDED[command]
    assert (code, _lines(out)) == (want_code, _lines(want))


_EMBEDDED: dict[tuple[str, ...], tuple[int, str]] = {}  # each command's answer on the embedded store


def _lines(text: str) -> list[str]:
    # N-Triples/N-Quads lines come in the engine's order; blank-node labels are the engine's own.
    lines = [re.sub(r"_:[A-Za-z0-9]+", "_:b", line) for line in text.splitlines()]
    return sorted(lines) if any(line.endswith(" .") for line in lines) else lines


PAGES = ["/", "/query", "/ontology", "/timeline", "/map", "/api/map/clusters?zoom=3", "/reader",
         "/id/Hezbollah", "/search?q=guard",
         "/entity?iri=https%3A%2F%2Fw3id.org%2Fconflict-kb%2Fid%2FIran", "/api/timeline",
         "/api/neighbourhood?iri=https%3A%2F%2Fw3id.org%2Fconflict-kb%2Fid%2FHezbollah",
         "/export/conflict-kb-data.nt", "/sparql?query=SELECT%20%3Fs%20WHERE%20%7B%3Fs%20a%20ckb%3AState%7D"
         "%20ORDER%20BY%20%3Fs&format=csv",
         # The analyst's pages (issue 23): every kind of page, with facets.
         "/actors", "/actors?relation=fought", "/actors?relation=backs", "/map", "/api/map",
         "/claims", "/claims?hedge=reportedly",
         "/claims?actor=https://w3id.org/conflict-kb/id/Russia", "/id/Russia", "/id/Iran",
         "/id/SyrianRepublicanGuard", "/id/event-infighting", "/id/BasNews", "/id/AhmedRahal",
         "/id/IdlibProvince", "/id/doc-russia-iran-infighting-syria",
         "/source?iri=https%3A%2F%2Fw3id.org%2Fconflict-kb%2Fid%2FBasNews",
         "/api/search?q=hez", "/api/terms?q=Clash"]


@pytest.mark.parametrize("page", PAGES)
def test_pages_show_alike(engine: tuple[str, list[str]], kb: KnowledgeBase, page: str) -> None:
    with _open(engine[1]) as k:
        got = create_app({"KB": k, "TESTING": True}).test_client().get(page)
    want = create_app({"KB": kb, "TESTING": True}).test_client().get(page)
    assert (got.status_code, got.mimetype) == (want.status_code, want.mimetype)
    if got.mimetype in RDF_PAGES:  # RDF: the same graph, however each engine writes it
        fmt = RDF_PAGES[got.mimetype]
        assert isomorphic(Graph().parse(data=got.data, format=fmt), Graph().parse(data=want.data, format=fmt))
    else:
        assert _page(got.data) == _page(want.data)


RDF_PAGES = {"text/turtle": "turtle", "application/n-triples": "nt", "application/ld+json": "json-ld"}


def _page(body: bytes) -> list[str]:
    text = body.decode("utf-8", "replace")
    # Blank-node labels are each engine's own (Virtuoso's nodeID:// ones become x6e6f6465...).
    text = re.sub(r"_:[A-Za-z0-9]+|(?<=[\"/=])x6e6f6465[A-Za-z0-9%]*", "_:b", text)
    text = re.sub(r"\b\d+(\.\d+)? ?ms\b", "N ms", text)  # timings
    # A server's graph sizes say when the KB counted them (kb.store.registry); embedded ones are live.
    text = re.sub(r' title="counted [^"]*"|<p class="note" id="counts-stale">.*?</p>', "", text)
    if not text.lstrip().startswith("<"):
        return _lines(text)
    # Lists that no query orders (a claim's subjects, say) come in the engine's order.
    anchor = re.compile(r"<a [^>]*>.*?</a>")
    return sorted(anchor.sub("", line) + " ".join(sorted(anchor.findall(line)))
                  for line in text.splitlines())


@pytest.mark.parametrize("path", QUERIES, ids=lambda p: p.stem)
def test_competency_questions_answer_alike(
    engine: tuple[str, list[str]], kb: KnowledgeBase, path: Path, request: pytest.FixtureRequest
) -> None:
    if engine[0] == "virtuoso" and path.stem in VIRTUOSO_LIMITS:
        # Strict where Virtuoso always fails. Its plans for p* joins vary with the data: question
        # b answered nothing on the earlier data and answers right on today's, so those are not strict.
        strict = VIRTUOSO_LIMITS[path.stem] is EXISTS_AS_INTEGER
        request.applymarker(pytest.mark.xfail(reason=VIRTUOSO_LIMITS[path.stem], strict=strict))
    sparql = path.read_text(encoding="utf-8")
    with _open(engine[1]) as k:
        got = k.query(sparql)
    want = kb.query(sparql)
    assert want.rows, f"{path.stem} answers nothing on the embedded store"
    strict = engine[0] != "virtuoso"
    assert _rows(got.rows, strict) == _rows(want.rows, strict)


def _rows(rows: list[dict], strict: bool) -> list[list[tuple[str, object]]]:
    """Rows as sorted comparable values: GROUP_CONCAT order is the engine's (SPARQL leaves it open)."""

    def value(term: object) -> object:
        if isinstance(term, BNode):
            return "_:b"
        if isinstance(term, Literal):
            parts = tuple(sorted(re.split(r"[;,] | \| ", str(term))))  # GROUP_CONCAT separators
            # SPARQL 1.1 makes GROUP_CONCAT a simple literal; Oxigraph keeps a common language.
            return (parts, term.datatype, term.language if strict else None)
        return str(term)

    def kept(term: object) -> bool:
        # Virtuoso makes GROUP_CONCAT over only unbound values "", where Oxigraph leaves it unbound.
        return strict or not (isinstance(term, Literal) and str(term) == "" and not term.language)

    return sorted(sorted((k, value(v)) for k, v in row.items() if kept(v)) for row in rows)
