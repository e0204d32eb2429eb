"""The ``ckb`` command line's arguments: every command, its options, and their checked values."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from typing import Any, NoReturn

from kb import __version__
from kb.cli.commands import (
    UsageError,
    cmd_actors,
    cmd_import,
    cmd_index,
    cmd_load,
    cmd_reason,
    cmd_serve,
    cmd_validate,
)
from kb.cli.eventcmds import add_match_events
from kb.cli.readcmds import cmd_describe, cmd_export, cmd_query, cmd_search
from kb.cli.sheetcmds import add_sheet

QUERY_FORMATS = ("table", "json", "csv", "tsv", "xml", "turtle", "nt", "jsonld")
EXPORT_FORMATS = ("turtle", "nt", "nq", "trig", "jsonld", "xml")


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
    parser.add_argument("--endpoint", metavar="URL", default=default,
                        help="use a SPARQL 1.1 server's query endpoint (default: $CKB_ENDPOINT)")
    parser.add_argument("--update-endpoint", metavar="URL", default=default,
                        help="the server's update endpoint (default: the query endpoint)")
    parser.add_argument("--engine", choices=("virtuoso", "oxigraph", "sparql"), default=default,
                        help="the server's engine (default: asked from the server)")
    parser.add_argument("--graph-prefix", metavar="IRI", action="append", default=default,
                        help="also treat graphs under IRI as the KB's own (repeatable). On a SPARQL "
                             "server every other graph is never read, counted or dropped; on the "
                             "embedded store every graph is the KB's, and the namespace bounds "
                             "'serve --own-graphs-only'")


def _no_index(c: argparse.ArgumentParser) -> None:
    c.add_argument("--no-index", action="store_true",
                   help="leave the claim index stale (pages then follow the chains of sources "
                        "themselves); 'ckb index' or 'ckb serve' rebuilds it")


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
    _no_index(c)
    c.add_argument("files", nargs="*", metavar="FILE", help="RDF files or folders")
    c.add_argument("--force", action="store_true", help="load even files without triples (empties the store)")
    c = cmd("import", cmd_import, "load one file into its own graph (replacing an earlier import)")
    c.add_argument("file", metavar="FILE")
    c.add_argument("--name", help="graph name (default: the file name without extension)")
    c.add_argument("--format", dest="import_format", choices=("rdf", "ucdp-ged", "acled"), default="rdf",
                   help="rdf (default: any RDF file) or a dataset CSV: ucdp-ged, acled")
    c.add_argument("--skip-bad", action="store_true",
                   help="dataset CSV: skip bad rows and list them in a report instead of stopping")
    c.add_argument("--report", metavar="FILE",
                   help="where --skip-bad writes the skipped rows (default: FILE.skipped.csv)")
    c.add_argument("--matches", "--aliases", dest="matches", metavar="FILE",
                   help="matching decisions (default: data/matches/decisions.ttl or $CKB_MATCHES)")
    c.add_argument("--index", action="store_true",
                   help="rebuild the claim index now (by default 'ckb index' or 'ckb serve' does it later: "
                        "an import stays as quick as the engine's bulk load)")
    c.add_argument("--server", metavar="URL",
                   help="import through this running 'ckb serve' (default: the one holding the store, "
                        "if any; it announces itself beside the store)")
    c.add_argument("--token", metavar="T", default=None,
                   help="the server's update token (default: $CKB_UPDATE_TOKEN)")
    c = cmd("actors", cmd_actors, "review names from imports that matched no known actor, outlet or place")
    what = c.add_mutually_exclusive_group(required=True)
    what.add_argument("--unmatched", action="store_true",
                      help="each name that found no match, once, with explained candidates to confirm")
    what.add_argument("--accept", nargs=2, metavar=("NAME", "ENTITY"),
                      help="record that NAME (as a dataset writes it) is ENTITY (IRI, ckbr:x or label)")
    c.add_argument("--dataset", help="--accept: only for this dataset's NAME (acled, ucdp; default: any)")
    c.add_argument("--by", metavar="WHO", help="--accept: who decides (default: the login name)")
    c.add_argument("--matches", metavar="FILE",
                   help="the decisions file (default: data/matches/decisions.ttl or $CKB_MATCHES)")
    cmd("validate", cmd_validate, "check the data against the SHACL shapes (exit 1 if it fails)")
    c = cmd("reason", cmd_reason, "run the OWL reasoner and refresh the inferred graph")
    c.add_argument("--reasoner", choices=("hermit", "pellet"), default="hermit")
    c.add_argument("--save", action="store_true", help="also write data/inferred/inferred.ttl")
    _no_index(c)
    c = cmd("index", cmd_index, "rebuild the claim index (one summary per claim; loads and imports "
            "rebuild it themselves); on a SPARQL server also the home page's class counts and the "
            "event index")
    c.add_argument("--counts", action="store_true", help="on a SPARQL server (--endpoint): recount its "
                   "graphs into the KB's graph registry (after writes made on the server directly), "
                   "then the home page's class counts")
    c = cmd("query", cmd_query, "run a read-only SPARQL query")
    c.add_argument("sparql", nargs="?", metavar="SPARQL", help="the query text")
    c.add_argument("-f", "--file", metavar="FILE", help="read the query from FILE ('-': stdin)")
    c.add_argument("--format", choices=QUERY_FORMATS,
                   help="output format (default: table; turtle for CONSTRUCT/DESCRIBE)")
    c.add_argument("--timeout", type=_positive, metavar="S", help="time limit in seconds")
    c.add_argument("--limit", type=_positive_int, metavar="N", help="row cap")
    c.add_argument("--no-inferred", action="store_true", help="leave the inferred graph out")
    _max_memory(c)
    c = cmd("describe", cmd_describe, "show what the KB says about an entity (IRI, ckbr:x or label)")
    c.add_argument("entity", metavar="IRI-OR-LABEL")
    c.add_argument("--format", choices=("text", "turtle", "nt", "jsonld", "xml"),
                   default="text", help="text (default) or an RDF format")
    c.add_argument("--no-inferred", action="store_true", help="leave inferred statements out")
    c = cmd("search", cmd_search, "find entities by label or alias, best match first")
    c.add_argument("text")
    c.add_argument("--limit", type=_positive_int, default=20, metavar="N")
    c = cmd("export", cmd_export, "write the KB, one graph, one entity or a CONSTRUCT result as RDF")
    c.add_argument("--graph", default="all",
                   help="all, ontology, data, inferred, shapes or a graph IRI (default: all)")
    c.add_argument("--entity", metavar="IRI-OR-LABEL", help="only the statements about one entity")
    c.add_argument("--query", metavar="SPARQL",
                   help="the triples of a CONSTRUCT or DESCRIBE query (a file with @FILE.rq)")
    c.add_argument("--format", choices=(*EXPORT_FORMATS, "acled-csv"), default=None,
                   help="RDF format (default: from the -o extension, else turtle), or acled-csv: "
                        "an ACLED import (--graph) written back as the file it came from")
    c.add_argument("-o", "--output", metavar="FILE", help="write to FILE atomically (default: stdout)")
    add_match_events(sub, cmd)
    add_sheet(sub, cmd)
    c = cmd("serve", cmd_serve, "serve the web UI and the SPARQL endpoint")
    c.add_argument("--host", default="127.0.0.1")
    c.add_argument("--port", type=int, default=5000)
    c.add_argument("--debug", action="store_true")
    c.add_argument("--update-token", metavar="T", default=os.environ.get("CKB_UPDATE_TOKEN"),
                   help="enable SPARQL Update for requests bearing this token")
    c.add_argument("--own-graphs-only", action="store_true",
                   help="refuse (403) updates and Graph Store writes that name a graph outside the "
                        "KB's namespace (https://w3id.org/conflict-kb/graph/ and each --graph-prefix); "
                        "by default any graph may be written, and every graph is the KB's data")
    c.add_argument("--timeout", type=_positive, default=10.0, metavar="S")
    c.add_argument("--row-limit", type=_positive_int, default=10_000, metavar="N")
    c.add_argument("--query-budget", type=_positive, default=60.0, metavar="S",
                   help="seconds of query time each client may use per minute (429 beyond)")
    c.add_argument("--allow-unbounded-queries", action="store_true",
                   help="with --endpoint: serve even if the server cannot stop a query at its limit")
    c.add_argument("--trusted-proxy", action="append", default=[], metavar="ADDR",
                   help="a reverse proxy's address: behind it, X-Forwarded-For names the client "
                        "(repeatable)")
    c.add_argument("--threads", type=_positive_int, default=32, metavar="N",
                   help="server threads; requests beyond the workers wait in their lane")
    c.add_argument("--page-cache-mb", type=_size_mb, default=64.0, metavar="MB",
                   help="memory for rendered pages, kept until the store changes (0: build every page)")
    c.add_argument("--max-upload-mb", type=_positive, default=64.0, metavar="MB",
                   help="largest file /import and 'ckb import' through this server take (default: 64)")
    c.add_argument("--no-index", action="store_true",
                   help="do not rebuild a stale claim index in the background (pages then follow "
                        "the chains of sources themselves)")
    c.add_argument("--no-warm-pages", action="store_true",
                   help="do not build the pages the home page links to ahead, after start and after writes")
    c.add_argument("--no-sandbox", action="store_true",
                   help="run queries even where the kernel cannot fence workers off the network")
    _max_memory(c)
    return p


def _max_memory(c: argparse.ArgumentParser) -> None:
    from kb.query.memory import DEFAULT_MAX_MEMORY_MB

    # argparse runs a string default through type=: a bad $CKB_MAX_MEMORY is a usage error too.
    c.add_argument("--max-memory", type=_memory_mb, default=os.environ.get("CKB_MAX_MEMORY"), metavar="MB",
                   help="memory each query, update and upload worker may use; past it the job is "
                        f"stopped (503) (default: $CKB_MAX_MEMORY or {DEFAULT_MAX_MEMORY_MB}; the "
                        "workers together use at most their number times MB)")


def _memory_mb(text: str) -> float:
    from kb.query.memory import MIN_MAX_MEMORY_MB

    value = _number(text)
    if not MIN_MAX_MEMORY_MB <= value <= 1_000_000:
        raise argparse.ArgumentTypeError(f"must be from {MIN_MAX_MEMORY_MB} to 1000000 MB: {text!r}")
    return value


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None


def _positive(text: str) -> float:
    value = _number(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be positive: {text!r}")
    return value


def _size_mb(text: str) -> float:
    value = _number(text)
    if not 0 <= value <= 1_000_000:
        raise argparse.ArgumentTypeError(f"must be from 0 to 1000000 MB: {text!r}")
    return value


def _positive_int(text: str) -> int:
    if not text.isdigit() or int(text) == 0:
        raise argparse.ArgumentTypeError(f"must be a positive whole number: {text!r}")
    return int(text)
