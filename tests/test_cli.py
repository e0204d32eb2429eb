"""The ``ckb`` command line, run for real in subprocesses against temporary stores."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
import warnings
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from rdflib import RDFS, Dataset, Graph
from rdflib.compare import isomorphic

import kb

COUNT_ALL = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
CLASSES = "SELECT ?c ?label WHERE { ?c a owl:Class ; rdfs:label ?label } ORDER BY ?c LIMIT 5"
CONSTRUCT = "CONSTRUCT { ?c a owl:Class ; rdfs:label ?l } WHERE { ?c a owl:Class ; rdfs:label ?l }"
CROSS = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
SEARCH_TTL = """@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix x: <https://example.org/cli-test/> .
x:substring rdfs:label "Antizorbexian league" .
x:word rdfs:label "The Zorbex Front" .
x:prefix rdfs:label "Zorbex Brigade" .
x:exact rdfs:label "Zorbex" .
x:alias rdfs:label "Northern group" ; skos:altLabel "Zorbex North" .
"""


def ckb(*args: str, store: Path | None = None, timeout: float = 120,
        env: dict[str, str] | None = None, stdin: str | None = None
        ) -> subprocess.CompletedProcess[str]:
    """Run the real CLI in a subprocess and capture its output."""
    full_env = {**os.environ, **(env or {})}
    full_env.pop("CKB_STORE", None)
    cmd = [sys.executable, "-m", "kb.cli", *args]
    if store is not None:
        cmd += ["--store", str(store)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=full_env,
                          input=stdin)


def assert_clean_error(proc: subprocess.CompletedProcess[str]) -> str:
    """Exit status 2 and exactly one ``ckb: error:`` line on stderr, never a traceback."""
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr + proc.stdout
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ckb: error: "), proc.stderr
    return lines[0]


def parse(data: str | Path, fmt: str) -> Graph | Dataset:
    """Parse with rdflib (a Dataset for nq/trig); rdflib's own parsers use deprecated APIs."""
    fmt = {"nq": "nquads", "jsonld": "json-ld"}.get(fmt, fmt)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        target = Dataset() if fmt in ("nquads", "trig") else Graph()
        if isinstance(data, Path):
            target.parse(data, format=fmt)
        else:
            target.parse(data=data, format=fmt)
    return target


def count_all(store: Path) -> int:
    proc = ckb("query", COUNT_ALL, "--format", "json", store=store)
    assert proc.returncode == 0, proc.stderr
    return int(json.loads(proc.stdout)["results"]["bindings"][0]["n"]["value"])


@pytest.fixture(scope="session")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store built once by ``ckb load`` and only read afterwards."""
    path = tmp_path_factory.mktemp("cli") / "store"
    proc = ckb("load", store=path)
    assert proc.returncode == 0, proc.stderr
    return path


@pytest.fixture
def own_store(store: Path, tmp_path: Path) -> Path:
    """A private copy of the loaded store, for tests that write."""
    copy = tmp_path / "store"
    shutil.copytree(store, copy)
    return copy


def test_version():
    proc = ckb("--version")
    assert proc.returncode == 0
    assert proc.stdout.strip() == f"ckb {kb.__version__}"


def test_installed_console_script(store):
    script = Path(sys.executable).parent / "ckb"
    if not script.exists():
        pytest.skip("the ckb script is not installed in this environment (pip install -e .)")
    proc = subprocess.run([str(script), "query", "ASK { ?s ?p ?o }", "--store", str(store)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "true"


def test_fresh_store_is_loaded_on_first_use(tmp_path):
    assert count_all(tmp_path / "new-store") > 100


def test_memory_store_works_without_a_folder(tmp_path):
    proc = ckb("--memory", "query", COUNT_ALL, "--format", "csv")
    assert proc.returncode == 0, proc.stderr
    assert int(proc.stdout.splitlines()[1]) > 100


def test_query_json_is_sparql_results_json(store):
    proc = ckb("query", CLASSES, "--format", "json", store=store)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["head"]["vars"] == ["c", "label"]
    rows = doc["results"]["bindings"]
    assert len(rows) == 5
    assert all(r["c"]["type"] == "uri" and r["label"]["type"] == "literal" for r in rows)


def test_query_from_file_and_stdin(store, tmp_path):
    rq = tmp_path / "q.rq"
    rq.write_text("# how many?\n" + COUNT_ALL, encoding="utf-8")
    from_file = ckb("query", "-f", str(rq), "--format", "csv", store=store)
    from_stdin = ckb("query", "-f", "-", "--format", "csv", store=store, stdin=COUNT_ALL)
    assert from_file.returncode == 0 and from_file.stdout == from_stdin.stdout


@pytest.mark.parametrize("fmt", ["table", "json", "csv", "tsv", "xml"])
def test_each_select_format(store, fmt):
    proc = ckb("query", CLASSES, "--format", fmt, store=store)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    if fmt == "table":
        lines = out.splitlines()
        assert lines[0].split() == ["?c", "?label"]
        assert set(lines[1]) <= {"-", " "}
        # IRIs are compacted with the KB prefixes (ORDER BY puts full IRIs first otherwise).
        assert all(":" in line.split()[0] and not line.startswith("<") for line in lines[2:7])
        assert lines[7].startswith("(5 rows")
        # Aligned: the label column starts at the same offset on every row.
        col = lines[0].index("?label")
        assert all(line[col - 2:col] == "  " and line[col] != " " for line in lines[2:7])
    elif fmt == "json":
        assert len(json.loads(out)["results"]["bindings"]) == 5
    elif fmt == "csv":
        rows = list(csv.reader(io.StringIO(out)))
        assert rows[0] == ["c", "label"] and len(rows) == 6
    elif fmt == "tsv":
        lines = out.splitlines()
        assert lines[0] == "?c\t?label" and len(lines) == 6 and lines[1].startswith("<")
    else:
        ns = "{http://www.w3.org/2005/sparql-results#}"
        assert len(ET.fromstring(out).findall(f"{ns}results/{ns}result")) == 5


@pytest.mark.parametrize("fmt", ["turtle", "nt", "jsonld", "xml"])
def test_each_graph_format_gives_the_same_graph(store, fmt):
    reference = parse(ckb("query", CONSTRUCT, "--format", "nt", store=store).stdout, "nt")
    proc = ckb("query", CONSTRUCT, "--format", fmt, store=store)
    assert proc.returncode == 0, proc.stderr
    parsed = parse(proc.stdout, fmt)
    assert len(reference) > 10 and isomorphic(parsed, reference)


def test_construct_defaults_to_turtle_and_table_lists_triples(store):
    proc = ckb("query", CONSTRUCT, store=store)
    assert proc.returncode == 0 and "@prefix owl:" in proc.stdout
    table = ckb("query", CONSTRUCT, "--format", "table", store=store)
    assert table.stdout.splitlines()[0].split() == ["subject", "predicate", "object"]


def test_format_that_does_not_fit_the_result_is_a_clear_error(store):
    line = assert_clean_error(ckb("query", CONSTRUCT, "--format", "csv", store=store))
    assert "CONSTRUCT" in line and "turtle" in line
    assert_clean_error(ckb("query", CLASSES, "--format", "turtle", store=store))


def test_truncation_is_reported_on_stderr(store):
    proc = ckb("query", "SELECT ?s WHERE { ?s ?p ?o }", "--limit", "3", "--format", "csv",
               store=store)
    assert proc.returncode == 0
    assert len(proc.stdout.splitlines()) == 4
    assert "truncated at 3 rows" in proc.stderr


def test_syntax_error_gives_line_and_column_and_exit_2(store):
    line = assert_clean_error(ckb("query", "SELECT ?s\nWHERE { ?s ?p }", store=store))
    assert "line 2, column" in line


def test_bad_arguments_are_one_line_errors(store, tmp_path):
    assert_clean_error(ckb("frobnicate", store=store))
    assert_clean_error(ckb("query", "--limit", "zero", "ASK {}", store=store))
    line = assert_clean_error(ckb("query", "-f", str(tmp_path / "missing.rq"), store=store))
    assert "missing.rq" in line
    assert_clean_error(ckb("query", store=store))  # neither text nor -f


@pytest.mark.parametrize("query", [
    "SELECT * WHERE {{ SERVICE <http://127.0.0.1:{port}/sparql> {{ ?s ?p ?o }} }}",
    "SELECT * WHERE {{ ?x ?y ?z . {{ SELECT * WHERE {{ service silent "
    "<http://127.0.0.1:{port}/> {{ ?s ?p ?o }} }} }} }}",
])
def test_service_makes_no_connection(store, listener, query):
    port, hits = listener
    line = assert_clean_error(ckb("query", query.format(port=port), store=store))
    assert "SERVICE" in line
    time.sleep(0.5)
    assert hits == []


@pytest.mark.parametrize("clause", ["FROM", "FROM NAMED"])
def test_from_file_reads_nothing(store, clause):
    # SPARQL: a graph the store lacks is an empty graph. FROM names a graph; it never fetches one.
    proc = ckb("query", f"SELECT * {clause} <file:///etc/passwd> WHERE {{ ?s ?p ?o }}",
               "--format", "json", store=store)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["results"]["bindings"] == []


def _processes_with(marker: str) -> list[int]:
    """Live processes whose environment carries ``marker`` (children inherit it)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker.encode() in (entry / "environ").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def test_pathological_query_times_out_and_leaves_no_process(store):
    marker = f"CKB_TEST_MARKER={uuid.uuid4().hex}"
    name, value = marker.split("=")
    start = time.monotonic()
    proc = ckb("query", CROSS, "--timeout", "2", store=store, env={name: value}, timeout=60)
    elapsed = time.monotonic() - start
    line = assert_clean_error(proc)
    assert "time limit" in line
    assert elapsed < 10, f"took {elapsed:.1f} s"
    deadline = time.monotonic() + 3
    while _processes_with(marker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _processes_with(marker) == [], "a worker outlived the CLI"


def test_malformed_turtle_reports_position_and_changes_nothing(own_store, tmp_path):
    before = count_all(own_store)
    bad = tmp_path / "bad.ttl"
    bad.write_text("@prefix x: <https://example.org/> .\nx:a x:b x:c .\nx:d x:e ;; .\n",
                   encoding="utf-8")
    line = assert_clean_error(ckb("import", str(bad), store=own_store))
    assert f"{bad}:3:" in line
    good = tmp_path / "good.ttl"
    good.write_text("<https://example.org/s> <https://example.org/p> 1 .\n", encoding="utf-8")
    line = assert_clean_error(ckb("load", str(good), str(bad), store=own_store))
    assert f"{bad}:3:" in line
    assert count_all(own_store) == before


def test_import_adds_a_graph(own_store, tmp_path):
    src = tmp_path / "extra.ttl"
    src.write_text("<https://example.org/s> <https://example.org/p> 1, 2 .\n", encoding="utf-8")
    proc = ckb("import", str(src), "--name", "extra", store=own_store)
    assert proc.returncode == 0, proc.stderr
    assert "graph/import/extra>: 2 triples" in proc.stdout


def test_load_rebuilds_from_given_files(own_store, tmp_path):
    src = tmp_path / "only.ttl"
    src.write_text("<https://example.org/s> <https://example.org/p> 1, 2, 3 .\n", encoding="utf-8")
    proc = ckb("load", str(src), store=own_store)
    assert proc.returncode == 0, proc.stderr
    assert count_all(own_store) == 3
    assert ckb("load", store=own_store).returncode == 0
    assert count_all(own_store) > 100


@pytest.mark.parametrize("fmt", ["turtle", "nq", "trig", "jsonld", "xml", "nt"])
def test_export_writes_a_file_that_parses(store, tmp_path, fmt):
    out = tmp_path / f"kb.{fmt}"
    proc = ckb("export", "--graph", "all", "--format", fmt, "-o", str(out), store=store)
    assert proc.returncode == 0, proc.stderr
    parsed = parse(out, fmt)
    if fmt in ("nq", "trig"):
        # Everything a query sees, plus the SHACL shapes, kept beside the store.
        shapes = store.with_name(store.name + ".shapes.nt").read_text(encoding="utf-8").count("\n")
        assert len(list(parsed.quads((None, None, None, None)))) == count_all(store) + shapes
    else:
        assert len(parsed) > 100
    assert sorted(p.name for p in tmp_path.iterdir()) == [out.name]  # no temp files left


def test_export_format_from_extension_and_one_graph(store, tmp_path):
    out = tmp_path / "ontology.nt"
    assert ckb("export", "--graph", "ontology", "-o", str(out), store=store).returncode == 0
    first = out.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("<") and first.endswith(" .")


def test_failed_export_leaves_the_old_file_untouched(store, tmp_path):
    out = tmp_path / "keep.ttl"
    out.write_text("old content\n", encoding="utf-8")
    assert_clean_error(ckb("export", "--graph", "no-such-graph", "-o", str(out), store=store))
    assert out.read_text(encoding="utf-8") == "old content\n"
    assert_clean_error(ckb("export", "-o", str(tmp_path / "missing" / "x.ttl"), store=store))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.ttl"]


def _some_label(store: Path) -> tuple[str, str]:
    q = ("SELECT ?c ?l WHERE { ?c a owl:Class ; rdfs:label ?l . "
         "FILTER(STRSTARTS(STR(?c), STR(ckb:))) } ORDER BY ?c LIMIT 1")
    row = json.loads(ckb("query", q, "--format", "json", store=store).stdout)
    binding = row["results"]["bindings"][0]
    return binding["c"]["value"], binding["l"]["value"]


def test_describe_by_label(store):
    iri, label = _some_label(store)
    proc = ckb("describe", label, store=store)
    assert proc.returncode == 0, proc.stderr
    first = proc.stdout.splitlines()[0]
    assert label in first and "ckb:" + iri.split("#")[1] in first
    assert "statements:" in proc.stdout
    ttl = ckb("describe", label, "--format", "turtle", store=store)
    assert len(parse(ttl.stdout, "turtle")) > 0


def test_describe_unknown_entity_is_a_clear_error(store):
    assert_clean_error(ckb("describe", "No Such Thing Anywhere 12345", store=store))


def test_search_ranks_exact_then_prefix_then_word_then_substring(own_store, tmp_path):
    src = tmp_path / "search.ttl"
    src.write_text(SEARCH_TTL, encoding="utf-8")
    assert ckb("import", str(src), store=own_store).returncode == 0
    proc = ckb("search", "zorbex", store=own_store)
    assert proc.returncode == 0, proc.stderr
    iris = [line.split()[-1] for line in proc.stdout.splitlines()[2:]]
    order = [i.rsplit("/", 1)[-1].rstrip(">") for i in iris]
    assert order[0] == "exact"
    assert order.index("prefix") < order.index("word") < order.index("substring")
    assert "alias" in order  # found through skos:altLabel


def test_validate_bundled_data_conforms(store):
    proc = ckb("validate", store=store)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith("conforms")


def test_reason_without_java_serves_shipped_inferences(own_store):
    graphs_before = ckb("query", COUNT_ALL, "--format", "csv", store=own_store).stdout
    # A PATH without any java: owlready2 cannot find a Java runtime.
    proc = ckb("reason", store=own_store, env={"PATH": str(Path(sys.executable).parent)})
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Java" in lines[0] and "inferred" in lines[0]
    assert ckb("query", COUNT_ALL, "--format", "csv", store=own_store).stdout == graphs_before


def test_no_progress_output_when_stderr_is_not_a_terminal(tmp_path):
    for args in (["load"], ["export", "-o", str(tmp_path / "kb.ttl")]):
        proc = ckb(*args, store=tmp_path / "s")
        assert proc.returncode == 0
        assert proc.stderr == ""


def test_progress_shows_on_a_terminal(tmp_path):
    import pty

    primary, secondary = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k != "CKB_STORE"}
    proc = subprocess.Popen([sys.executable, "-m", "kb.cli", "load", "--store",
                             str(tmp_path / "s")], stdout=subprocess.DEVNULL, stderr=secondary,
                            env=env)
    os.close(secondary)
    chunks = []
    while True:
        try:
            data = os.read(primary, 4096)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=60)
    os.close(primary)
    assert proc.returncode == 0
    assert b"loading" in b"".join(chunks)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_answers_sparql_on_loopback(store):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "CKB_STORE"}
    server = subprocess.Popen([sys.executable, "-m", "kb.cli", "serve", "--store", str(store),
                               "--port", str(port)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, env=env)
    try:
        url = f"http://127.0.0.1:{port}/sparql?query=ASK%7B%7D"
        deadline = time.monotonic() + 30
        while True:
            try:
                req = urllib.request.Request(
                    url, headers={"Accept": "application/sparql-results+json"})
                with urllib.request.urlopen(req, timeout=5) as resp:
                    assert json.loads(resp.read())["boolean"] is True
                    break
            except OSError:
                assert server.poll() is None, server.stderr.read().decode()
                assert time.monotonic() < deadline, "server did not come up"
                time.sleep(0.3)
    finally:
        server.terminate()
        server.communicate(timeout=30)


def test_validate_lists_each_violation_and_exits_1(own_store, tmp_path):
    bad = tmp_path / "bad-actors.ttl"
    bad.write_text("@prefix ckb: <https://w3id.org/conflict-kb/ontology#> .\n"
                   "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
                   "<https://example.org/nameless> a ckb:Actor .\n"
                   "<https://example.org/twonames> a ckb:Actor ; rdfs:label \"A\", \"B\" .\n",
                   encoding="utf-8")
    assert ckb("import", str(bad), store=own_store).returncode == 0
    proc = ckb("validate", store=own_store)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    out = proc.stdout
    assert out.startswith("does not conform")
    header = out.splitlines()[1].split()
    assert header == ["severity", "focus", "path", "constraint", "message"]
    for focus in ("<https://example.org/nameless>", "<https://example.org/twonames>"):
        line = next(ln for ln in out.splitlines() if focus in ln)
        assert "rdfs:label" in line and "exactly one rdfs:label" in line
    assert "sh:MinCountConstraintComponent" in out and "sh:MaxCountConstraintComponent" in out


def test_table_rendering_aligns_wide_text_and_neutralises_control_characters():
    from rdflib import Literal, URIRef

    from kb.cli.table import cell, compact, table, width
    from kb.namespaces import PREFIXES

    assert compact(PREFIXES["ckbr"] + "hts", PREFIXES) == "ckbr:hts"
    assert compact("https://example.org/x", PREFIXES) == "<https://example.org/x>"
    assert compact(PREFIXES["ckbr"] + "has space", PREFIXES).startswith("<")
    assert cell(URIRef(PREFIXES["ckb"] + "Actor"), PREFIXES) == "ckb:Actor"
    assert cell(Literal("x", lang="en"), PREFIXES) == "x"
    out = table(["name", "n"], [["日本語", "1"], ["abc", "2"], ["a\nb\x1b[31m", "3"]])
    lines = out.splitlines()
    assert "\x1b" not in out and "\n" not in lines[4]
    # The second column starts at the same display column on every row.
    starts = {width(line[: line.rstrip().rfind(" ") + 1]) for line in lines[2:]}
    assert len(starts) == 1
    long = table(["a", "b"], [["x" * 100, "y" * 100]]).splitlines()[2]
    assert "…" in long.split()[0] and long.endswith("y" * 100)  # only the last column is uncut


def test_reads_work_while_another_process_holds_the_store(tmp_path: Path) -> None:
    store = tmp_path / "held"
    assert count_all(store) > 0  # first use loads the bundle
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, kb; k = kb.KnowledgeBase.open(sys.argv[1]); "
         "print('open', flush=True); sys.stdin.read()", str(store)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        assert count_all(store) > 0  # falls back to a read-only open
        line = assert_clean_error(ckb("load", store=store))
        assert "another process" in line
    finally:
        holder.communicate("", timeout=30)


def test_endpoint_option_reaches_a_sparql_server() -> None:
    # Nothing listens on this loopback port: the error must name the server, in one line.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    line = assert_clean_error(ckb("--endpoint", f"http://127.0.0.1:{port}/query", "query", "ASK {}"))
    assert f"127.0.0.1:{port}" in line


def test_export_a_construct_result(store: Path, tmp_path: Path) -> None:
    rq = tmp_path / "proxies.rq"
    rq.write_text("CONSTRUCT { ?p a ckb:ProxyForce ; rdfs:label ?l } "
                  "WHERE { ?p a ckb:ProxyForce ; rdfs:label ?l }", encoding="utf-8")
    out = tmp_path / "proxies.ttl"
    proc = ckb("export", "--query", f"@{rq}", "-o", str(out), store=store)
    assert proc.returncode == 0, proc.stderr
    graph = parse(out, "turtle")
    labels = {str(o) for o in graph.objects(None, RDFS.label)}
    assert "Hezbollah" in labels and len(graph) == 2 * len(labels)
    line = assert_clean_error(ckb("export", "--query", "SELECT * WHERE { ?s ?p ?o }", store=store))
    assert "CONSTRUCT" in line
