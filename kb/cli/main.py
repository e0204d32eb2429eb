"""The ``ckb`` command line: load, import, validate, reason, query, describe, search, export, serve."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from kb.cli.commands import UsageError
from kb.cli.parser import build_parser
from kb.cli.progress import Progress
from kb.errors import KBError, StoreFull

READ_ONLY_COMMANDS = ("query", "describe", "search", "export", "validate", "sheet")


def _open(args: argparse.Namespace) -> Any:
    from kb.api import KnowledgeBase, default_store_path

    options: dict[str, Any] = {}
    if args.command == "serve":
        options = {"timeout": args.timeout, "row_limit": args.row_limit,
                   "own_graphs_only": args.own_graphs_only}
    options["graph_prefixes"] = tuple(args.graph_prefix or ())
    if args.memory:
        return KnowledgeBase.open(memory=True, **options)
    endpoint = args.endpoint or (None if args.store else os.environ.get("CKB_ENDPOINT"))
    if endpoint:
        return KnowledgeBase.open(endpoint=endpoint, update_endpoint=args.update_endpoint,
                                  engine=args.engine, **options)
    path = Path(args.store) if args.store else default_store_path()
    try:
        return KnowledgeBase.open(path, **options)
    except KBError as err:
        # Another process (usually 'ckb serve') holds the write lock, or the disk is too full
        # to open a writer: reading is still safe.
        readable = "LOCK" in str(err) or isinstance(err, StoreFull)
        if not readable or args.command not in READ_ONLY_COMMANDS:
            raise
        return KnowledgeBase.open(path, read_only=True, **options)


def run(argv: list[str] | None = None) -> int:
    """Parse ``argv`` and run the command; exceptions propagate."""
    args = build_parser().parse_args(argv)
    if getattr(args, "max_memory", None) is not None:
        from kb.query.memory import set_limit

        set_limit(args.max_memory)  # before the store opens: its workers take the limit as they start
    if args.command == "import" and args.server:
        from kb.cli.upload import remote_import

        return remote_import(args.server, args)
    try:
        kb = _open(args)
    except KBError as err:
        from kb.cli.liveserver import holding

        url = holding(args, err)
        if url is None:
            raise
        from kb.cli.upload import remote_import

        return remote_import(url, args, found=True)
    recovered = getattr(kb.backend, "recovered", None)
    if recovered:
        print(f"ckb: recovered: {recovered}", file=sys.stderr)
    try:
        if args.needs_data and not kb.graphs():
            _first_load(kb)
        return args.handler(kb, args)
    finally:
        kb.close()


def _first_load(kb: Any) -> None:
    """Fill an empty store with the bundle, saying so in plain lines (a log file sees them too)."""
    import time

    where = getattr(kb.backend, "path", None) or getattr(kb.backend, "endpoint", "memory")
    print(f"ckb: first use: loading the bundled ontology and data into {where}", file=sys.stderr,
          flush=True)
    start = time.monotonic()
    with Progress().activity("loading"):
        kb.ensure_loaded()
    print(f"ckb: loaded {sum(kb.graphs().values()):,} triples in {time.monotonic() - start:.1f} s",
          file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``ckb``: errors become one line on stderr and exit status 2."""
    try:
        return run(argv)
    except (UsageError, KBError) as err:
        message = str(err)
        if "LOCK" in message:
            # --memory would not write to this store: the way on is through the server, or after it
            message += " (another process, e.g. 'ckb serve', has this store open: stop it first, or " \
                       "add a file through the running server: 'ckb import FILE --server URL --token T')"
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
