"""The ``ckb`` command line: load, import, validate, reason, query, describe, search, export, serve."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

from . import __version__
from .errors import KBError
from .progress import Progress
from .table import render_description, render_result, render_rows

QUERY_FORMATS = ("table", "json", "csv", "tsv", "xml", "turtle", "nt", "jsonld")
SELECT_FORMATS = ("table", "json", "csv", "tsv", "xml")
GRAPH_FORMATS = ("table", "turtle", "nt", "jsonld", "xml")
EXPORT_FORMATS = ("turtle", "nt", "nq", "trig", "jsonld", "xml")


class UsageError(Exception):
    """Bad command-line arguments (reported as one line, exit status 2)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # argparse prints the whole usage block; one line is easier to read and to grep.
        raise UsageError(f"{message} (see '{self.prog} --help')")


def _store_options(parser: argparse.ArgumentParser, top: bool) -> None:
    # Sub-commands use SUPPRESS so they do not overwrite a value given before the command.
    default = None if top else argparse.SUPPRESS
    parser.add_argument("--store", metavar="DIR", default=default,
                        help="store folder (default: $CKB_STORE or the per-user data folder)")
    parser.add_argument("--memory", action="store_true", default=False if top else argparse.SUPPRESS,
                        help="use a fresh in-memory store loaded from the bundled files")


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of ``ckb``."""
    p = _Parser(prog="ckb", description="Query and maintain the conflict knowledge base.")
    p.add_argument("--version", action="version", version=f"ckb {__version__}")
    _store_options(p, top=True)
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    def cmd(name: str, handler: Callable[[Any, argparse.Namespace], int], text: str,
            loaded: bool = True) -> argparse.ArgumentParser:
        c = sub.add_parser(name, help=text, description=text)
        _store_options(c, top=False)
        c.set_defaults(handler=handler, needs_data=loaded)
        return c

    c = cmd("load", cmd_load, "rebuild the store from FILES (default: bundled ontology and data)",
            loaded=False)
    c.add_argument("files", nargs="*", metavar="FILE", help="RDF files or folders")
    c = cmd("import", cmd_import, "load one file into its own graph (replacing an earlier import)")
    c.add_argument("file", metavar="FILE")
    c.add_argument("--name", help="graph name (default: the file name without extension)")
    cmd("validate", cmd_validate, "check the data against the SHACL shapes (exit 1 if it fails)")
    c = cmd("reason", cmd_reason, "run the OWL reasoner and refresh the inferred graph")
    c.add_argument("--reasoner", choices=("hermit", "pellet"), default="hermit")
    c.add_argument("--save", action="store_true", help="also write data/inferred/inferred.ttl")
    c = cmd("query", cmd_query, "run a read-only SPARQL query")
    c.add_argument("sparql", nargs="?", metavar="SPARQL", help="the query text")
    c.add_argument("-f", "--file", metavar="FILE", help="read the query from FILE ('-': stdin)")
    c.add_argument("--format", choices=QUERY_FORMATS,
                   help="output format (default: table; turtle for CONSTRUCT/DESCRIBE)")
    c.add_argument("--timeout", type=_positive, metavar="S", help="time limit in seconds")
    c.add_argument("--limit", type=_positive_int, metavar="N", help="row cap")
    c.add_argument("--no-inferred", action="store_true", help="leave the inferred graph out")
    c = cmd("describe", cmd_describe, "show what the KB says about an entity (IRI, ckbr:x or label)")
    c.add_argument("entity", metavar="IRI-OR-LABEL")
    c.add_argument("--format", choices=("text", "turtle", "nt", "jsonld", "xml"),
                   default="text", help="text (default) or an RDF format")
    c.add_argument("--no-inferred", action="store_true", help="leave inferred statements out")
    c = cmd("search", cmd_search, "find entities by label or alias, best match first")
    c.add_argument("text")
    c.add_argument("--limit", type=_positive_int, default=20, metavar="N")
    c = cmd("export", cmd_export, "write the KB, one graph or one entity as RDF")
    c.add_argument("--graph", default="all",
                   help="all, ontology, data, inferred, shapes or a graph IRI (default: all)")
    c.add_argument("--entity", metavar="IRI-OR-LABEL", help="only the statements about one entity")
    c.add_argument("--format", choices=EXPORT_FORMATS, default=None,
                   help="RDF format (default: from the -o extension, else turtle)")
    c.add_argument("-o", "--output", metavar="FILE", help="write to FILE atomically (default: stdout)")
    c = cmd("serve", cmd_serve, "serve the web UI and the SPARQL endpoint")
    c.add_argument("--host", default="127.0.0.1")
    c.add_argument("--port", type=int, default=5000)
    c.add_argument("--debug", action="store_true")
    c.add_argument("--update-token", metavar="T", default=os.environ.get("CKB_UPDATE_TOKEN"),
                   help="enable SPARQL Update for requests bearing this token")
    c.add_argument("--timeout", type=_positive, default=10.0, metavar="S")
    c.add_argument("--row-limit", type=_positive_int, default=10_000, metavar="N")
    return p


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be positive: {text!r}")
    return value


def _positive_int(text: str) -> int:
    if not text.isdigit() or int(text) == 0:
        raise argparse.ArgumentTypeError(f"must be a positive whole number: {text!r}")
    return int(text)


# -- commands ---------------------------------------------------------------

def cmd_load(kb: Any, args: argparse.Namespace) -> int:
    """ckb load [FILES...]"""
    progress = Progress()
    with progress.activity("loading"):
        counts = kb.load(args.files or None, progress=progress)
    _print_graphs(counts)
    return 0


def cmd_import(kb: Any, args: argparse.Namespace) -> int:
    """ckb import FILE [--name N]"""
    with Progress().activity(f"importing {args.file}"):
        graph = kb.import_file(args.file, name=args.name)
    print(f"imported {args.file} into <{graph}>: {kb.graphs().get(graph, 0)} triples")
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
    from .reason import ReasonerUnavailable

    try:
        with Progress().activity(f"reasoning with {args.reasoner}"):
            report = kb.reason(reasoner=args.reasoner, save=args.save)
    except ReasonerUnavailable as err:
        note = str(err)
        if "serving" not in note:
            note += "; serving the inferred graph already in the store"
        print(f"ckb: {note}", file=sys.stderr)
        return 0
    if not report.consistent:
        print(f"ckb: {report.explanation or 'the ontology and data are inconsistent'}",
              file=sys.stderr)
        return 1
    print(report.explanation or f"consistent ({report.reasoner}): {report.inferred} inferred "
          f"triples in {report.seconds:.1f} s")
    if report.saved_to:
        print(f"saved {report.saved_to}")
    return 0


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
    """ckb export --graph G --format F -o FILE"""
    fmt = args.format or _format_from_name(args.output) or "turtle"
    entity = kb.resolve(args.entity) if args.entity else None
    with Progress().activity(f"exporting {args.graph if entity is None else entity} as {fmt}"):
        data = kb.export(format=fmt, graph=args.graph, entity=entity)
        if args.output and args.output != "-":
            write_atomic(Path(args.output), data)
    if not args.output or args.output == "-":
        _write(data)
    else:
        print(f"wrote {len(data)} bytes to {args.output}", file=sys.stderr)
    return 0


def cmd_serve(kb: Any, args: argparse.Namespace) -> int:
    """ckb serve"""
    from webui.server import serve

    kb.update_token = args.update_token
    serve(kb, args.host, args.port, args.debug, UPDATE_TOKEN=args.update_token,
          QUERY_TIMEOUT=args.timeout, ROW_LIMIT=args.row_limit)
    return 0


# -- helpers ----------------------------------------------------------------

def _format_from_name(path: str | None) -> str | None:
    from .export import FORMATS

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


def _print_graphs(counts: dict[str, int]) -> None:
    rows = [{"graph": g, "triples": str(n)} for g, n in counts.items()]
    rows.append({"graph": "total", "triples": str(sum(counts.values()))})
    print(render_rows(rows, {}))


def _open(args: argparse.Namespace) -> Any:
    from .api import KnowledgeBase, default_store_path

    options: dict[str, Any] = {}
    if args.command == "serve":
        options = {"timeout": args.timeout, "row_limit": args.row_limit}
    if args.memory:
        return KnowledgeBase.open(memory=True, **options)
    return KnowledgeBase.open(Path(args.store) if args.store else default_store_path(), **options)


def run(argv: list[str] | None = None) -> int:
    """Parse ``argv`` and run the command; exceptions propagate."""
    args = build_parser().parse_args(argv)
    kb = _open(args)
    try:
        if args.needs_data:
            with Progress().activity("loading the bundled ontology and data (first use)"):
                kb.ensure_loaded()
        return args.handler(kb, args)
    finally:
        kb.close()


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``ckb``: errors become one line on stderr and exit status 2."""
    try:
        return run(argv)
    except (UsageError, KBError) as err:
        message = str(err)
        if "LOCK" in message:
            message += " (another process, e.g. 'ckb serve', has this store open; stop it or " \
                       "use --memory)"
        return _fail(message)
    except BrokenPipeError:
        # The reader (head, less) went away: not an error; silence the final flush too.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as err:
        where = f"{err.filename}: " if err.filename else ""
        return _fail(f"{where}{err.strerror or err}")
    except UnicodeDecodeError as err:
        return _fail(f"input is not UTF-8 text ({err.reason} at byte {err.start})")
    except KeyboardInterrupt:
        print("ckb: interrupted", file=sys.stderr)
        return 130
    except Exception as err:
        if os.environ.get("CKB_DEBUG"):
            raise
        print(f"ckb: internal error: {type(err).__name__}: {' '.join(str(err).split())} "
              "(set CKB_DEBUG=1 for details)", file=sys.stderr)
        return 1


def _fail(message: str) -> int:
    line = " ".join(message.split())  # one line, whatever the message held
    print(f"ckb: error: {line}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
