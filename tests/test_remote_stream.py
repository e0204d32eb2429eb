"""Imports to a SPARQL server stream: the client's memory does not grow with the file (issue 23)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kb import KnowledgeBase, ParseError
from kb.namespaces import import_graph
from tests.engines import Server

pytestmark = pytest.mark.remote

# Runs the CLI in a fresh interpreter and prints that process's peak resident memory.
PEAK = ("import resource, sys; from kb.cli.main import main; code = main(sys.argv[1:]); "
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024, code)")


def _peak_mib(server: Server, *args: str) -> int:
    cli = ["--endpoint", server.query, "--update-endpoint", server.update, *args]
    out = subprocess.run([sys.executable, "-c", PEAK, *cli], capture_output=True, text=True, timeout=600)
    peak, code = out.stdout.split()[-2:]
    assert code == "0", out.stderr
    return int(peak)


def _triples(path: Path, n: int, broken_at: int | None = None) -> Path:
    with path.open("w", encoding="utf-8") as f:
        for i in range(n):
            if i == broken_at:
                f.write("<http://example.org/s> <http://example.org/p> oops .\n")
            f.write(f"<http://example.org/s{i}> <http://example.org/p{i % 7}> \"value {i} of the file\" .\n")
    return path


def test_a_big_import_does_not_grow_the_client(oxigraph: Server, tmp_path: Path) -> None:
    rest = _peak_mib(oxigraph, "query", "ASK {}")
    big = _triples(tmp_path / "big.nt", 120_000)  # about 9 MB; held whole it costs the client ~90 MiB
    grown = _peak_mib(oxigraph, "import", str(big)) - rest
    assert grown < 40, f"the client grew by {grown} MiB importing 120,000 triples"
    with KnowledgeBase.open(endpoint=oxigraph.query) as k:
        assert k.graphs()[import_graph("big")] == 120_000


def test_a_parse_error_after_chunks_were_sent_leaves_nothing(oxigraph: Server, tmp_path: Path) -> None:
    with KnowledgeBase.open(endpoint=oxigraph.query, update_endpoint=oxigraph.update) as k:
        k.load()
        before = k.graphs()
        bad = _triples(tmp_path / "late.nt", 50_000, broken_at=45_000)  # two full chunks go first
        with pytest.raises(ParseError) as err:
            k.import_file(bad)
        assert err.value.line == 45_001
        assert k.graphs() == before
        assert not k.query("ASK { GRAPH ?g { <http://example.org/s1> ?p ?o } }").boolean
