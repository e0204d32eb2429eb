"""The reader's annotation routes: only with the update token and from the same site (403 with a
readable message otherwise), bad input a readable 4xx, and nothing written by a refused request."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskClient

from kb import KnowledgeBase
from kb.sheets.importer import import_sheet
from tests.annotating import CKBR, DOC, QUOTE, SHEETS, TEXT, forged
from webui import create_app

TOKEN = "annotate-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path / "annotations"


@pytest.fixture
def client(annotated_kb: KnowledgeBase, folder: Path) -> FlaskClient:
    app = create_app({"KB": annotated_kb, "UPDATE_TOKEN": TOKEN, "ANNOTATION_DIR": str(folder),
                      "PAGE_CACHE_BYTES": 0})
    return app.test_client()


def _claim(kb: KnowledgeBase, **change: object) -> dict:
    body = {"doc": DOC, "quote": QUOTE, "start": TEXT.index(QUOTE), "kind": "report", "chain": [],
            "states": [{"relation": "alliance", "actors": [CKBR + "actor-kingdom-of-sorve",
                                                           CKBR + "actor-republic-of-dalmark"]}]}
    body.update(change)
    return body


def _message(response) -> str:
    return response.get_json()["error"]["message"]


def test_forged_requests_get_403(client: FlaskClient, annotated_kb: KnowledgeBase, folder: Path) -> None:
    graphs = annotated_kb.graphs()
    accept = {"Accept": "application/json"}
    for headers, said in forged(TOKEN):
        r = client.post("/annotate/claims", json=_claim(annotated_kb), headers={**headers, **accept})
        assert r.status_code == 403, (headers, r.status_code)
        assert said in _message(r) and "Traceback" not in r.get_data(as_text=True)
    # a plain cross-site form post, the classic CSRF: no token can come with it
    r = client.post("/annotate/claims", data={"doc": DOC, "quote": QUOTE},
                    headers={"Origin": "http://evil.example"})
    assert r.status_code == 403 and "another site" in r.get_data(as_text=True)
    for path in ("/annotate/claims/x/withdraw", "/annotate/session"):
        assert client.post(path, json={"doc": DOC}).status_code == 403
    assert client.put("/annotate/claims/x", json=_claim(annotated_kb)).status_code == 403
    assert annotated_kb.graphs() == graphs and not folder.exists()


def test_read_only_server_has_no_form(annotated_kb: KnowledgeBase, folder: Path) -> None:
    plain = create_app({"KB": annotated_kb, "ANNOTATION_DIR": str(folder),
                        "PAGE_CACHE_BYTES": 0}).test_client()
    page = plain.get("/reader", query_string={"doc": DOC}).get_data(as_text=True)
    assert "annotate-panel" not in page and "js/annotate" not in page
    r = plain.post("/annotate/claims", json=_claim(annotated_kb), headers=AUTH)
    assert r.status_code == 403 and "read-only" in r.get_data(as_text=True)


def test_bad_input_gets_a_readable_4xx(client: FlaskClient, annotated_kb: KnowledgeBase,
                                       folder: Path) -> None:
    graphs = annotated_kb.graphs()
    bad = [
        (_claim(annotated_kb, start=1), 400, "is not the quote"),
        (_claim(annotated_kb, start="1"), 400, "start must be"),
        (_claim(annotated_kb, hedge="sort of"), 400, "unknown hedge 'sort of'"),
        (_claim(annotated_kb, kind="rumour"), 400, "unknown kind"),
        (_claim(annotated_kb, states=[{"relation": "hates", "actors": ["a", "b"]}]), 400,
         "unknown relation 'hates'"),
        (_claim(annotated_kb, chain=[CKBR + "no-such-actor"]), 400, "is not an actor of the KB"),
        (_claim(annotated_kb, doc=CKBR + "doc-nothing"), 404, "no document with text"),
        (_claim(annotated_kb, doc="not an iri"), 400, "not a document the reader can annotate"),
        ([1, 2], 400, "JSON object"),
    ]
    for body, status, said in bad:
        r = client.post("/annotate/claims", json=body, headers={**AUTH, "Accept": "application/json"})
        assert (r.status_code, said in _message(r)) == (status, True), (body, r.status_code, _message(r))
    r = client.post("/annotate/claims", data="{", headers={**AUTH, "Content-Type": "application/json"})
    assert r.status_code == 400 and "not JSON" in r.get_data(as_text=True)
    r = client.post("/annotate/claims", data="quote=x", headers={**AUTH, "Content-Type": "text/plain"})
    assert r.status_code == 415
    r = client.post("/annotate/claims/nope/withdraw", json={"doc": DOC, "by": "Ada"}, headers=AUTH)
    assert r.status_code == 404 and "no claim 'nope'" in r.get_data(as_text=True)
    assert annotated_kb.graphs() == graphs


def test_token_opens_the_form_and_a_claim_round_trips(client: FlaskClient, annotated_kb: KnowledgeBase,
                                                       folder: Path) -> None:
    page = client.get("/reader", query_string={"doc": DOC}).get_data(as_text=True)
    assert 'id="annotate-panel"' in page and 'id="annotate-config"' in page
    assert "<script>" not in page  # the config is JSON data, never an inline script
    assert client.post("/annotate/session", json={}, headers=AUTH).status_code == 204
    r = client.post("/annotate/claims", json=_claim(annotated_kb), headers=AUTH)
    assert r.status_code == 201, r.get_data(as_text=True)
    cid = r.get_json()["id"]
    page = client.get("/reader", query_string={"doc": DOC}).get_data(as_text=True)
    assert f'data-annotation="{cid}"' in page  # highlighted, and marked as made here
    assert client.post(f"/annotate/claims/{cid}/withdraw", json={"doc": DOC, "by": "Ada"},
                       headers=AUTH).status_code == 200
    page = client.get("/reader", query_string={"doc": DOC}).get_data(as_text=True)
    assert f'data-annotation="{cid}"' not in page
    assert "withdrawn" in (folder / "vantor-basin" / "annotations.yaml").read_text(encoding="utf-8")


def test_sheets_are_kept_beside_an_on_disk_store(tmp_path: Path) -> None:
    """Without ANNOTATION_DIR the sheets go beside the store (<store>.annotations), not into it."""
    with KnowledgeBase.open(tmp_path / "store") as k:
        k.load()
        import_sheet(k, SHEETS / "vantor-basin.yaml")
        app = create_app({"KB": k, "UPDATE_TOKEN": TOKEN, "PAGE_CACHE_BYTES": 0})
        r = app.test_client().post("/annotate/claims", json=_claim(k), headers=AUTH)
        assert r.status_code == 201, r.get_data(as_text=True)
    sheet = tmp_path / "store.annotations" / "vantor-basin" / "annotations.yaml"
    assert QUOTE in sheet.read_text(encoding="utf-8")
    assert (sheet.parent / "vantor-basin.txt").read_text(encoding="utf-8") == TEXT
