"""Shared fixtures: real stores, never mocks."""

from __future__ import annotations

import contextlib
import socket
import threading
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kb import KnowledgeBase
from kb.store import protocol

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
# The shared reference material (W3C suites, UCDP data): beside the checkout, else where CI keeps it.
_NEAR = Path(__file__).resolve().parents[2] / "shared"
SHARED = _NEAR if _NEAR.is_dir() else Path("/work/shared")
GED_BANGLADESH = SHARED / "data" / "ucdp-ged-19.1-bangladesh.csv"  # 601 real UCDP GED rows
# Four synthetic GED rows in Syria: three in Idlib governorate, which a reviewed matching decision
# (data/matches/decisions.ttl) makes the article's Idlib province, and one in Aleppo.
SYNTHETIC_GED = FIXTURES / "ucdp-ged-syria-synthetic.csv"
IDLIB = "https://w3id.org/conflict-kb/id/IdlibProvince"
SYRIA = "https://w3id.org/conflict-kb/id/Syria"


@pytest.fixture(scope="session", autouse=True)
def _derived_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Remote KBs keep derived state under $CKB_DERIVED_DIR (default: the user's cache): the tests'
    go to a folder of the session's own, seen by the ckb processes they start too."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CKB_DERIVED_DIR", str(tmp_path_factory.mktemp("derived")))
        yield


@pytest.fixture(scope="module")
def syria_loaded() -> Iterator[KnowledgeBase]:
    """The bundle in memory, with the synthetic Syria GED rows imported."""
    from kb.imports.pipeline import run_import

    with KnowledgeBase.open(memory=True) as kb:
        kb.load()
        run_import(kb, SYNTHETIC_GED, "ucdp-ged")
        yield kb


@pytest.fixture(scope="session")
def kb() -> Iterator[KnowledgeBase]:
    """A memory KB loaded with the bundled ontology, shapes, data and inferences (read-only use)."""
    with KnowledgeBase.open(memory=True) as k:
        k.load()
        yield k


@pytest.fixture
def fresh_kb(tmp_path: Path) -> Iterator[KnowledgeBase]:
    """A new, empty on-disk KB per test, for tests that write."""
    with KnowledgeBase.open(tmp_path / "store") as k:
        yield k


@contextlib.contextmanager
def counting_server(answer: bytes | None = None) -> Iterator[tuple[int, list[str]]]:
    """A TCP listener on loopback that records every connection made to it: (port, hits); with
    ``answer``, it reads the request and sends those bytes back before closing."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    server.settimeout(0.2)
    hits: list[str] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            hits.append("connection")
            if answer is not None:
                with contextlib.suppress(OSError):
                    conn.settimeout(1)
                    conn.recv(4096)
                    conn.sendall(answer)
            conn.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1], hits
    finally:
        stop.set()
        thread.join()
        server.close()


@pytest.fixture
def listener() -> Iterator[tuple[int, list[str]]]:
    """A TCP listener on loopback that records every connection made to it: (port, hits)."""
    with counting_server() as found:
        yield found


# The real SPARQL servers (Oxigraph server, Virtuoso), one each per session.
# The KB the annotation tests annotate (web routes and browser alike).
from tests.annotating import annotated_kb  # noqa: E402, F401
from tests.engines import Server, oxigraph, virtuoso  # noqa: E402, F401


@pytest.fixture(scope="module", params=("oxigraph", "virtuoso"))
def sparql_server(request: pytest.FixtureRequest) -> Server:
    """Each real SPARQL server in turn (a module wanting one server overrides this fixture)."""
    return request.getfixturevalue(request.param)


@pytest.fixture(scope="module")
def remote(sparql_server: Server) -> Iterator[KnowledgeBase]:
    """A KB on ``sparql_server`` with the bundle loaded, writable with the token "t"."""
    with KnowledgeBase.open(endpoint=sparql_server.query, update_endpoint=sparql_server.update,
                            update_token="t") as k:
        k.load()
        yield k


@pytest.fixture(scope="module")
def embedded(data: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[KnowledgeBase]:
    """The bundle and the module's own ``data`` file on a disk store, with its claim index: the
    embedded answer a module's remote KB is compared with (a module may define its own)."""
    from kb.derived import claimindex

    with KnowledgeBase.open(tmp_path_factory.mktemp("embedded") / "store") as k:
        k.load()
        k.import_file(data)
        claimindex.build(k)
        yield k


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every query and update text the protocol layer sends, passed through to the real server."""
    seen: list[str] = []
    real = protocol.send

    def recording(url: str, params: list[tuple[str, str]], *args: Any, **kwargs: Any) -> bytes:
        seen.extend(v for k, v in params if k == "query")
        body = kwargs.get("body")
        if isinstance(body, bytes) and body.startswith(b"update="):
            seen.extend(urllib.parse.parse_qs(body.decode("ascii"))["update"])
        return real(url, params, *args, **kwargs)

    monkeypatch.setattr(protocol, "send", recording)
    return seen
