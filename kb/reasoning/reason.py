"""OWL reasoning with owlready2 (HermiT or Pellet), materialised as an inferred graph."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import owlready2
import owlready2.reasoning
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import OWL

from kb.errors import KBError
from kb.namespaces import PREFIXES
from kb.reasoning.datatypes import definitions
from kb.reasoning.entail import materialise
from kb.reasoning.java import (
    NO_JAVA,
    ReasonerError,
    ReasonerUnavailable,
    executable,
    java_available,
    java_for,
)

__all__ = ["NO_JAVA", "REASONERS", "ReasonOutcome", "ReasonerError", "ReasonerUnavailable",
           "bundled_asserted", "java_available", "main", "reason", "write_inferred"]

REASONERS = ("hermit", "pellet")
JAVA_MEMORY_MB = int(os.environ.get("CKB_JAVA_MEMORY_MB", "2048"))  # heap for the Java reasoner
EXPLAIN_TIMEOUT = 120.0
_SCRATCH_IRI = "http://conflict-kb.invalid/reasoning-input"
REASON_TIMEOUT = float(os.environ.get("CKB_REASON_TIMEOUT", "600"))  # seconds, then killed


@dataclass
class ReasonOutcome:
    """Result of one reasoning run."""

    consistent: bool
    inferred: Graph
    reasoner: str
    seconds: float
    explanation: str


def _input_triples(asserted: Graph) -> Graph:
    """Copy the asserted triples, minus owl:imports (owlready2 would fetch them from the web),
    with literals of defined datatypes in their base datatype (kb.reasoning.datatypes)."""
    g = Graph()
    defined = definitions(asserted)
    for s, p, o in asserted.triples((None, None, None)):
        if p != OWL.imports:
            if isinstance(o, Literal) and o.datatype in defined:
                o = Literal(str(o), datatype=defined[o.datatype])
            g.add((s, p, o))
    return g


def _child() -> None:
    """Child-process side: load input.nt into a fresh World, reason, write added.nt + status."""
    reasoner, java, memory, work = sys.argv[1:5]
    status = {"status": "ok", "message": ""}
    owlready2.JAVA_EXE, owlready2.reasoning.JAVA_MEMORY = java, int(memory)
    # owlready2 prints progress and raises its own Python warnings: keep stdout for nothing
    with warnings.catch_warnings(), contextlib.redirect_stdout(sys.stderr):
        warnings.simplefilter("ignore")
        world = owlready2.World()
        with open(os.path.join(work, "input.nt"), "rb") as fh:
            world.get_ontology(_SCRATCH_IRI).load(fileobj=fh, format="ntriples")
        try:
            if reasoner == "hermit":
                owlready2.sync_reasoner_hermit(
                    world, infer_property_values=True, debug=0, ignore_unsupported_datatypes=True
                )
            else:
                owlready2.sync_reasoner_pellet(
                    world, infer_property_values=True, infer_data_property_values=True, debug=0
                )
            added = Graph()
            onto = world.get_ontology(owlready2.reasoning._INFERRENCES_ONTOLOGY)
            for triple in world.as_rdflib_graph().get_context(onto).triples((None, None, None)):
                added.add(triple)
            added.serialize(os.path.join(work, "added.nt"), format="nt", encoding="utf-8")
        except owlready2.OwlReadyInconsistentOntologyError:
            status = {"status": "inconsistent", "message": ""}
        except owlready2.OwlReadyJavaError as exc:
            lines = [ln.strip() for ln in str(exc).splitlines()[1:] if ln.strip()]
            status = {"status": "error", "message": (lines or [str(exc)])[0][:300]}
    Path(work, "status.json").write_text(json.dumps(status), encoding="utf-8")


def _run_owlready(nt: bytes, reasoner: str, java: str, timeout: float) -> Graph | None:
    """Reason in a child process (own globals, own TMPDIR, killable); None if inconsistent."""
    with tempfile.TemporaryDirectory(prefix="ckb-reason-") as work:
        Path(work, "input.nt").write_bytes(nt)
        pypath = [str(Path(__file__).resolve().parents[2]), os.environ.get("PYTHONPATH", "")]
        # TMPDIR: owlready2 leaves its temp file behind when Java fails; this folder goes anyway
        env = dict(os.environ, TMPDIR=work, PYTHONPATH=os.pathsep.join(p for p in pypath if p))
        cmd = [sys.executable, "-c", "from kb.reasoning.reason import _child; _child()",
               reasoner, java, str(JAVA_MEMORY_MB), work]
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                env=env, start_new_session=True)
        try:
            _, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise ReasonerError(
                f"{reasoner} did not finish within {timeout:g} s (set CKB_REASON_TIMEOUT)"
            ) from None
        finally:
            if proc.poll() is None:  # timed out or interrupted: the group is still ours
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)  # the child and its Java process
                proc.wait()
        status_file = Path(work, "status.json")
        if not status_file.exists():
            tail = err.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no output"]
            raise ReasonerError(f"{reasoner} failed: {tail[0][:300]}")
        status = json.loads(status_file.read_text(encoding="utf-8"))
        if status["status"] == "error":
            raise ReasonerError(f"{reasoner} failed: {status['message']}")
        if status["status"] == "inconsistent":
            return None
        return Graph().parse(Path(work, "added.nt"), format="nt")


def _explain_inconsistency(nt: bytes, java: str) -> str:
    """Ask Pellet for one justification of the inconsistency, as one line."""
    cp = owlready2.reasoning._PELLET_CLASSPATH
    with tempfile.NamedTemporaryFile("wb", suffix=".nt", delete=False) as tmp:
        tmp.write(nt)
    try:
        # `pellet explain` uses the OWL API loader, so it runs on older Java than `realize`
        proc = subprocess.run(
            [java, f"-Xmx{JAVA_MEMORY_MB}M", "-cp", cp, "pellet.Pellet", "explain",
             "--ignore-imports", tmp.name],
            capture_output=True, timeout=EXPLAIN_TIMEOUT,
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    finally:
        os.unlink(tmp.name)
    text = proc.stdout.decode("utf-8", "replace")
    if "Explanation(s):" not in text:
        return ""
    body = text.split("Explanation(s):", 1)[1]
    axioms = [ln.strip() for ln in body.splitlines() if ln.strip()]
    if axioms and axioms[0][:1].isdigit() and ")" in axioms[0]:
        axioms[0] = axioms[0].split(")", 1)[1].strip()
    return "; ".join(axioms)


def reason(
    asserted: Graph, *, reasoner: str = "hermit", timeout: float | None = None
) -> ReasonOutcome:
    """Run HermiT or Pellet over ontology+data; return consistency and the inferred triples."""
    reasoner = reasoner.lower()
    if reasoner not in REASONERS:
        raise ReasonerError(f"unknown reasoner {reasoner!r}; choose one of: {', '.join(REASONERS)}")
    java = java_for(reasoner)
    source = _input_triples(asserted)
    nt = source.serialize(format="nt", encoding="utf-8")
    t0 = time.perf_counter()
    added = _run_owlready(nt, reasoner, java, REASON_TIMEOUT if timeout is None else timeout)
    if added is None:
        why = _explain_inconsistency(nt, executable(owlready2.JAVA_EXE) or java)
        return ReasonOutcome(
            consistent=False, inferred=Graph(), reasoner=reasoner,
            seconds=time.perf_counter() - t0,
            explanation=f"inconsistent ({reasoner}): "
            + (why or "no justification available (Pellet explain failed)"),
        )
    inferred = materialise(source, added)
    unsat = sorted({c for c, _, n in added.triples((None, OWL.equivalentClass, OWL.Nothing))
                    if isinstance(c, URIRef)})
    seconds = time.perf_counter() - t0
    note = f"consistent ({reasoner}): {len(inferred)} inferred triples in {seconds:.1f} s"
    if unsat:
        note += "; unsatisfiable classes: " + ", ".join(_short(c) for c in unsat)
    for prefix, iri in PREFIXES.items():
        inferred.bind(prefix, iri)
    return ReasonOutcome(True, inferred, reasoner, seconds, note)


def _short(iri: URIRef) -> str:
    """Render an IRI as prefix:local where a known prefix fits."""
    for prefix, ns in PREFIXES.items():
        if iri.startswith(ns):
            return f"{prefix}:{iri[len(ns):]}"
    return f"<{iri}>"


def write_inferred(graph: Graph, path: str | os.PathLike, *, reasoner: str = "hermit") -> None:
    """Write the inferred graph as sorted, prefixed Turtle (atomically)."""
    header = (
        f"# Inferred triples ({reasoner} via owlready2): entailed by ontology/ + data/, "
        "not asserted.\n# Generated by kb.reasoning.reason.write_inferred; do not edit by hand.\n"
    )
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(target.suffix + ".tmp")
    from kb.export.rdf import serialize_triples  # the project's one deterministic Turtle writer

    body = serialize_triples(graph, "turtle", prefixes=PREFIXES).decode("utf-8")
    tmp.write_text(header + body, encoding="utf-8")
    os.replace(tmp, target)


def bundled_asserted(root: Path | None = None) -> Graph:
    """Parse the bundled ontology and data files (no shapes, no inferred) into one graph."""
    from kb.namespaces import GRAPH_DATA, GRAPH_MATCHES, GRAPH_ONTOLOGY
    from kb.store import loader

    graph = Graph()
    for path in loader.bundled_files(root):
        if loader.graph_for(path) in (GRAPH_ONTOLOGY, GRAPH_DATA, GRAPH_MATCHES):
            graph.parse(path, format="turtle")
    return graph


def main(argv: list[str] | None = None) -> int:
    """`python -m kb.reasoning.reason [--reasoner R] [--write]`: reason over the bundled files."""
    import argparse

    from kb.store import loader

    ap = argparse.ArgumentParser(prog="python -m kb.reasoning.reason", description=main.__doc__)
    ap.add_argument("--reasoner", choices=REASONERS, default="hermit")
    ap.add_argument("--write", action="store_true", help="rewrite data/inferred/inferred.ttl")
    args = ap.parse_args(argv)
    try:
        out = reason(bundled_asserted(), reasoner=args.reasoner)
    except KBError as exc:
        print(f"error: {exc}")
        return 2
    print(out.explanation)
    if args.write and out.consistent:
        target = loader.project_root() / "data" / "inferred" / "inferred.ttl"
        write_inferred(out.inferred, target, reasoner=out.reasoner)
        print(f"wrote {target}")
    return 0 if out.consistent else 1


if __name__ == "__main__":
    raise SystemExit(main())
