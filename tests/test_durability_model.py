"""Nothing acknowledged is ever lost: a model-based test of the disk store (issue 18).

A Hypothesis state machine drives random sequences of every write and maintenance operation of
the embedded disk store against a reference model, an in-memory pyoxigraph Store that applies the
same operations (tests/durability_ops.py): SPARQL updates with and without GRAPH; Graph Store
writes and deletes on the default and named graphs, through kb.store.graphstore and through the
web app; imports of every RDF format; dataset imports and re-imports; ``ckb load``, ``ckb reason``,
``ckb index`` and the keeper's index build; restarts; and ``kill -9`` at every named crash point.
After every step the store's quads, default graph included, equal the model's (IGNORED_GRAPHS,
now empty, would list any left out), the store's record of graphs and counts agrees, and every
answer the step gave (a count, "created", "not found", a status code, a query's rows, a clean
reopen) is true of both.

CI runs a fixed seed and a bounded budget; benchmarks/soak_durability.py runs the same machine
for thousands of steps (CKB_DURABILITY_EXAMPLES / CKB_DURABILITY_STEPS size it here too).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections import Counter
from pathlib import Path
from urllib.parse import quote

import pyoxigraph as ox
from hypothesis import HealthCheck, assume, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from kb import KnowledgeBase
from kb.derived import claimindex
from kb.errors import KBError, NotFound
from kb.namespaces import GRAPH_BASE, import_graph
from kb.query.engine import DEFAULT_GRAPH
from kb.store import graphstore
from tests.durability_ops import (
    FORMATS,
    GRAPHS,
    GSP_FORMATS,
    IGNORED_GRAPHS,
    IMPORT_NAMES,
    PATTERN_UPDATES,
    TOKEN,
    TRIPLES,
    Model,
    committed,
    counts,
    crash_points,
    ged_files,
    insert_text,
    iri,
    pick,
    quads,
    row_key,
    run_child,
    visible,
    write_rdf,
)

CRASH_POINTS = crash_points()
KILLS: Counter[str] = Counter()  # which operation was killed where (the soak prints it)
# Rules a run may leave out (comma-separated names), to find the bugs behind the first one.
SKIP = set(filter(None, os.environ.get("CKB_DURABILITY_SKIP", "").split(",")))

# Triples are drawn as indexes into TRIPLES and graphs by short name, so that a failing example
# prints as a readable sequence of operations.
triples = st.lists(st.integers(0, len(TRIPLES) - 1), min_size=1, max_size=4, unique=True)
# "default" / "foreign" in CKB_DURABILITY_SKIP leave the default graph / the client's graph out.
graphs = st.sampled_from([g for g in GRAPHS if not ((g is None and "default" in SKIP)
                                                    or (g == "ex:g" and "foreign" in SKIP))])
crashes = st.one_of(st.none(), st.sampled_from(CRASH_POINTS))


def pairs_in(graph_choice: st.SearchStrategy) -> st.SearchStrategy:
    return st.lists(st.tuples(st.integers(0, len(TRIPLES) - 1), graph_choice), min_size=1, max_size=4,
                    unique=True)


def enabled(name: str):
    return precondition(lambda self: name not in SKIP)


class DurabilityMachine(RuleBasedStateMachine):
    """The disk store under test and the model it must equal after every step."""

    def __init__(self) -> None:
        super().__init__()
        self.tmp = Path(tempfile.mkdtemp(prefix="ckb-durability-"))
        self.path = self.tmp / "store"
        self.model = Model()
        self.ged = ged_files(self.tmp)
        self.files = 0
        self._app, self._app_for = None, None
        self.kb = KnowledgeBase.open(self.path, update_token=TOKEN)

    def teardown(self) -> None:
        if self.kb is not None:
            self.kb.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def _file(self, name: str, ext: str, quads: list[ox.Quad], folder: str = "in") -> Path:
        self.files += 1
        where = self.tmp / folder / str(self.files)  # a fresh folder: the file's stem names its graph
        where.mkdir(parents=True)
        path = where / f"{name}.{ext}"
        write_rdf(path, quads)
        return path

    def _child(self, job: dict, crash: str | None) -> bool:
        """Run ``job`` in a child (the store closed here meanwhile); True if it committed."""
        self.kb.close()
        self.kb = None
        try:
            outcome, _ = run_child({**job, "store": str(self.path)}, crash)
        finally:
            self.kb = KnowledgeBase.open(self.path, update_token=TOKEN)
        if outcome != "acked" or crash:
            KILLS[f"{job['op']} at {crash}: {outcome}"] += 1
        return committed(outcome, crash)

    # -- the start: a small import, as a fresh store would get -----------
    @initialize()
    def seed(self) -> None:
        content = [ox.Quad(t.subject, t.predicate, t.object) for t in (TRIPLES[0], TRIPLES[8], TRIPLES[9])]
        self.kb.import_file(self._file("base", "ttl", content))
        self.model.import_rdf(import_graph("base"), content)

    # -- SPARQL Update ------------------------------------------------------
    @enabled("update_data")
    @rule(graph=graphs, data=triples, verb=st.sampled_from(["INSERT", "DELETE"]))
    def update_data(self, graph: str | None, data: list[int], verb: str) -> None:
        text = insert_text(iri(graph), pick(data), verb)
        self.kb.update(text, token=TOKEN)
        self.model.update(text)

    @enabled("update_pattern")
    @rule(text=st.sampled_from(PATTERN_UPDATES))
    def update_pattern(self, text: str) -> None:
        self.kb.update(text, token=TOKEN)
        self.model.update(text)

    # -- Graph Store Protocol -------------------------------------------------
    @enabled("gsp_write")
    @rule(graph=graphs, data=st.lists(st.integers(0, len(TRIPLES) - 1), max_size=3, unique=True),
          media_type=st.sampled_from(sorted(GSP_FORMATS)), replace=st.booleans())
    def gsp_write(self, graph: str | None, data: list[int], media_type: str, replace: bool) -> None:
        graph, data = iri(graph), pick(data)
        assume(not (media_type == "application/ld+json" and "gsp_jsonld" in SKIP))
        body = ox.serialize(data, format=GSP_FORMATS[media_type])  # empty: a complete empty document
        parsed = graphstore.parse(body, media_type, None)
        created = graphstore.write(self.kb, graph, parsed, replace=replace, token=TOKEN)
        assert created == (graph is not None and not self.model.has(graph)), "Graph Store: wrong 'created'"
        self.model.gsp_write(graph, data, replace)

    @enabled("gsp_delete")
    @rule(graph=graphs)
    def gsp_delete(self, graph: str | None) -> None:
        graph = iri(graph)
        try:
            graphstore.delete(self.kb, graph, token=TOKEN)
            found = True
        except NotFound:
            found = False
        assert found == (graph is None or self.model.has(graph)), "Graph Store DELETE: wrong 'not found'"
        self.model.drop(graph)

    # -- the same over HTTP: the web app's Graph Store and SPARQL endpoints (Flask test client) --
    def _client(self):
        if self._app_for is not self.kb:
            from webui import create_app

            self._app = create_app({"KB": self.kb, "TESTING": True, "UPDATE_TOKEN": TOKEN})
            self._app_for = self.kb
        return self._app.test_client()

    @enabled("http_write")
    @rule(graph=graphs, data=st.lists(st.integers(0, len(TRIPLES) - 1), max_size=3, unique=True),
          method=st.sampled_from(["PUT", "POST", "DELETE", "UPDATE"]))
    def http_write(self, graph: str | None, data: list[int], method: str) -> None:
        graph, data = iri(graph), pick(data)
        auth = {"Authorization": f"Bearer {TOKEN}"}
        if method == "UPDATE":
            text = insert_text(graph, data) if data else "CLEAR SILENT DEFAULT"
            answer = self._client().post("/sparql", data=text.encode(), headers={
                **auth, "Content-Type": "application/sparql-update"})
            assert answer.status_code in (200, 204), (answer.status_code, answer.get_data(as_text=True))
            self.model.update(text)
            return
        where = "/rdf-graph-store?" + ("default" if graph is None else f"graph={quote(graph, safe='')}")
        body = ox.serialize(data, format=ox.RdfFormat.TURTLE)
        answer = self._client().open(where, method=method, data=body, headers={
            **auth, "Content-Type": "text/turtle"})
        existed = graph is None or self.model.has(graph)
        if method == "DELETE":
            assert answer.status_code == (204 if existed else 404), (answer.status_code, answer.get_data())
            self.model.drop(graph)
            return
        assert answer.status_code == (204 if existed else 201), (answer.status_code, answer.get_data())
        self.model.gsp_write(graph, data, replace=method == "PUT")

    # -- imports -----------------------------------------------------------------
    @enabled("import_triples")
    @rule(name=st.sampled_from(IMPORT_NAMES), ext=st.sampled_from(["ttl", "nt", "rdf", "jsonld"]),
          data=pairs_in(st.just(None)))
    def import_triples(self, name: str, ext: str, data: list[tuple[int, None]]) -> None:
        self._import(name, ext, quads(data))

    @enabled("import_quads")
    @rule(name=st.sampled_from(IMPORT_NAMES), ext=st.sampled_from(["nq", "trig"]), data=pairs_in(graphs))
    def import_quads(self, name: str, ext: str, data: list[tuple[int, str | None]]) -> None:
        self._import(name, ext, quads(data))

    def _import(self, name: str, ext: str, data: list[ox.Quad]) -> None:
        path = self._file(name, ext, data)
        try:
            graph = self.kb.import_file(path)
        except KBError as err:
            # A quad file may be refused (issue 18: "or refused with a clear error naming the
            # rule"), and then nothing changes; a triple file never is.
            assert FORMATS[ext].supports_datasets, f"import of {ext} refused: {err}"
            return
        self.model.import_rdf(graph, data)
        assert self.kb.graphs().get(graph, 0) == counts(self.model.store).get(graph, 0), \
            "import: the count the KB reports is not what the graph holds"

    @enabled("dataset_import")
    @rule(csv=st.sampled_from(["A", "A2", "B"]), name=st.sampled_from(["ged-1", "ged-2"]))
    def dataset_import(self, csv: str, name: str) -> None:
        from kb.imports import run_import

        run_import(self.kb, self.ged[csv], "ucdp-ged", name=name)
        self.model.dataset(self.ged[csv], name)

    # -- maintenance -----------------------------------------------------------------
    @enabled("ckb_load")
    @rule(files=st.dictionaries(st.sampled_from(IMPORT_NAMES), triples, min_size=1, max_size=2),
          crash=crashes)
    def ckb_load(self, files: dict[str, list[int]], crash: str | None) -> None:
        files = {name: pick(data) for name, data in files.items()}
        folder = self.tmp / "load" / str(self.files)
        self.files += 1
        paths = []
        for name, data in files.items():
            folder.mkdir(parents=True, exist_ok=True)
            paths.append(folder / f"{name}.ttl")
            write_rdf(paths[-1], [ox.Quad(t.subject, t.predicate, t.object) for t in data])
        if self._child({"op": "load", "files": [str(p) for p in paths]}, crash):
            self.model.load(files)

    @precondition(lambda self: "ckb_index" not in SKIP
                  and any(g.startswith(GRAPH_BASE) for g in counts(self.model.store)))
    @rule(crash=crashes)
    def ckb_index(self, crash: str | None) -> None:
        self._child({"op": "index"}, crash)  # derived only: the model does not change

    @precondition(lambda self: "ckb_reason" not in SKIP
                  and any(g.startswith(GRAPH_BASE) for g in counts(self.model.store)))
    @rule(crash=crashes)
    def ckb_reason(self, crash: str | None) -> None:
        if self._child({"op": "reason"}, crash):
            self.model.reason()

    @enabled("keeper_index")
    @rule()
    def keeper_index(self) -> None:
        claimindex.build(self.kb)  # what the Keeper of 'ckb serve' runs after a write

    @enabled("restart")
    @rule()
    def restart(self) -> None:
        self.kb.close()
        self.kb = None
        self.kb = KnowledgeBase.open(self.path, update_token=TOKEN)
        assert self.kb.backend.recovered is None, f"a clean restart recovered: {self.kb.backend.recovered}"

    # -- what a client reads -------------------------------------------------------------
    @enabled("query")
    @rule()
    def query(self) -> None:
        """SPARQL through the KB's query path (a worker reading the disk store) answers as the model."""
        model = visible(self.model.store)
        rows = self.kb.query("SELECT ?g ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } }").rows
        named = {row_key(r, f"<{r['g']}>") for r in rows if str(r["g"]) not in IGNORED_GRAPHS}
        assert named == {k for k in model if k[3] != "DEFAULT"}, (
            f"GRAPH ?g answers differ from the model: only in the answer {sorted(named - model)[:4]}; "
            f"only in the model {sorted({k for k in model if k[3] != 'DEFAULT'} - named)[:4]}")
        rows = self.kb.query("SELECT ?s ?p ?o WHERE { ?s ?p ?o }", default_graphs=[DEFAULT_GRAPH]).rows
        default = {row_key(r) for r in rows}
        assert default == {k for k in model if k[3] == "DEFAULT"}, "the default graph's answer differs"
        # The union default graph (no dataset given): every triple of the model, nothing derived.
        union = {row_key(r)[:3] for r in self.kb.query("SELECT ?s ?p ?o WHERE { ?s ?p ?o }").rows}
        assert union == {k[:3] for k in model}, "the union default graph's answer differs"

    # -- kill -9 at a named crash point ----------------------------------------------
    @enabled("crash_write")
    @rule(point=st.sampled_from(CRASH_POINTS), op=st.sampled_from(["update", "gsp", "import", "dataset"]),
          graph=graphs, data=triples, name=st.sampled_from(IMPORT_NAMES),
          ext=st.sampled_from(sorted(FORMATS)), csv=st.sampled_from(["A", "A2", "B"]))
    def crash_write(self, point: str, op: str, graph: str | None, data: list[int], name: str,
                    ext: str, csv: str) -> None:
        graph, data = iri(graph), pick(data)
        content = [ox.Quad(t.subject, t.predicate, t.object) for t in data]
        if op == "update":
            job = {"op": "update", "text": insert_text(graph, data)}
        elif op == "gsp":
            job = {"op": "gsp", "graph": graph, "media_type": "application/n-triples", "replace": True,
                   "body": ox.serialize(data, format=ox.RdfFormat.N_TRIPLES).decode()}
        elif op == "import":
            job = {"op": "import", "file": str(self._file(name, ext, content)), "name": name}
        else:
            job = {"op": "dataset", "file": str(self.ged[csv]), "name": "ged-1"}
        if not self._child(job, point):
            return
        if op == "update":
            self.model.update(job["text"])
        elif op == "gsp":
            self.model.gsp_write(graph, data, replace=True)
        elif op == "import":
            self.model.import_rdf(import_graph(name), content)
        else:
            self.model.dataset(self.ged[csv], "ged-1")

    # -- after every step ----------------------------------------------------------------
    @invariant()
    def store_equals_model(self) -> None:
        # No local reference to the store: a failing step's traceback must not keep RocksDB open.
        actual, expected = visible(self.kb.backend.store), visible(self.model.store)
        assert actual == expected, (
            f"store and model differ: only in the store {sorted(actual - expected)[:6]}; "
            f"only in the model {sorted(expected - actual)[:6]}")
        recorded = {g: n for g, n in self.kb.backend.graphs().items() if n and g not in IGNORED_GRAPHS}
        assert recorded == counts(self.model.store), (
            f"the store's record of graphs and counts is off: {recorded}, model: {counts(self.model.store)}")
        debris = [p.name for p in self.tmp.iterdir() if ".rebuild-" in p.name or ".old-" in p.name]
        assert not debris, f"debris beside the store: {debris}"

    @invariant()
    def every_actor_named(self) -> None:
        # Each import stands on its own: no import leaves an actor its events name without a name.
        assert self.model.unnamed_actors() == [], "actors lost their names"


def machine_settings(examples: int, steps: int) -> settings:
    """A fixed seed (derandomize) and a bounded budget."""
    return settings(max_examples=examples, stateful_step_count=steps, deadline=None, derandomize=True,
                    database=None, suppress_health_check=list(HealthCheck), print_blob=False)


DurabilityMachine.TestCase.settings = machine_settings(
    int(os.environ.get("CKB_DURABILITY_EXAMPLES", "6")), int(os.environ.get("CKB_DURABILITY_STEPS", "15")))
TestDurability = DurabilityMachine.TestCase
