"""``ckb import`` while ``ckb serve`` holds the store: a real server on loopback, the real CLI in
subprocesses. The import goes through the server (found beside the store's lock), lands, shows on
the pages; a bad file, a wrong token or no token changes nothing."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from kb.cli.liveserver import announcement, find

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SHEET = FIXTURES / "sheets" / "vantor-basin.yaml"
TOKEN = "live-import-test-token"
PER_GRAPH = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CKB_STORE", "CKB_UPDATE_TOKEN", "CKB_ENDPOINT")}
    return {**env, **extra}


def ckb(*args: str, token: str | None = None) -> subprocess.CompletedProcess[str]:
    """The real CLI in a subprocess (the update token, if any, from the environment as a user sets it)."""
    env = _env(**({"CKB_UPDATE_TOKEN": token} if token else {}))
    return subprocess.run([sys.executable, "-m", "kb.cli", *args], capture_output=True, text=True,
                          timeout=300, env=env)


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    store = tmp_path_factory.mktemp("live") / "store"
    proc = ckb("--store", str(store), "load")
    assert proc.returncode == 0, proc.stderr
    return store


@pytest.fixture
def server(loaded: Path, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """``ckb serve`` with an update token on a private copy of the store; (base URL, store)."""
    store = tmp_path / "store"
    shutil.copytree(loaded, store)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "kb.cli", "--store", str(store), "serve", "--port",
                             str(port), "--update-token", TOKEN, "--no-warm-pages", "--max-upload-mb", "1"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env())
    base = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(base + "sparql?query=ASK%7B%7D", timeout=5):
                    break
            except OSError:
                assert proc.poll() is None, proc.stderr.read().decode()
                assert time.monotonic() < deadline, "ckb serve did not come up"
                time.sleep(0.3)
        yield base, store
    finally:
        proc.terminate()
        proc.communicate(timeout=60)
    assert not announcement(store).exists(), "the server left its announcement behind"


def _graphs(base: str) -> dict[str, int]:
    url = base + "sparql?" + urllib.parse.urlencode({"query": PER_GRAPH})
    req = urllib.request.Request(url, headers={"Accept": "application/sparql-results+json"})
    with urllib.request.urlopen(req, timeout=60) as resp:
        rows = json.loads(resp.read())["results"]["bindings"]
    return {r["g"]["value"]: int(r["n"]["value"]) for r in rows}


def _page(base: str, path: str) -> str:
    req = urllib.request.Request(base + path.lstrip("/"), headers={"Accept": "text/html"})
    with urllib.request.urlopen(req, timeout=60) as resp:
        return resp.read().decode()


def test_import_goes_through_the_running_server_and_shows_on_the_pages(server) -> None:
    base, store = server
    assert find(store) == base  # announced beside the lock
    proc = ckb("--store", str(store), "import", str(SHEET), token=TOKEN)
    assert proc.returncode == 0, proc.stderr
    assert f"the store is open in 'ckb serve' at {base}: importing through it" in proc.stderr
    assert "imported 13 claims of vantor-basin.yaml into " \
           "<https://w3id.org/conflict-kb/graph/import/sheet-vantor-basin>" in proc.stdout
    assert "Traceback" not in proc.stderr
    graphs = _graphs(base)
    assert graphs.get("https://w3id.org/conflict-kb/graph/import/sheet-vantor-basin", 0) > 500
    page = _page(base, "/id/actor-ostrel-brigades")
    assert "Ostrel Brigades" in page and "artillery support since March 2029" in page
    # the same sheet again: nothing to write
    again = ckb("--store", str(store), "import", str(SHEET), token=TOKEN)
    assert again.returncode == 0 and "nothing changed" in again.stdout, again.stderr
    # a dataset through the same server (named by --server and --token this time)
    csv = ckb("import", str(FIXTURES / "ucdp-ged-tiny.csv"), "--format", "ucdp-ged", "--server", base,
              "--token", TOKEN)
    assert csv.returncode == 0, csv.stderr
    assert "imported 4 rows of ucdp-ged-tiny.csv" in csv.stdout
    assert "https://w3id.org/conflict-kb/graph/import/ucdp-ged-ucdp-ged-tiny" in _graphs(base)


def test_bad_files_and_bad_tokens_change_nothing(server, tmp_path: Path) -> None:
    base, store = server
    before = _graphs(base)
    bad = tmp_path / "sheet"
    bad.mkdir()
    shutil.copy(SHEET.with_suffix(".txt"), bad)
    (bad / SHEET.name).write_text(SHEET.read_text(encoding="utf-8").replace("hedge: reportedly",
                                                                          "hedge: maybeish"))
    proc = ckb("--store", str(store), "import", str(bad / SHEET.name), token=TOKEN)
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout.splitlines() == [f"{bad / SHEET.name}:53:12: unknown hedge 'maybeish' (the KB's: "
                                        "approximately, at least, coded as clear, coded as unclear, "
                                        "conditional, could, likely, may, reportedly, uncertain, unlikely)"]
    assert "1 problem(s)" in proc.stderr and "nothing imported" in proc.stderr

    ttl = tmp_path / "broken.ttl"
    ttl.write_text('@prefix x: <https://example.org/x#> .\nx:a x:b x:c .\nx:a x:b "open .\n')
    proc = ckb("--store", str(store), "import", str(ttl), token=TOKEN)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1].startswith(
        f"ckb: error: the server at {base} refused the import (400): {ttl}:3:"), proc.stderr
    assert "ckb-upload-" not in proc.stderr  # no path on the server's disk

    acled = FIXTURES / "acled-bad-row.csv"
    proc = ckb("--store", str(store), "import", str(acled), "--format", "acled", token=TOKEN)
    assert proc.returncode == 2 and f"(400): {acled}:3: event_date" in proc.stderr, proc.stderr

    big = tmp_path / "big.nt"  # above the server's --max-upload-mb 1
    big.write_text("".join(f"<https://example.org/s{i}> <https://example.org/p> \"{'x' * 40}\" .\n"
                           for i in range(20_000)))
    proc = ckb("--store", str(store), "import", str(big), token=TOKEN)
    assert proc.returncode == 2 and "refused the import (413)" in proc.stderr, proc.stderr

    proc = ckb("--store", str(store), "import", str(SHEET), token="not-the-token")
    assert proc.returncode == 2 and "(403): import refused: the update token is not valid" in proc.stderr
    proc = ckb("--store", str(store), "import", str(SHEET))
    assert proc.returncode == 2 and "needs its update token" in proc.stderr, proc.stderr
    assert _graphs(base) == before


def test_a_locked_store_names_the_way_through_the_server(server) -> None:
    _base, store = server
    proc = ckb("--store", str(store), "load")
    assert proc.returncode == 2
    line = proc.stderr.strip()
    assert "--memory" not in line  # it would not write to this store
    assert "ckb import FILE --server URL --token T" in line, line


def test_a_stale_announcement_is_ignored(tmp_path: Path) -> None:
    store = tmp_path / "store"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    announcement(store).write_text(json.dumps({"url": "http://127.0.0.1:9/", "pid": dead.pid}))
    assert find(store) is None
    announcement(store).write_text(json.dumps({"url": "http://127.0.0.1:9/", "pid": os.getpid()}))
    assert find(store) == "http://127.0.0.1:9/"
