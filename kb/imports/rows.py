"""Strict, streaming CSV reading for dataset imports: every flaw is named by file, line and column.

The csv module does the parsing; this module feeds it the file's physical lines one by one, decoded and
checked (UTF-8, no NUL byte, at most MAX_LINE bytes), and checks each record's shape against the header.
A record whose shape is wrong (an unclosed quote, a stray quote, too many or too few fields) may have
swallowed the lines that follow it: when bad rows are skipped, only its first line is dropped and the
others are read again, so no good row disappears unreported.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from kb.errors import KBError

from .common import BadRow

MAX_LINE = 1 << 20  # bytes; a dataset row is a few kB: a longer line is not a row (and is never buffered)
_CHUNK = 1 << 16


class _Lines:
    """The file's physical lines for csv.reader: numbered, decoded, checked, and re-readable."""

    def __init__(self, f: BinaryIO) -> None:
        self.f = f
        self.read = 0  # physical lines read from the file so far
        self.taken: list[tuple[int, str]] = []  # the lines of the record being read
        self.back: list[tuple[int, str]] = []  # lines given back to be read again (last first)
        self.flaws: dict[int, tuple[BadRow, bool]] = {}  # line -> flaw, and whether it breaks the shape

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        if self.back:
            item = self.back.pop()
        else:
            raw = self.f.readline(MAX_LINE + 1)
            if not raw:
                raise StopIteration
            self.read += 1
            item = (self.read, self._decode(raw))
        self.taken.append(item)
        return item[1]

    def _decode(self, raw: bytes) -> str:
        n = self.read
        if len(raw) > MAX_LINE:
            while raw and not raw.endswith(b"\n"):  # skip the rest of the line without keeping it
                raw = self.f.readline(_CHUNK)
            self.flaws[n] = (BadRow(f"the line is longer than {MAX_LINE >> 20} MiB: not a dataset row"), True)
            return "\n"
        if n == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            column = len(raw[: e.start].decode("utf-8", "replace")) + 1
            self.flaws[n] = (BadRow(f"byte 0x{raw[e.start]:02x} is not UTF-8 (the file must be UTF-8)",
                                    column), False)
            return raw.decode("utf-8", "replace")
        if "\x00" in text:
            self.flaws[n] = (BadRow("a NUL byte", text.index("\x00") + 1), False)
        return text

    def record_lines(self) -> list[tuple[int, str]]:
        """The lines of the record just read (and start the next one)."""
        taken, self.taken = self.taken, []
        return taken

    def give_back(self, lines: list[tuple[int, str]]) -> None:
        """Read these lines again, in order, before the rest of the file."""
        self.back.extend(reversed(lines))


def position(path: Path, line: int, err: BadRow) -> str:
    """FILE:LINE[:COLUMN]: message."""
    column = f":{err.column}" if err.column else ""
    return f"{path}:{line}{column}: {err}"


def read_rows(path: Path, required: tuple[str, ...], known: frozenset[str],
              bad: Callable[[int, BadRow], None]) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield (first line, row) for each well-formed record; hand every malformed one to bad(line, why).

    The header is checked first (a flaw there is always an error): UTF-8, no duplicate, unknown or
    missing column. bad() raises to stop the import, or returns to skip the record.
    """
    try:
        f = path.open("rb")
    except OSError as e:
        raise KBError(f"{path}: {e.strerror}") from None
    with f:
        lines = _Lines(f)
        reader = csv.reader(lines, strict=True)
        header = _header(path, reader, lines, required, known)
        width = len(header)
        while True:
            try:
                fields = next(reader)
                error = None
            except StopIteration:
                return
            except csv.Error as e:
                fields, error = [], BadRow(f"malformed CSV: {e}")
            taken = lines.record_lines()
            first, last = taken[0][0], taken[-1][0]
            flawed = [n for n, _ in taken if n in lines.flaws] if lines.flaws else []
            if error is None and len(fields) != width:
                if not fields and not flawed:
                    continue  # a blank line
                error = BadRow(f"{len(fields)} fields; the header has {width}")
            if len(taken) > 1 and (error is not None or any(lines.flaws[n][1] for n in flawed)):
                # a misshapen record over several lines: drop its first line, read the others again
                # (their own flaws stay to be reported when they are read)
                own = lines.flaws.pop(first, None)
                if own is not None:
                    why = own[0]
                elif error is not None:
                    why = BadRow(f"{error} (the record runs from here to line {last}: an unclosed quote?)")
                else:
                    why = BadRow(f"the record runs on to line {flawed[0]}: {lines.flaws[flawed[0]][0]}")
                bad(first, why)
                lines.give_back(taken[1:])
                continue
            flaws = [lines.flaws.pop(n)[0] for n in flawed]
            if flaws:
                bad(flawed[0], flaws[0])
                continue
            if error is not None:
                bad(first, error)
                continue
            yield first, dict(zip(header, fields, strict=True))


def _header(path: Path, reader: Iterator[list[str]], lines: _Lines, required: tuple[str, ...],
            known: frozenset[str]) -> list[str]:
    """The checked header row."""
    try:
        header = next(reader)
    except StopIteration:
        raise KBError(f"{path}:1: the file is empty (a header row is required)") from None
    except csv.Error as e:
        raise KBError(f"{path}:1: malformed CSV header: {e}") from None
    taken = lines.record_lines()
    for n, _ in taken:
        if n in lines.flaws:
            raise KBError(position(path, n, lines.flaws[n][0]))
    if len(taken) > 1:
        raise KBError(f"{path}:1: the header runs to line {taken[-1][0]} (an unclosed quote?)")
    seen: set[str] = set()
    for name in header:
        if name in seen:
            raise KBError(f"{path}:1: column {name!r} appears twice")
        seen.add(name)
    unknown = [c for c in header if c not in known]
    if unknown:
        raise KBError(f"{path}:1: unknown column(s): {', '.join(map(repr, unknown[:5]))} "
                      f"(not in the codebook; check the file's format)")
    missing = [c for c in required if c not in seen]
    if missing:
        raise KBError(f"{path}:1: missing column(s): {', '.join(missing)}")
    return header
