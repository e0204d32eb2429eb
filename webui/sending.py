"""Sending exports: admitted like queries, prepared in a worker, streamed from disk.

Every download whose size grows with the data (an /export file, a Graph Store GET, an
entity's RDF) holds a download slot of its client (webui.admission) from arrival until its
last byte is sent; a whole graph comes from kb.export.files, which builds it once per store
generation in a worker. The server process only copies the file to the socket, a chunk at a time.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO
from urllib.parse import quote

from flask import Flask, Response, current_app

from kb.export.files import ExportFiles, Scope
from kb.query.scheduling import Overloaded
from webui import get_kb

CHUNK = 256 * 1024


class _FileChunks:
    """A WSGI body reading a file a chunk at a time; close() (called by the server) releases the slot."""

    def __init__(self, file: BinaryIO, release: Callable[[], None]) -> None:
        self.file, self.release = file, release

    def __iter__(self) -> Iterator[bytes]:
        try:
            while chunk := self.file.read(CHUNK):
                yield chunk
        finally:
            self.close()  # sent (or given up): a server calls close() too, a test client may not

    def close(self) -> None:
        try:
            self.file.close()
        finally:
            self.release()  # once: later calls do nothing


def init_app(app: Flask, kb: Any) -> None:
    """Give ``app`` the export files of ``kb`` (none where the store cannot hand a worker its graphs)."""
    if hasattr(kb.backend, "start_reader"):
        app.extensions["ckb.exports"] = ExportFiles(kb)


def export_files() -> ExportFiles | None:
    """The app's export files, or None (a remote store: exports are written here, within a slot)."""
    return current_app.extensions.get("ckb.exports")


def timeout() -> float:
    """How long a download may wait for its file, from its arrival."""
    config = current_app.config
    return float(config["QUERY_TIMEOUT"] or getattr(get_kb(), "timeout", 10.0))


def send_scope(scope: Scope, fmt: str, content_type: str, filename: str | None = None,
               fallback: Callable[[], bytes] | None = None) -> Response:
    """Answer with ``scope`` written in ``fmt`` (a kb.export format name), from its file."""
    slot = current_app.extensions["ckb.admission"].download(timeout())
    try:
        files = export_files()
        if files is None:
            assert fallback is not None
            response = Response(fallback(), content_type=content_type)
            slot.release()
        else:
            file = _open(files, scope, fmt, slot.deadline)
            slot.ready()
            response = Response(_FileChunks(file, slot.release), content_type=content_type)
            response.content_length = os.fstat(file.fileno()).st_size
    except BaseException:
        slot.release()
        raise
    if filename:
        response.headers["Content-Disposition"] = attachment(filename)
    return response


def _open(files: ExportFiles, scope: Scope, fmt: str, deadline: float) -> BinaryIO:
    """The export file, open; a file a newer generation's build removed just now is asked for again."""
    for _ in range(3):
        try:
            return open(files.file(scope, fmt, deadline), "rb")  # the response body closes it
        except FileNotFoundError:
            continue  # a write came between finding the file and opening it
    raise Overloaded("the store is changing; retry", 2)


def send_bytes(make: Callable[[float], bytes], content_type: str) -> Response:
    """Answer with bytes a worker wrote within a download slot's time (an entity's statements)."""
    slot = current_app.extensions["ckb.admission"].download(timeout())
    try:
        return Response(make(slot.granted), content_type=content_type)
    finally:
        slot.release()


def attachment(filename: str) -> str:
    """A Content-Disposition for ``filename``, which may hold any character (RFC 6266)."""
    plain = "".join(c if c.isascii() and c.isprintable() and c not in '"\\;%' else "_" for c in filename)
    if plain == filename:
        return f'attachment; filename="{filename}"'
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(filename, safe='')}"

