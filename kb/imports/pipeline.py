"""The import pipeline: rows -> N-Triples text -> the store's bulk loader, on two cores, all-or-nothing.

A thread converts rows and writes N-Triples into a named pipe; the store's loader (Rust, which lets go
of the GIL) reads the other end at the same time. Nothing is staged on disk and the file is read once.
A bad row makes the writer end the stream with a line that is not N-Triples, so the loader fails and
the store's write path drops whatever it had loaded: the graph was never committed, so a crash
meanwhile leaves nothing either (the next open sweeps uncommitted graphs).
"""

from __future__ import annotations

import csv
import hashlib
import os
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kb.errors import KBError, ParseError
from kb.matching import decisions
from kb.namespaces import CKB, import_graph
from kb.store.loader import attach_texts

from .common import (
    IMPORTER,
    PROV,
    RDF_TYPE,
    RDFS_LABEL,
    XSD,
    BadRow,
    ImportResult,
    ckb,
    integer,
    ns,
    res,
    sha256,
    shown,
    slug,
    text,
    triple,
)
from .rows import position, read_rows

STOP = "\n! the conversion stopped here\n"  # not N-Triples: the loader fails on it, so nothing commits
WRITE_BUFFER = 1 << 20


class _Writer(threading.Thread):
    """Writes the N-Triples chunks into the pipe; keeps the first error for the caller."""

    def __init__(self, pipe: Path, chunks: Iterable[str]) -> None:
        super().__init__(name="ckb-import-writer", daemon=True)
        self.pipe, self.chunks = pipe, chunks
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            with open(self.pipe, "w", encoding="utf-8", buffering=WRITE_BUFFER) as out:
                try:
                    for chunk in self.chunks:
                        out.write(chunk)
                except BrokenPipeError:
                    raise
                except BaseException as err:
                    self.error = err
                    out.write(STOP)
        except BrokenPipeError:
            pass  # the loader stopped reading: it failed, and says why
        except OSError as err:
            self.error = self.error or err

    def finish(self) -> None:
        """Wait for the writer; if the loader never opened the pipe, open it so the writer can end."""
        while self.is_alive():
            fd = os.open(self.pipe, os.O_RDONLY | os.O_NONBLOCK)
            try:
                self.join(0.05)
            finally:
                os.close(fd)  # the writer's next write gets EPIPE and it stops


def run_import(
    kb: Any,
    path: str | Path,
    fmt: str,
    *,
    name: str | None = None,
    skip_bad: bool = False,
    report: str | Path | None = None,
    progress: Callable[[int], None] | None = None,
    matches: Path | None = None,
) -> ImportResult:
    """Convert a dataset CSV to N-Triples and stream it into its own graph, all-or-nothing."""
    from . import acled, actors, ucdp

    p = Path(path)
    if not p.is_file():
        raise KBError(f"{p}: no such file")
    module = {"ucdp-ged": ucdp, "acled": acled}.get(fmt)
    if module is None:
        raise KBError(f"unknown import format {fmt!r} (ucdp-ged or acled)")
    graph_name = name or f"{fmt}-{slug(p.stem)}"
    graph = import_graph(graph_name)
    checksum = sha256(p)
    decided = decisions.current(kb, matches)
    # the same file under the same matching decisions: nothing to do (a new decision re-imports)
    checksum_and_decisions = f"{checksum} {decisions_digest(decided)}"
    if _already_imported(kb, graph, checksum_and_decisions):
        return ImportResult(graph, unchanged=True)
    matcher = actors.Matcher.for_kb(kb, decided, replacing=graph, dataset={"ucdp-ged": "ucdp"}.get(fmt, fmt))
    result = ImportResult(graph)
    # a format that keeps per-file state (how the file writes its codes) has a converter
    conv = module.converter() if hasattr(module, "converter") else None
    convert = conv.convert if conv is not None else module.convert

    seen: dict[str, int] = {}  # event id -> its line: a repeated id would merge two rows' facts

    def bad(line: int, err: BadRow) -> None:
        if not skip_bad:
            raise KBError(position(p, line, err))
        result.skipped.append((line, f"column {err.column}: {err}" if err.column else str(err)))

    def chunks() -> Iterator[str]:
        for line, row in read_rows(p, module.REQUIRED, module.KNOWN, bad):
            try:
                key = row[module.ID].strip()
                if key in seen:
                    raise BadRow(f"{module.ID} {shown(key)} repeats the row on line {seen[key]}")
                lines = convert(row, matcher)
            except BadRow as e:
                matcher.row_done(kept=False)
                bad(line, e)
                continue
            matcher.row_done(kept=True)
            seen[key] = line
            result.rows += 1
            result.triples += len(lines)
            if progress:
                progress(result.rows)
            yield "".join(lines)
        if not result.rows:  # never replace an import with nothing
            raise KBError(f"{p}: no rows to import" + (f" ({len(result.skipped)} skipped as bad)"
                                                      if result.skipped else ""))
        yield "".join(matcher.record_triples())
        yield "".join(_record(p, checksum, graph_name, result, checksum_and_decisions))
        if conv is not None:
            yield "".join(conv.record_triples(res(f"import-{slug(graph_name)}")))

    with tempfile.TemporaryDirectory(prefix="ckb-import-") as tmp:
        pipe = Path(tmp) / f"{slug(graph_name)}.nt"  # the suffix tells the loader the format
        os.mkfifo(pipe, 0o600)
        writer = _Writer(pipe, chunks())
        writer.start()
        try:
            kb.backend.replace_graphs([(pipe, graph)], prepare=attach_texts)
        except (KBError, ParseError, OSError):
            writer.finish()
            if writer.error is not None:
                raise _reason(writer.error) from None
            raise
        finally:
            writer.finish()
        if writer.error is not None:  # cannot happen (STOP fails the load); never keep a partial graph
            kb.backend.drop_graph(graph)
            raise _reason(writer.error)
    if report is not None:
        _write_report(Path(report), p, result.skipped)
    result.unmatched = matcher.unmatched_names()
    return result


def _reason(err: BaseException) -> BaseException:
    """The writer's error as the caller should see it: a KBError stays, anything else is wrapped."""
    return err if isinstance(err, KBError) else KBError(f"import stopped: {err}")


def _already_imported(kb: Any, graph: str, stamp: str) -> bool:
    """True when this graph already holds an import of a file with this checksum, made under the
    same matching decisions."""
    if graph not in kb.graphs():
        return False
    return _sums(kb, graph) == {stamp}


def _sums(kb: Any, graph: str) -> set[str]:
    """The file checksums (each with the digest of the decisions it was matched under) in a graph."""
    rows = kb.query(f"""SELECT ?sum ?d WHERE {{ GRAPH <{graph}> {{ ?f <{CKB.sha256}> ?sum
                        OPTIONAL {{ ?run <{CKB.matchDecisions}> ?d }} }} }}""",
                    inferred=False, named_graphs=[graph]).rows
    return {f"{r['sum']} {r.get('d') or ''}".strip() for r in rows}


def decisions_digest(decided: dict[Any, Any]) -> str:
    """A digest of the matching decisions in force (what a re-import would match by)."""
    lines = sorted(f"{d.kind}|{d.dataset}|{d.name}|{d.entity}" for d in decided.values())
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()[:16]


def _record(path: Path, checksum: str, graph_name: str, result: ImportResult, stamp: str) -> Iterator[str]:
    """The import's own record: which file (name, SHA-256), when, how many rows, by what."""
    run = res(f"import-{slug(graph_name)}")
    f = res(f"file-{checksum[:16]}")
    agent = res(IMPORTER)
    now = datetime.now(UTC).replace(microsecond=0).isoformat()
    yield triple(run, RDF_TYPE, ns(PROV + "Activity"))
    yield triple(run, RDFS_LABEL, text(f"import of {path.name}"))
    yield triple(run, ns(PROV + "used"), f)
    yield triple(run, ns(PROV + "endedAtTime"), f'"{now}"^^<{XSD}dateTime>')
    yield triple(run, ns(PROV + "wasAssociatedWith"), agent)
    yield triple(run, ckb("rowCount"), integer(result.rows))
    yield triple(run, ckb("skippedRows"), integer(len(result.skipped)))
    yield triple(run, ckb("matchDecisions"), text(stamp.split(" ", 1)[1]))
    yield triple(f, RDF_TYPE, ckb("ImportedFile"))
    yield triple(f, RDFS_LABEL, text(path.name))
    yield triple(f, ckb("sha256"), text(checksum))
    yield triple(agent, RDF_TYPE, ckb("Software"))
    yield triple(agent, RDFS_LABEL, text("conflict-kb importer (kb.imports)"))


def _write_report(report: Path, source: Path, skipped: list[tuple[int, str]]) -> None:
    """Write the skipped rows and their reasons as CSV."""
    with report.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["file", "line", "reason"])
        for line, reason in skipped:
            w.writerow([source.name, line, reason])

