"""What each ``ckb`` command that changes or serves the KB does (load, import, actors, validate,
reason, index, serve), given an open KnowledgeBase and the parsed arguments; the reading ones
are in kb.cli.readcmds."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from kb.cli.progress import Progress
from kb.cli.table import render_rows
from kb.errors import KBError

SHOW_SKIPPED = 50  # rows printed by --skip-bad; the report lists every one


class UsageError(Exception):
    """Bad command-line arguments (reported as one line, exit status 2)."""


def cmd_load(kb: Any, args: argparse.Namespace) -> int:
    """ckb load [FILES...]"""
    progress = Progress()
    with progress.activity("loading"):
        counts = kb.load(args.files or None, progress=progress, force=getattr(args, "force", False))
    _print_graphs(counts)
    index_claims(kb, args)
    return 0


def _triples(n: int) -> str:
    return f"{n:,} triple" + ("" if n == 1 else "s")


def cmd_import(kb: Any, args: argparse.Namespace) -> int:
    """ckb import FILE [--name N] [--format rdf|ucdp-ged|acled] [--skip-bad] [--report R]"""
    fmt = getattr(args, "import_format", "rdf")
    from kb.cli.sheetcmds import cmd_import_sheet, is_sheet

    if fmt == "rdf" and is_sheet(args.file):
        return cmd_import_sheet(kb, args)
    if fmt == "rdf":
        with Progress().activity(f"importing {args.file}"):
            written = kb.import_rdf(args.file, name=args.name)
        graph, *named = written
        print(f"imported {args.file} into <{graph}>: {_triples(written[graph])}"
              + "".join(f"; <{g}>: {_triples(written[g])}" for g in named)
              + (f" ({_triples(sum(written.values()))} in all)" if named else ""))
        _index_after_import(kb, args)
        return 0
    from kb.imports import run_import

    progress = Progress()
    report = args.report or (f"{args.file}.skipped.csv" if args.skip_bad else None)
    result = run_import(kb, args.file, fmt, name=args.name, skip_bad=args.skip_bad, report=report,
                        progress=lambda n: progress(f"{args.file}: {n} rows") if n % 1000 == 0 else None,
                        matches=Path(args.matches) if args.matches else None)
    progress.clear()
    if result.unchanged:
        print(f"{args.file} is already imported into <{result.graph}> (same SHA-256): nothing changed")
        return 0
    print(f"imported {result.rows} rows of {args.file} into <{result.graph}>: "
          f"{kb.graphs().get(result.graph, 0)} triples")
    if result.skipped:
        for line, reason in result.skipped[:SHOW_SKIPPED]:  # each skipped row by file and line
            print(f"ckb: skipped {args.file}:{line}: {' '.join(reason.split())}", file=sys.stderr)
        more = len(result.skipped) - SHOW_SKIPPED
        print(f"skipped {len(result.skipped)} bad rows{f' ({more} more than shown)' if more > 0 else ''}; "
              f"every one is listed in {report}")
    if result.unmatched:
        print(f"{len(result.unmatched)} actor names matched no known actor; see `ckb actors --unmatched`")
    _index_after_import(kb, args)
    return 0


def cmd_actors(kb: Any, args: argparse.Namespace) -> int:
    """ckb actors --unmatched | --accept NAME ENTITY [--dataset D] [--by WHO] [--matches FILE]"""
    from kb.matching.review import accept, unmatched

    matches = Path(args.matches) if args.matches else None
    if args.accept:
        name, entity = args.accept
        d = accept(kb, name, entity, made_by=args.by or "", dataset=args.dataset or "", path=matches)
        print(f"decided: {d.kind} name {d.name!r}{f' in {d.dataset}' if d.dataset else ''} is <{d.entity}> "
              f"(by {d.made_by}, {d.made_at}); imports of it match it so from now on "
              "(re-import a file to apply it there)")
        return 0
    rows = [{"name": u["name"], "kind": u["kind"], "datasets": u["dataset"], "new entity": u["minted"],
             "candidates": "; ".join(f"{label} <{iri}> {why}" for label, iri, _score, why in u["candidates"])
             or "(none)"}
            for u in unmatched(kb)]
    if not rows:
        print("every imported name matched a known actor, outlet or place")
        return 0
    print(render_rows(rows, kb.prefixes))
    print(f"{len(rows)} unmatched names; confirm a candidate with `ckb actors --accept NAME ENTITY`")
    return 0


def cmd_validate(kb: Any, args: argparse.Namespace) -> int:
    """ckb validate"""
    with Progress().activity("validating"):
        report = kb.validate()
    if report.conforms:
        print("conforms: the data satisfies every SHACL shape")
        return 0
    print(f"does not conform: {len(report.results)} result(s)")
    rows = [{"severity": v.severity, "focus": v.focus, "path": v.path or "",
             "constraint": v.constraint, "message": v.message} for v in report.results]
    print(render_rows(rows, kb.prefixes))
    return 1


def cmd_reason(kb: Any, args: argparse.Namespace) -> int:
    """ckb reason [--reasoner hermit|pellet] [--save]"""
    with Progress().activity(f"reasoning with {args.reasoner}"):
        report = kb.reason(reasoner=args.reasoner, save=args.save)
    if report.note:  # no Java: the shipped inferred graph stands in for the reasoner's answer
        note = report.note
        if "serving" not in note:
            note += "; serving the shipped inferred graph"
        print(f"ckb: {note}", file=sys.stderr)
    if not report.consistent:
        print(f"ckb: {report.explanation or 'the ontology and data are inconsistent'}",
              file=sys.stderr)
        return 1
    print(report.explanation or f"consistent ({report.reasoner}): {report.inferred} inferred "
          f"triples in {report.seconds:.1f} s")
    if report.saved_to:
        print(f"saved {report.saved_to}")
    index_claims(kb, args)
    return 0


def cmd_index(kb: Any, args: argparse.Namespace) -> int:
    """ckb index"""
    from kb.derived import claimindex

    if getattr(args, "counts", False):
        recount = getattr(kb.backend, "recount", None)
        if recount is None:
            raise KBError("--counts is for a SPARQL server (--endpoint): the embedded store counts itself")
        from kb.store import registry

        counts = recount()
        print(f"counted {len(counts)} graphs, {sum(c.triples for c in counts.values()):,} triples")
        # recount() keeps the count in memory where the server refuses the registry's write: here
        # that would leave every other process with the old list, so say so (issue 23's "gap").
        held = registry.parse(kb.backend.solutions(registry.READ, kb.backend.read_timeout)) or {}
        if ({g: c.triples for g, c in held.items() if kb.backend.own(g)}
                != {g: c.triples for g, c in counts.items()}):
            raise KBError("the server did not take the write of the KB's graph registry, so no other "
                          "process sees these counts: give an update endpoint it accepts (--update-endpoint; "
                          "Oxigraph server: .../update) as a user allowed to write (Virtuoso: SPARQL_UPDATE)")
        _index_remote_pages(kb, events=False)
        return 0
    if not claimindex.supported(kb):
        raise KBError("the claim index is kept only in a writable embedded store (not --endpoint)")
    if hasattr(kb.backend, "counts"):  # the pages' derived state first: the claim index takes longest
        _index_remote_pages(kb, events=True)
    index_claims(kb, args, force=True)
    return 0


def _index_remote_pages(kb: Any, events: bool) -> None:
    """A SPARQL server's KB: count the classes for the home page, and read the event index for
    /timeline, /map and /events, ahead, beside the client (pages then count nothing)."""
    from kb.derived import classcounts
    from kb.views import remoteevents

    start = time.monotonic()
    with Progress().activity("counting classes"):
        found = classcounts.build(kb)
    print(f"class counts: {len(found.counts)} classes in {time.monotonic() - start:.1f} s")
    if events:
        start = time.monotonic()
        with Progress().activity("indexing events"):
            index = remoteevents.build(kb)
        print(f"event index: {len(index.events)} events in {time.monotonic() - start:.1f} s")


def _index_after_import(kb: Any, args: argparse.Namespace) -> None:
    """With --index, rebuild the claim index; else say that it is stale (if it is)."""
    from kb.derived import claimindex

    if getattr(args, "index", False):
        index_claims(kb, args)
    elif claimindex.supported(kb) and not claimindex.current(kb):
        print("claim index: stale until 'ckb index' (or a running 'ckb serve') rebuilds it")


def index_claims(kb: Any, args: argparse.Namespace, force: bool = False) -> None:
    """Rebuild the claim index after a write (kb.derived.claimindex), unless --no-index."""
    from kb.derived import claimindex

    if getattr(args, "no_index", False) or not claimindex.supported(kb):
        return
    if not force and claimindex.current(kb):
        return  # nothing changed (an import of an unchanged file)
    with Progress().activity("indexing claims"):
        report = claimindex.build(kb)
    print(f"claim index: {report.triples} triples in {report.seconds:.1f} s")
    if report.current:  # the event index is kept under the claim index's stamp: built ahead too
        from kb.derived import eventbuild

        start = time.monotonic()
        with Progress().activity("indexing events"):
            events = eventbuild.build_now(kb)
        if events is not None:
            print(f"event index: {len(events.events)} events in {time.monotonic() - start:.1f} s")


def cmd_serve(kb: Any, args: argparse.Namespace) -> int:
    """ckb serve"""
    from kb.cli.liveserver import announced
    from webui.server import serve
    from webui.warm import LANDING

    kb.update_token = args.update_token
    if not getattr(kb.backend, "bounds_queries", True) and not args.allow_unbounded_queries:
        # The client would give up at the limit, but the server would go on working: a few
        # heavy web queries could then keep a shared server busy for minutes.
        raise KBError(f"the SPARQL server at {kb.backend.endpoint} ({kb.backend.engine.name}) cannot "
                      "be told to stop a query at its time limit; start it with its own limit (e.g. "
                      "'oxigraph serve --timeout-s') and pass --allow-unbounded-queries to serve anyway")
    if args.no_sandbox:
        print("ckb: warning: --no-sandbox: queries and updates run without the network fence; "
              "only the query check stands between SERVICE or LOAD and your network", file=sys.stderr)
        problem = getattr(kb.backend, "fence_problem", lambda: None)()
        print(f"ckb: network fence: {problem or 'in place'}", file=sys.stderr)
    else:
        kb.require_sandbox()  # one line and exit 2 if the kernel cannot fence the workers
    if kb.bundle_is_stale():
        print("ckb: note: this store holds an older copy of the bundled ontology and data; "
              "run 'ckb load' to rebuild it", file=sys.stderr)
    # 'ckb import' finds this server beside the store's lock and imports through it (kb.cli.liveserver)
    with announced(getattr(kb.backend, "path", None), args.host, args.port):
        serve(kb, args.host, args.port, args.debug, UPDATE_TOKEN=args.update_token,
              QUERY_TIMEOUT=args.timeout, ROW_LIMIT=args.row_limit, QUERY_BUDGET=args.query_budget,
              TRUSTED_PROXIES=tuple(args.trusted_proxy), THREADS=args.threads,
              PAGE_CACHE_BYTES=int(args.page_cache_mb * 1024 * 1024),
              WARM_PAGES=() if args.no_warm_pages else LANDING, CLAIM_INDEX=not args.no_index,
              IMPORT_MAX_BYTES=int(args.max_upload_mb * 1024 * 1024))
    return 0


# -- helpers ----------------------------------------------------------------

def _print_graphs(counts: dict[str, int]) -> None:
    rows = [{"graph": g, "triples": str(n)} for g, n in counts.items()]
    rows.append({"graph": "total", "triples": str(sum(counts.values()))})
    print(render_rows(rows, {}))
