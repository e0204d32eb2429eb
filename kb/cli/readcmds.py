"""The ``ckb`` commands that read the KB (query, describe, search, export) and how their
answers reach stdout or a file (written whole, then moved into place)."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from kb.cli.commands import UsageError
from kb.cli.progress import Progress
from kb.cli.table import render_description, render_result, render_rows
from kb.errors import KBError

SELECT_FORMATS = ("table", "json", "csv", "tsv", "xml")
GRAPH_FORMATS = ("table", "turtle", "nt", "jsonld", "xml")


def cmd_query(kb: Any, args: argparse.Namespace) -> int:
    """ckb query 'SPARQL' | -f FILE"""
    if (args.sparql is None) == (args.file is None):
        raise UsageError("give the query text or -f FILE (one of them)")
    if args.file == "-":
        sparql = sys.stdin.read()
    elif args.file:
        sparql = Path(args.file).read_text(encoding="utf-8")
    else:
        sparql = args.sparql
    result = kb.query(sparql, inferred=not args.no_inferred, timeout=args.timeout,
                      limit=args.limit)
    fmt = args.format or ("turtle" if result.kind == "graph" else "table")
    allowed = GRAPH_FORMATS if result.kind == "graph" else SELECT_FORMATS
    if fmt not in allowed:
        what = "CONSTRUCT/DESCRIBE" if result.kind == "graph" else result.kind.upper()
        raise KBError(f"--format {fmt} does not fit {what} results; use one of: {', '.join(allowed)}")
    if fmt == "table":
        _write(render_result(result, kb.prefixes).encode())
    else:
        _write(result.serialize(fmt, kb.prefixes))
    if result.truncated:
        print(f"ckb: warning: results truncated at {result.limit} rows "
              "(raise --limit or narrow the query)", file=sys.stderr)
    return 0


def cmd_describe(kb: Any, args: argparse.Namespace) -> int:
    """ckb describe IRI-OR-LABEL"""
    iri = kb.resolve(args.entity)
    if args.format != "text":
        _write(kb.export(format=args.format, entity=iri))
        return 0
    _write(render_description(kb.describe(iri, inferred=not args.no_inferred),
                              kb.prefixes).encode())
    return 0


def cmd_search(kb: Any, args: argparse.Namespace) -> int:
    """ckb search TEXT"""
    hits = kb.search(args.text, limit=args.limit)
    if not hits:
        print(f"no entity matches {args.text!r}", file=sys.stderr)
        return 0
    rows = [{"#": str(i), "label": h.label, "matched": f"{h.matched} ({h.field}, {h.match})",
             "types": ", ".join(t.label for t in h.types), "iri": h.iri}
            for i, h in enumerate(hits, 1)]
    print(render_rows(rows, kb.prefixes))
    return 0


def cmd_export(kb: Any, args: argparse.Namespace) -> int:
    """ckb export [--graph G | --entity X | --query Q] --format F -o FILE"""
    if args.format == "acled-csv":
        from kb.cli.eventcmds import cmd_export_acled

        return cmd_export_acled(kb, args)
    fmt = args.format or _format_from_name(args.output) or "turtle"
    entity = kb.resolve(args.entity) if args.entity else None
    query = args.query
    if query and query.startswith("@"):
        query = Path(query[1:]).read_text(encoding="utf-8")
    scope = "a query result" if query else args.graph if entity is None else entity
    with Progress().activity(f"exporting {scope} as {fmt}"):
        data = kb.export(format=fmt, graph=args.graph, entity=entity, query=query)
        if args.output and args.output != "-":
            write_atomic(Path(args.output), data)
    if not args.output or args.output == "-":
        _write(data)
    elif Progress().enabled:  # a note for people at a terminal; scripts get silence
        print(f"wrote {len(data)} bytes to {args.output}", file=sys.stderr)
    return 0


def _format_from_name(path: str | None) -> str | None:
    from kb.export.rdf import FORMATS

    if not path:
        return None
    suffix = Path(path).suffix.lower().lstrip(".")
    return next((name for name, spec in FORMATS.items() if spec.extension == suffix), None)


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file and a rename: never half-written."""
    path = path.expanduser()
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise KBError(f"{path}: folder {folder} does not exist")
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the usual file mode
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write(data: bytes) -> None:
    out = sys.stdout.buffer
    out.write(data)
    if data and not data.endswith(b"\n"):
        out.write(b"\n")
    out.flush()
