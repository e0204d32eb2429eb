"""The /export page and its downloads, parsed back with rdflib and pyoxigraph."""

from __future__ import annotations

import re

import pyoxigraph as ox
import pytest

from kb.namespaces import GRAPH_DATA, GRAPH_INFERRED, GRAPH_ONTOLOGY, GRAPH_SHAPES

TRIPLE_FORMATS = [("ttl", "text/turtle", "turtle"), ("nt", "application/n-triples", "nt"),
                  ("jsonld", "application/ld+json", "json-ld"),
                  ("rdf", "application/rdf+xml", "xml")]
DATASET_FORMATS = [("nq", "application/n-quads", ox.RdfFormat.N_QUADS),
                   ("trig", "application/trig", ox.RdfFormat.TRIG)]


def test_export_page_lists_every_graph_in_every_format(client, mini_kb):
    r = client.get("/export", headers={"Accept": "text/html"})
    assert r.status_code == 200
    page = r.data.decode()
    links = set(re.findall(r'href="/export/([^"]+)"', page))
    for slug in ("all", "data", "ontology", "inferred", "shapes"):
        for ext in ("ttl", "nt", "jsonld", "rdf", "nq", "trig"):
            assert f"{slug}.{ext}" in links
    for iri in mini_kb.exportable_graphs():
        assert iri in page


@pytest.mark.parametrize(("ext", "media_type", "fmt"), TRIPLE_FORMATS)
def test_triple_downloads_parse_back(client, mini_kb, parse_rdf, ext, media_type, fmt):
    r = client.get(f"/export/data.{ext}")
    assert r.status_code == 200
    assert r.mimetype == media_type
    assert r.headers["Content-Disposition"] == f'attachment; filename="conflict-kb-data.{ext}"'
    graph = parse_rdf(r.data, fmt)
    assert len(graph) == mini_kb.graphs()[GRAPH_DATA]


@pytest.mark.parametrize(("ext", "media_type", "fmt"), DATASET_FORMATS)
def test_dataset_downloads_keep_graph_names(client, mini_kb, ext, media_type, fmt):
    r = client.get(f"/export/all.{ext}")
    assert r.status_code == 200
    assert r.mimetype == media_type
    assert r.headers["Content-Disposition"] == f'attachment; filename="conflict-kb.{ext}"'
    quads = list(ox.parse(r.data, format=fmt))
    per_graph: dict[str, int] = {}
    for quad in quads:
        per_graph[quad.graph_name.value] = per_graph.get(quad.graph_name.value, 0) + 1
    assert per_graph == mini_kb.exportable_graphs()
    assert set(per_graph) == {GRAPH_DATA, GRAPH_INFERRED, GRAPH_ONTOLOGY, GRAPH_SHAPES}


def test_one_graph_in_a_dataset_format(client, mini_kb):
    r = client.get("/export/inferred.nq")
    quads = list(ox.parse(r.data, format=ox.RdfFormat.N_QUADS))
    assert {q.graph_name.value for q in quads} == {GRAPH_INFERRED}
    assert len(quads) == mini_kb.graphs()[GRAPH_INFERRED]


def test_whole_kb_as_turtle_merges_graphs(client, parse_rdf, mini_kb):
    graph = parse_rdf(client.get("/export/all.ttl").data, "turtle")
    # The same statement may sit in several graphs; merged, it counts once.
    assert 0 < len(graph) <= sum(mini_kb.exportable_graphs().values())


@pytest.mark.parametrize("path", ["/export/nothing.ttl", "/export/data.docx", "/export/data",
                                  "/export/.ttl", "/export/all.html"])
def test_unknown_downloads_are_404(client, path):
    r = client.get(path)
    assert r.status_code == 404
    assert "export" in r.data.decode().lower()


def test_imported_graph_download(writable_app, tmp_path, parse_rdf):
    kb = writable_app.extensions["ckb"]
    extra = tmp_path / "extra-source.ttl"
    extra.write_text("<https://example.org/a> <https://example.org/b> 'c' .\n", encoding="utf-8")
    kb.import_file(extra)
    client = writable_app.test_client()
    assert 'href="/export/import/extra-source.nt"' in client.get("/export").data.decode()
    r = client.get("/export/import/extra-source.nt")
    assert r.status_code == 200
    assert r.headers["Content-Disposition"] == (
        'attachment; filename="conflict-kb-import-extra-source.nt"')
    assert len(parse_rdf(r.data, "nt")) == 1


def test_export_files_are_derived_and_per_generation(writable_app, tmp_path):
    import shutil

    files = writable_app.extensions["ckb.exports"]
    client = writable_app.test_client()
    first = client.get("/export/all.nq").data
    built = list(files.folder.glob("g*/*.nq"))
    assert len(built) == 1
    # Sent from the file: the same bytes again, and the file was not rewritten.
    stamp = built[0].stat().st_mtime_ns
    assert client.get("/export/all.nq").data == first
    assert built[0].stat().st_mtime_ns == stamp
    # Deleting the folder costs only the time to build again.
    shutil.rmtree(files.folder)
    assert client.get("/export/all.nq").data == first
    # A write makes a new generation: a new file, and the older generation's folder goes.
    extra = tmp_path / "extra.ttl"
    extra.write_text("<https://example.org/a> <https://example.org/b> 'c' .\n", encoding="utf-8")
    writable_app.extensions["ckb"].import_file(extra)
    after = client.get("/export/all.nq").data
    assert b"https://example.org/a" in after and b"https://example.org/a" not in first
    assert [p.parent.name for p in files.folder.glob("g*/*.nq")] == [f"g{files.kb.generation()}"]


def test_graph_store_reads_are_files_too(writable_app):
    client = writable_app.test_client()
    files = writable_app.extensions["ckb.exports"]
    r = client.get("/rdf-graph-store?graph=" + GRAPH_DATA, headers={"Accept": "application/n-triples"})
    assert r.status_code == 200
    assert any(files.folder.glob("g*/*.nt"))
    assert r.content_length == len(r.data)
