"""``ckb export --format acled-csv`` and ``ckb match-events``: datasets written back, events linked."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from kb.cli.progress import Progress
from kb.errors import KBError


def cmd_export_acled(kb: Any, args: argparse.Namespace) -> int:
    """ckb export --format acled-csv --graph NAME-OR-IRI [-o FILE]"""
    from kb.cli.readcmds import write_atomic
    from kb.export.acledcsv import export_acled, resolve_graph

    if args.graph in ("all", "ontology", "data", "inferred", "shapes") or args.entity or args.query:
        raise KBError("--format acled-csv writes one ACLED import: give --graph with its name or IRI "
                      "(e.g. --graph acled-syria)")
    graph = resolve_graph(args.graph)
    if graph not in kb.graphs():
        raise KBError(f"no graph <{graph}> in the store (see 'ckb query' for the import graphs)")
    with Progress().activity(f"exporting <{graph}> as ACLED CSV"):
        data = export_acled(kb, graph).encode("utf-8")
    if args.output and args.output != "-":
        write_atomic(Path(args.output), data)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    return 0


def cmd_match_events(kb: Any, args: argparse.Namespace) -> int:
    """ckb match-events [--days D] [--km K] [--min-score S] [--dry-run]"""
    from kb.linking.eventlinks import link_events
    from kb.linking.events import MatchParams

    params = MatchParams(days=args.days, km=args.km, min_score=args.min_score)
    with Progress().activity("matching events across sources"):
        report = link_events(kb, params, write=not args.dry_run)
    print(f"{report.candidates} candidate pairs; {len(report.links)} linked as the same event "
          f"({report.added} new, {report.removed} dropped, {report.kept} unchanged)"
          + (" [dry run: nothing written]" if args.dry_run else f" in <{report.graph}>"))
    for link in report.links[: args.show]:
        print(f"  {link.a} = {link.b}  score {link.score:.3f}: {'; '.join(link.reasons)}")
    return 0


def add_match_events(sub: Any, cmd: Any) -> None:
    """Register ``ckb match-events`` (cmd is main's helper that adds a sub-command)."""
    from kb.linking.events import MatchParams

    d = MatchParams()
    c = cmd("match-events", cmd_match_events,
            "link events that different sources (ACLED, UCDP, articles) code for the same event "
            "(MELTT-style: time and distance windows, compatible types, shared actors)")
    c.add_argument("--days", type=float, default=d.days, help=f"time window in days (default {d.days})")
    c.add_argument("--km", type=float, default=d.km, help=f"distance window in km (default {d.km})")
    c.add_argument("--min-score", type=float, default=d.min_score,
                   help=f"lowest score linked (default {d.min_score})")
    c.add_argument("--dry-run", action="store_true", help="score and print, write nothing")
    c.add_argument("--show", type=int, default=10, metavar="N", help="print the first N links")
