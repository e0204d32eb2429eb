"""/import through the Flask test client on a real memory store: the form only behind the token, 403
without it (or from another site), 400 with FILE:LINE:COLUMN for bad files, 413 above the limit, and
never a path on the server's disk taken from the client. Nothing changes unless the answer is 200."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from kb import KnowledgeBase
from webui import create_app

SHEETS = Path(__file__).resolve().parent / "fixtures" / "sheets"
SHEET, TEXT = SHEETS / "vantor-basin.yaml", SHEETS / "vantor-basin.txt"
TOKEN = "web-import-token"
GRAPH = "https://w3id.org/conflict-kb/graph/import/sheet-vantor-basin"
HTML, JSON = {"Accept": "text/html"}, {"Accept": "application/json"}


@pytest.fixture
def kb() -> Iterator[KnowledgeBase]:
    with KnowledgeBase.open(memory=True) as k:
        k.load()
        yield k


def _client(kb: KnowledgeBase, **config: object):
    return create_app({"KB": kb, "UPDATE_TOKEN": TOKEN, "PAGE_CACHE_BYTES": 0, **config}).test_client()


def _form(sheet: bytes | None = None, text: bytes | None = None, name: str = SHEET.name,
          **fields: str) -> dict[str, object]:
    form: dict[str, object] = {"file": (io.BytesIO(sheet if sheet is not None else SHEET.read_bytes()), name)}
    if text is not None or name.endswith(".yaml"):
        form["text"] = (io.BytesIO(text if text is not None else TEXT.read_bytes()), TEXT.name)
    return {**form, **fields}


def test_the_page_and_its_link_exist_only_with_updates_enabled(kb) -> None:
    closed = create_app({"KB": kb, "PAGE_CACHE_BYTES": 0}).test_client()
    assert closed.get("/import", headers=HTML).status_code == 404
    assert 'href="/import"' not in closed.get("/", headers=HTML).get_data(as_text=True)
    assert closed.post("/import", data=_form(token=TOKEN), headers=JSON).status_code == 403
    client = _client(kb)
    assert 'href="/import"' in client.get("/", headers=HTML).get_data(as_text=True)
    page = client.get("/import", headers=HTML)
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert 'name="token" type="password"' in body and 'enctype="multipart/form-data"' in body


def test_no_token_a_wrong_token_or_another_site_is_403_and_changes_nothing(kb) -> None:
    client, before = _client(kb), dict(kb.graphs())
    answer = client.post("/import", data=_form(), headers=JSON)
    assert answer.status_code == 403
    assert answer.get_json()["error"]["message"] == "import refused: give the update token"
    assert client.post("/import", data=_form(token="wrong"), headers=JSON).status_code == 403
    bearer = {**JSON, "Authorization": "Bearer wrong"}
    assert client.post("/import", data=_form(token=TOKEN), headers=bearer).status_code == 403
    forged = {**HTML, "Origin": "https://elsewhere.example"}
    answer = client.post("/import", data=_form(token=TOKEN), headers=forged)
    assert answer.status_code == 403 and "another site" in answer.get_data(as_text=True)
    assert kb.graphs() == before


def test_a_sheet_and_its_text_land_through_the_form(kb) -> None:
    client = _client(kb)
    same_site = {**HTML, "Origin": "http://localhost"}
    answer = client.post("/import", data=_form(token=TOKEN), headers=same_site)
    body = answer.get_data(as_text=True)
    assert answer.status_code == 200, body
    assert f"imported 13 claims of vantor-basin.yaml into &lt;{GRAPH}&gt;" in body
    assert kb.graphs()[GRAPH] > 500
    page = client.get("/id/actor-ostrel-brigades", headers=HTML).get_data(as_text=True)
    assert "artillery support since March 2029" in page


def test_a_bearer_token_gets_json(kb) -> None:
    answer = _client(kb).post("/import", data=_form(), headers={**JSON, "Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.get_json()["graph"] == GRAPH and not answer.get_json()["problems"]


def test_a_bad_sheet_is_400_with_each_problem_and_changes_nothing(kb) -> None:
    client, before = _client(kb), dict(kb.graphs())
    bad = SHEET.read_text(encoding="utf-8").replace("hedge: reportedly", "hedge: maybeish").encode()
    answer = client.post("/import", data=_form(bad, token=TOKEN), headers=JSON)
    assert answer.status_code == 400
    problems = answer.get_json()["problems"]
    assert len(problems) == 1 and problems[0].startswith("vantor-basin.yaml:53:12: unknown hedge 'maybeish'")
    page = client.post("/import", data=_form(bad, token=TOKEN), headers=HTML)
    assert page.status_code == 400 and "vantor-basin.yaml:53:12: unknown hedge" in page.get_data(as_text=True)
    no_text = {"file": (io.BytesIO(SHEET.read_bytes()), SHEET.name), "token": TOKEN}
    answer = client.post("/import", data=no_text, headers=JSON)
    assert answer.status_code == 400
    assert answer.get_json()["problems"][0].startswith(
        "vantor-basin.yaml:8:9: no text file 'vantor-basin.txt' beside the sheet (vantor-basin.txt)")
    assert kb.graphs() == before


def test_bad_turtle_is_400_at_its_line_and_column_without_a_server_path(kb) -> None:
    client, before = _client(kb), dict(kb.graphs())
    broken = b'@prefix x: <https://example.org/x#> .\nx:a x:b x:c .\nx:a x:b "open .\n'
    answer = client.post("/import", data={"file": (io.BytesIO(broken), "broken.ttl"), "token": TOKEN},
                         headers=JSON)
    assert answer.status_code == 400
    message = answer.get_json()["error"]["message"]
    assert message.startswith("broken.ttl:3:") and "ckb-upload-" not in message and "/tmp" not in message
    assert kb.graphs() == before


def test_the_client_names_no_path_on_the_server(kb, tmp_path: Path) -> None:
    client = _client(kb)
    ttl = b"<https://example.org/a> <https://example.org/b> <https://example.org/c> .\n"
    answer = client.post("/import", data={"file": (io.BytesIO(ttl), "../../../etc/evil.nt"), "token": TOKEN},
                         headers=JSON)
    assert answer.status_code == 200
    assert answer.get_json()["graph"] == "https://w3id.org/conflict-kb/graph/import/evil"
    secret = tmp_path / "secret.txt"
    secret.write_text("Fighting broke out this week between the Ostrel Brigades and the Kessani Home Guard")
    for named in (str(secret), f"../../../../../../..{secret}"):
        sheet = SHEET.read_text(encoding="utf-8").replace("text: vantor-basin.txt", f"text: {named}")
        answer = client.post("/import", data=_form(sheet.encode(), token=TOKEN), headers=JSON)
        assert answer.status_code == 400
        assert "must be in the sheet's folder" in answer.get_json()["problems"][0]
    assert GRAPH not in kb.graphs()


def test_an_upload_above_the_limit_is_413(kb) -> None:
    client, before = _client(kb, IMPORT_MAX_BYTES=4096), dict(kb.graphs())
    answer = client.post("/import", data=_form(token=TOKEN), headers=JSON)  # the sheet alone is 4.4 kB
    assert answer.status_code == 413
    assert kb.graphs() == before
