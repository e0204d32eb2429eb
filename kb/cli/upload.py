"""``ckb import FILE`` through a running ``ckb serve``: the file (and a claim sheet's text) sent as a
form to the server's /import with the update token; the upload's progress and the server's answer
are shown as a local import shows its own. The server imports all-or-nothing (webui.importing)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.parse import urljoin
from urllib.request import Request, urlopen

from kb.cli.progress import Progress
from kb.errors import KBError

REPLY_WAIT = 3600.0  # seconds to wait for the server's answer: a large import takes its time
CHUNK = 256 * 1024
SHOW_SKIPPED = 50


def token_of(args: argparse.Namespace) -> str:
    """The update token: --token, else $CKB_UPDATE_TOKEN (the variable 'ckb serve' reads too)."""
    token = getattr(args, "token", None) or os.environ.get("CKB_UPDATE_TOKEN")
    if not token:
        raise KBError("importing through a running 'ckb serve' needs its update token: give --token T "
                      "or set $CKB_UPDATE_TOKEN (the server must run with --update-token)")
    return token


def remote_import(url: str, args: argparse.Namespace, found: bool = False) -> int:
    """Send ``args.file`` to the server at ``url`` and print what it did; the exit status of the import.

    ``found``: the server was found beside the store (not named by --server), which is said first."""
    from kb.cli.sheetcmds import is_sheet

    if getattr(args, "matches", None):
        raise KBError("--matches names a file on this machine; a running server imports with its own "
                      "matching decisions (stop it to import with others)")
    path = Path(args.file)
    if not path.is_file():
        raise KBError(f"{path}: no such file")
    if found:
        print(f"ckb: the store is open in 'ckb serve' at {url}: importing through it", file=sys.stderr)
    token = token_of(args)
    files = [("file", path)]
    if args.import_format == "rdf" and is_sheet(args.file):
        text = sheet_text(path)
        if text is not None:
            files.append(("text", text))
    fields = {"format": args.import_format, "name": args.name or "",
              "skip_bad": "1" if args.skip_bad else ""}
    endpoint = urljoin(url, "import")
    progress = Progress()
    with progress.activity(f"sending {path.name} to {url}") as shown:
        body, length, boundary = multipart(fields, files, shown, f"importing {path.name} on {url}")
        request = Request(endpoint, data=body, method="POST", headers={
            "Content-Type": f"multipart/form-data; boundary={boundary}", "Content-Length": str(length),
            "Authorization": f"Bearer {token}", "Accept": "application/json"})
        status, answer = _send(request, url)
    return _report(status, answer, args, url)


def sheet_text(sheet: Path) -> Path | None:
    """The text file a sheet names, if it lies in the sheet's folder (nothing else is ever sent)."""
    from kb.sheets.source import SheetSyntaxError, read_sheet

    try:
        name = read_sheet(sheet).data["document"]["text"]
    except (SheetSyntaxError, KeyError, TypeError, UnicodeDecodeError):
        return None  # the server's check says what is wrong with the sheet
    if not isinstance(name, str) or not name:
        return None
    folder = sheet.parent.resolve()
    text = (folder / name).resolve()
    return text if text.is_relative_to(folder) and text.is_file() else None


def multipart(fields: dict[str, str], files: list[tuple[str, Path]], progress: Progress,
              done: str) -> tuple[Iterator[bytes], int, str]:
    """A multipart/form-data body read from the files as it is sent; (chunks, length, boundary)."""
    boundary = f"ckb-{uuid.uuid4().hex}"
    head = b"".join(f"--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n".encode()
                    for k, v in fields.items())
    parts = [(f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; "
              f"filename=\"{_quoted(p.name)}\"\r\nContent-Type: application/octet-stream\r\n\r\n").encode()
             for field, p in files]
    tail = f"--{boundary}--\r\n".encode()
    sizes = [p.stat().st_size for _, p in files]
    length = len(head) + sum(len(h) + n + 2 for h, n in zip(parts, sizes, strict=True)) + len(tail)
    total = sum(sizes) or 1

    def chunks() -> Iterator[bytes]:
        sent = 0
        yield head
        for part, (_, p) in zip(parts, files, strict=True):
            yield part
            with p.open("rb") as f:
                while block := f.read(CHUNK):
                    sent += len(block)
                    progress(f"sending {files[0][1].name}: {sent * 100 // total}% of {_size(total)}")
                    yield block
            yield b"\r\n"
        yield tail
        progress(done)  # the rest of the wait is the server's import

    return chunks(), length, boundary


def _quoted(name: str) -> str:
    return name.replace("\\", "_").replace('"', "_").replace("\r", "_").replace("\n", "_")


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{n / 1024:.0f} kB"


def _send(request: Request, url: str) -> tuple[int, dict[str, Any]]:
    """POST the request; (status, JSON answer), whatever the status."""
    try:
        with urlopen(request, timeout=REPLY_WAIT) as response:
            return response.status, _json(response.read())
    except HTTPError as err:
        return err.code, _json(err.read())
    except URLError as err:
        raise KBError(f"cannot reach 'ckb serve' at {url}: {err.reason} (is it running? "
                      "start it, or stop it and import without a server)") from None
    except (ConnectionError, TimeoutError) as err:
        raise KBError(f"the connection to {url} broke during the import: {err} (the server imports "
                      "all-or-nothing: run the import again)") from None


def _json(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except ValueError:
        return {"error": {"message": " ".join(raw.decode("utf-8", "replace").split())[:300]}}
    return value if isinstance(value, dict) else {}


def _report(status: int, answer: dict[str, Any], args: argparse.Namespace, url: str) -> int:
    """Print the server's answer as a local import prints its own; return the exit status."""
    name = Path(args.file).name
    local = [p.replace(f"{name}:", f"{args.file}:", 1) if p.startswith(f"{name}:") else p
             for p in answer.get("problems") or []]
    if local:  # a bad sheet: one line per problem, nothing imported (as 'ckb import' without a server)
        for problem in local:
            print(problem)
        print(f"ckb: error: {len(local)} problem(s) in {args.file}; nothing imported", file=sys.stderr)
        return 1
    if status != 200:
        message = (answer.get("error") or {}).get("message") or f"HTTP {status}"
        if message.startswith(f"{name}:"):  # a data error at FILE:LINE:COLUMN: the file as given here
            message = args.file + message[len(name):]
        raise KBError(f"the server at {url} refused the import ({status}): {message}")
    for note in answer.get("notes") or []:
        print(note, file=sys.stderr)
    print(answer.get("summary") or f"imported {args.file}")
    if answer.get("minted"):
        print("new actors and places: " + ", ".join(answer["minted"]))
    skipped = [(int(line), str(reason)) for line, reason in answer.get("skipped") or []]
    if skipped:
        from kb.imports.pipeline import _write_report  # the same report a local --skip-bad writes

        report = args.report or f"{args.file}.skipped.csv"
        _write_report(Path(report), Path(args.file), skipped)
        for line, reason in skipped[:SHOW_SKIPPED]:
            print(f"ckb: skipped {args.file}:{line}: {' '.join(reason.split())}", file=sys.stderr)
        print(f"skipped {len(skipped)} bad rows; every one is listed in {report}")
    if not answer.get("unchanged"):
        print("claim index: the server rebuilds it in the background (unless it runs with --no-index)")
    return 0
