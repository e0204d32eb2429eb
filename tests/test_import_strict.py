"""Strict dataset input (issue 18 item 12): every flaw is one line naming FILE:LINE[:COLUMN], nothing
half-imported; with --skip-bad every skipped row is reported, and no good row disappears unreported."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from kb import KnowledgeBase
from kb.errors import KBError
from kb.imports import run_import
from tests.conftest import GED_BANGLADESH

ROOT = Path(__file__).resolve().parent.parent
GED = GED_BANGLADESH
if not GED.is_file():
    GED = ROOT / "tests" / "fixtures" / "ucdp-ged-19.1-bangladesh.csv"
ACLED = ROOT / "tests" / "fixtures" / "acled-syria-sample.csv"

pytestmark = pytest.mark.skipif(not GED.is_file(), reason="UCDP GED Bangladesh sample not available")


def table(path: Path, n: int) -> tuple[list[str], list[list[str]]]:
    """The header and the first n single-line rows of a CSV file."""
    with path.open(encoding="utf-8", newline="") as f:
        header, *rows = csv.reader(f)
    return header, [r for r in rows if not any("\n" in v for v in r)][:n]


def csv_text(header: list[str], rows: list[list[str]]) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return out.getvalue()


def edit(path: Path, column: str, value: str, row: int = 2) -> Callable[[Path], Path]:
    """A maker of a copy of the file's first five rows with one cell changed."""
    def make(tmp: Path) -> Path:
        header, rows = table(path, 5)
        rows[row][header.index(column)] = value
        out = tmp / f"bad-{path.stem}.csv"
        out.write_text(csv_text(header, rows), encoding="utf-8")
        return out
    return make


def raw(path: Path, change: Callable[[list[str]], list[str]], *, binary: bytes | None = None
        ) -> Callable[[Path], Path]:
    """A maker of a copy whose lines (header first, five rows) are changed as text."""
    def make(tmp: Path) -> Path:
        header, rows = table(path, 5)
        lines = change(csv_text(header, rows).splitlines(keepends=True))
        out = tmp / f"bad-{path.stem}.csv"
        data = "".join(lines).encode("utf-8")
        out.write_bytes(data.replace(b"@BYTES@", binary) if binary is not None else data)
        return out
    return make


def _extra_field(lines: list[str]) -> list[str]:
    lines[3] = lines[3].rstrip("\n") + ",surplus\n"
    return lines


def _duplicate(lines: list[str]) -> list[str]:
    return [*lines[:4], lines[1], *lines[4:]]


def _nul(lines: list[str]) -> list[str]:
    lines[2] = lines[2].replace(",", ",ab\x00c", 1)
    return lines


def _open_last(line: str) -> str:
    """The line with a quote opened in its last field (and never closed)."""
    head, last = line.rsplit(",", 1)
    return f'{head},"{last}'


def _latin1(lines: list[str]) -> list[str]:
    lines[1] = lines[1].replace(",", ",@BYTES@", 1)
    return lines


CASES = {
    "unknown column": (raw(GED, lambda ls: [ls[0].rstrip("\n") + ",bogus\n", *ls[1:]]),
                       r":1: unknown column\(s\): 'bogus'"),
    "duplicate column": (raw(GED, lambda ls: [ls[0].replace("year,", "year,year,", 1), *ls[1:]]),
                         r":1: column 'year' appears twice"),
    "extra field": (raw(GED, _extra_field), r":4: 43 fields; the header has 42"),
    "date with trailing garbage": (edit(GED, "date_start", "2013-12-13; or so"),
                                   r":4: date_start '2013-12-13; or so' is not a date"),
    "400-digit count": (edit(GED, "best", "9" * 400),
                        r":4: best '999999999999'\.\.\. \(400 characters\) is too large"),
    "duplicate id": (raw(GED, _duplicate), r":5: id '\d+' repeats the row on line 2"),
    "NUL byte": (raw(GED, _nul), r":3:\d+: a NUL byte"),
    "not UTF-8 in the header": (raw(GED, lambda ls: ["id@BYTES@" + ls[0][2:], *ls[1:]], binary=b"\xff"),
                                r":1:3: byte 0xff is not UTF-8"),
    "not UTF-8 in a row": (raw(GED, _latin1, binary=b"D\xe9cor"), r":2:\d+: byte 0xe9 is not UTF-8"),
    "50 MB line": (raw(GED, lambda ls: [*ls[:2], "x" * (50 << 20) + "\n", *ls[2:]]),
                   r":3: the line is longer than 1 MiB"),
    "50 MB header": (raw(GED, lambda ls: ["x" * (50 << 20)]), r":1: the line is longer than 1 MiB"),
    "unclosed quote": (raw(GED, lambda ls: [*ls[:2], _open_last(ls[2]), *ls[3:]]),
                       r":3: .* \(the record runs from here to line \d+: an unclosed quote\?\)"),
    "ACLED unknown column": (raw(ACLED, lambda ls: [ls[0].rstrip("\n") + ",bogus\n", *ls[1:]]),
                             r":1: unknown column\(s\): 'bogus'"),
    "ACLED date with trailing garbage": (edit(ACLED, "event_date", "2019-01-23 and after", row=0),
                                         r":2: event_date '2019-01-23 and after' is neither"),
    "ACLED 400-digit count": (edit(ACLED, "fatalities", "1" * 400, row=1), r":3: fatalities .* is too large"),
    "ACLED duplicate id": (raw(ACLED, lambda ls: [*ls, ls[2]]),
                           r":5: event_id_cnty 'SYR\d+' repeats the row on line 3"),
}


@pytest.fixture(scope="module")
def kb():
    with KnowledgeBase.open(memory=True) as k:
        k.ensure_loaded()
        yield k


@pytest.mark.parametrize("case", CASES)
def test_bad_input_is_one_line_naming_file_and_line_and_nothing_is_imported(kb, tmp_path, case) -> None:
    make, expected = CASES[case]
    path = make(tmp_path)
    fmt = "acled" if case.startswith("ACLED") else "ucdp-ged"
    before = kb.graphs()
    with pytest.raises(KBError) as caught:
        run_import(kb, path, fmt)
    message = str(caught.value)
    assert "\n" not in message and len(message) < 400, message
    assert message.startswith(f"{path}:"), message
    assert re.search(re.escape(str(path)) + expected, message), message
    assert kb.graphs() == before


def test_cli_says_where_in_one_line(tmp_path, capsys) -> None:
    """Through `ckb import`: exit status 2, one line on stderr, no traceback, no graph."""
    from kb.cli.main import main

    store = tmp_path / "store"
    assert main(["--store", str(store), "load"]) == 0
    capsys.readouterr()
    for case in ("not UTF-8 in the header", "50 MB header", "400-digit count"):
        path = CASES[case][0](tmp_path)
        assert main(["--store", str(store), "import", "--format", "ucdp-ged", str(path)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith(f"ckb: error: {path}:"), err
    assert main(["--store", str(store), "query", "ASK { GRAPH ?g { ?e <https://w3id.org/conflict-kb/"
                 "ontology#ucdpId> ?id } }"]) == 0
    assert "false" in capsys.readouterr().out.lower()


def test_skip_bad_reports_every_row_and_keeps_the_good_ones_after_an_unclosed_quote(kb, tmp_path) -> None:
    """An unclosed quote used to swallow the rows after it; now only its own line is skipped."""
    header, rows = table(GED, 12)
    lines = csv_text(header, rows).splitlines(keepends=True)
    lines[3] = _open_last(lines[3])  # line 4: a quote opened and never closed
    lines[8] = lines[8].replace(",", ",\x00", 1)  # line 9: a NUL byte
    path = tmp_path / "skips.csv"
    path.write_text("".join(lines), encoding="utf-8")
    report = tmp_path / "skipped.csv"
    result = run_import(kb, path, "ucdp-ged", name="skips", skip_bad=True, report=report)
    assert [line for line, _ in result.skipped] == [4, 9]
    assert result.rows == 10
    got = {str(r["id"]) for r in kb.query(f"""SELECT ?id WHERE {{ GRAPH <{result.graph}> {{
        ?c <https://w3id.org/conflict-kb/ontology#codesRecord> ?e .
        ?e <https://w3id.org/conflict-kb/ontology#ucdpId> ?id ; a ?t }} }}""").rows}
    assert got == {r[0] for i, r in enumerate(rows) if i not in (2, 7)}
    with report.open(encoding="utf-8", newline="") as f:
        reported = [(r["file"], r["line"]) for r in csv.DictReader(f)]
    assert reported == [("skips.csv", "4"), ("skips.csv", "9")]


def test_only_bad_rows_replace_nothing(kb, tmp_path) -> None:
    """A file whose every row is skipped must not replace an earlier import with an empty graph."""
    header, rows = table(GED, 3)
    good = tmp_path / "g.csv"
    good.write_text(csv_text(header, rows), encoding="utf-8")
    first = run_import(kb, good, "ucdp-ged", name="only-bad")
    size = kb.graphs()[first.graph]
    for row in rows:
        row[header.index("best")] = "many"
    good.write_text(csv_text(header, rows), encoding="utf-8")
    with pytest.raises(KBError, match=r"g\.csv: no rows to import \(3 skipped as bad\)"):
        run_import(kb, good, "ucdp-ged", name="only-bad", skip_bad=True)
    assert kb.graphs()[first.graph] == size


def test_cli_skip_bad_names_every_skipped_row(tmp_path, capsys) -> None:
    """`ckb import --skip-bad` prints each skipped row as FILE:LINE and lists it in the report."""
    from kb.cli.main import main

    header, rows = table(GED, 8)
    lines = csv_text(header, rows).splitlines(keepends=True)
    lines[2] = _open_last(lines[2])
    lines[6] = lines[6].replace(",", ",\x00", 1)
    path = tmp_path / "cli.csv"
    path.write_text("".join(lines), encoding="utf-8")
    store = tmp_path / "store"
    assert main(["--store", str(store), "load"]) == 0
    capsys.readouterr()
    assert main(["--store", str(store), "import", "--format", "ucdp-ged", "--skip-bad", str(path)]) == 0
    out, err = capsys.readouterr()
    assert "imported 6 rows" in out and f"listed in {path}.skipped.csv" in out
    skipped = [ln.split(": ")[1] for ln in err.splitlines() if ln.startswith("ckb: skipped ")]
    assert skipped == [f"skipped {path}:3", f"skipped {path}:7"]


def test_an_unclosed_quote_running_to_the_end_swallows_no_row(kb, tmp_path) -> None:
    """The issue's case: a quote opened in a row and never closed ran on to the end of the file,
    and --skip-bad imported the rows before it without a word about the three good rows after it."""
    header, rows = table(GED, 6)
    plain = [[v.replace(",", " ").replace('"', " ") for v in r] for r in rows]  # written unquoted
    lines = csv_text(header, plain).splitlines(keepends=True)
    assert '"' not in "".join(lines)
    lines[3] = _open_last(lines[3])  # line 4; lines 5, 6 and 7 are good rows
    path = tmp_path / "eof.csv"
    path.write_text("".join(lines), encoding="utf-8")
    with pytest.raises(KBError, match=r"eof\.csv:4: malformed CSV: unexpected end of data \(the record "
                                      r"runs from here to line 7: an unclosed quote\?\)"):
        run_import(kb, path, "ucdp-ged", name="eof")
    result = run_import(kb, path, "ucdp-ged", name="eof", skip_bad=True)
    assert [line for line, _ in result.skipped] == [4] and result.rows == 5
