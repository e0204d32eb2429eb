"""The Graph Store HTTP Protocol on /rdf-graph-store, through the Flask test client (real memory KB)."""

from __future__ import annotations

import json

from kb.namespaces import GRAPH_DATA
from kb.store.staging import STAGING

AUTH = {"Authorization": "Bearer s3cret"}
G = "http://example.org/gsp/g"
TTL = "text/turtle; charset=utf-8"


def _get(client, graph=G, accept="application/n-triples"):
    return client.get("/rdf-graph-store", query_string={"graph": graph}, headers={"Accept": accept})


def test_reads_are_public_and_writes_need_the_token(writable_app, client):
    c = writable_app.test_client()
    body = b"<http://e/s> <http://e/p> 'one' ."
    r = c.put("/rdf-graph-store", query_string={"graph": G}, data=body, content_type=TTL)
    assert r.status_code == 403
    r = c.put("/rdf-graph-store", query_string={"graph": G}, data=body, content_type=TTL,
              headers={"Authorization": "Bearer wrong"})
    assert r.status_code == 403
    assert _get(c).status_code == 404
    assert c.put("/rdf-graph-store", query_string={"graph": G}, data=body, content_type=TTL,
                 headers=AUTH).status_code == 201
    assert _get(c).data == b'<http://e/s> <http://e/p> "one" .\n'
    # the read-only app refuses writes whatever the token
    r = client.put("/rdf-graph-store", query_string={"graph": G}, data=body, content_type=TTL,
                   headers=AUTH)
    assert r.status_code == 403


def test_a_kb_graph_can_be_read(client):
    r = client.get("/rdf-graph-store", query_string={"graph": GRAPH_DATA}, headers={"Accept": "text/turtle"})
    assert r.status_code == 200 and r.mimetype == "text/turtle"
    assert b"Hezbollah" in r.data
    r = client.get("/sparql", query_string={"graph": GRAPH_DATA}, headers={"Accept": "text/turtle"})
    assert r.status_code == 200 and b"Hezbollah" in r.data  # no longer the service description
    assert client.get("/rdf-graph-store", query_string={"graph": STAGING + "x"}).status_code == 400


def test_bad_bodies_write_nothing(writable_app):
    c = writable_app.test_client()
    c.put("/rdf-graph-store", query_string={"graph": G}, data=b"<http://e/s> <http://e/p> 1 .",
          content_type=TTL, headers=AUTH)
    r = c.put("/rdf-graph-store", query_string={"graph": G}, data=b"<http://e/s> <http://e/p>\n 2 ; ;",
              content_type=TTL, headers=AUTH)
    assert r.status_code == 400
    assert "request body:2:" in r.data.decode()
    r = c.put("/rdf-graph-store", query_string={"graph": G}, data=b"<http://e/s> <http://e/p> 3 .",
              content_type="application/trig", headers=AUTH)
    assert r.status_code == 415
    utf16 = "<http://e/s> <http://e/p> 4 .".encode("utf-16")
    r = c.put("/rdf-graph-store", query_string={"graph": G}, data=utf16,
              content_type="text/turtle; charset=utf-16", headers=AUTH)
    assert r.status_code == 415
    # multipart: the second file is broken, so the first is not written either
    boundary = "XyZ"
    parts = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"a\"; filename=\"a.ttl\"\r\n"
             f"Content-Type: text/turtle\r\n\r\n<http://e/s> <http://e/p> 5 .\r\n"
             f"--{boundary}\r\nContent-Disposition: form-data; name=\"b\"; filename=\"b.ttl\"\r\n"
             f"Content-Type: text/turtle\r\n\r\n<http://e/s> <http://e/p> \r\n--{boundary}--\r\n")
    r = c.post("/rdf-graph-store", query_string={"graph": G}, data=parts.encode(),
               content_type=f"multipart/form-data; boundary={boundary}", headers=AUTH)
    assert r.status_code == 400
    assert "b.ttl" in r.data.decode()
    field = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n"
             f"<http://e/s> <http://e/p> 6 .\r\n--{boundary}--\r\n")
    r = c.post("/rdf-graph-store", query_string={"graph": G}, data=field.encode(),
               content_type=f"multipart/form-data; boundary={boundary}", headers=AUTH)
    assert r.status_code == 400  # a plain form field is not skipped silently
    assert _get(c).data == b'<http://e/s> <http://e/p> "1"^^<http://www.w3.org/2001/XMLSchema#integer> .\n'


def test_post_adds_delete_removes_and_default_graph(writable_app):
    c = writable_app.test_client()
    for n in (1, 2):
        r = c.post("/rdf-graph-store", query_string={"graph": G},
                   data=f"<http://e/s> <http://e/p> {n} .".encode(), content_type=TTL, headers=AUTH)
        assert r.status_code == (201 if n == 1 else 204)
    assert len(_get(c).data.splitlines()) == 2
    nt = "application/n-triples"
    r = c.put("/rdf-graph-store?default", data=b"_:a <http://e/p> _:b .", content_type=nt, headers=AUTH)
    assert r.status_code == 204  # the default graph always exists
    assert len(c.get("/rdf-graph-store?default", headers={"Accept": nt}).data.splitlines()) == 1
    assert c.delete("/rdf-graph-store", query_string={"graph": G}, headers=AUTH).status_code == 204
    assert c.delete("/rdf-graph-store", query_string={"graph": G}, headers=AUTH).status_code == 404
    r = c.post("/rdf-graph-store", data=b"<http://e/s> <http://e/p> 9 .", content_type=TTL, headers=AUTH)
    assert r.status_code == 201
    location = r.headers["Location"]
    direct = location.removeprefix("http://localhost")
    assert c.get(direct, headers={"Accept": "text/turtle"}).status_code == 200
    assert _get(c, location).status_code == 200


def test_bad_requests_are_400(client):
    assert client.get("/rdf-graph-store").status_code == 400
    assert client.get("/rdf-graph-store?default&graph=http://e/").status_code == 400
    assert client.get("/rdf-graph-store", query_string={"graph": "not an iri"}).status_code == 400
    r = client.get("/rdf-graph-store?default", headers={"Accept": "image/png"})
    assert r.status_code == 406
    assert client.patch("/rdf-graph-store?default").status_code == 405
    r = client.get("/rdf-graph-store", query_string={"graph": "http://e/none"},
                   headers={"Accept": "application/json"})
    assert r.status_code == 404 and json.loads(r.data)["error"]["status"] == 404


def test_a_json_ld_body_is_one_graph_and_named_graphs_in_it_are_refused(writable_app):
    c = writable_app.test_client()
    one = json.dumps({"@id": "http://e/s", "http://e/p": "one"})
    r = c.put("/rdf-graph-store", query_string={"graph": G}, data=one, content_type="application/ld+json",
              headers=AUTH)
    assert r.status_code == 201, r.data  # c5c59e4's successor answered 415 for the format it lists
    assert _get(c).data == b'<http://e/s> <http://e/p> "one" .\n'
    named = json.dumps({"@id": "http://e/g2", "@graph": [{"@id": "http://e/s", "http://e/p": "two"}]})
    r = c.post("/rdf-graph-store", query_string={"graph": G}, data=named, content_type="application/ld+json",
               headers=AUTH)
    assert r.status_code == 400 and b"names graphs" in r.data
    assert _get(c).data == b'<http://e/s> <http://e/p> "one" .\n'
