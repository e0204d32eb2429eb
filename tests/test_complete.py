"""The editor's completion service (/api/complete, kb.views.complete, kb.derived.labels)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from kb import KnowledgeBase
from kb.derived import labels as labelindex
from kb.derived.memo import _MEMOS, memo
from webui import create_app

CKB = "https://w3id.org/conflict-kb/ontology#"
CKBR = "https://w3id.org/conflict-kb/id/"


@pytest.fixture(scope="module")
def web(kb: KnowledgeBase):
    """A client of the app over the bundled KB (read-only)."""
    return create_app({"KB": kb}).test_client()


def _get(web, **params) -> dict:
    r = web.get("/api/complete", query_string=params)
    assert r.status_code == 200, r.get_data(as_text=True)
    return r.get_json()


def _texts(answer: dict) -> list[str]:
    return [r["text"] for r in answer["results"]]


def test_classes_by_prefixed_name_iri_or_word(web) -> None:
    assert "ckb:Clash" in _texts(_get(web, kind="class", q="ckb:Cl"))
    assert all(t.startswith("ckb:Cl") for t in _texts(_get(web, kind="class", q="ckb:Cl")))
    assert "ckb:Clash" in _texts(_get(web, kind="class", q=f"<{CKB}Cla"))
    assert "ckb:Clash" in _texts(_get(web, kind="class", q="clash"))
    # a prefix the KB does not know names none of its terms
    assert _get(web, kind="class", q="zz:Cl")["results"] == []
    clash = next(r for r in _get(web, kind="class", q="ckb:Clash")["results"] if r["text"] == "ckb:Clash")
    assert clash["iri"] == CKB + "Clash" and clash["label"] == "Clash" and "instances" in clash["detail"]


def test_properties_follow_the_class(web) -> None:
    clash = _get(web, kind="property", q="ckb:", **{"class": "ckb:Clash"})["results"]
    claim = _get(web, kind="property", q="ckb:", **{"class": f"<{CKB}Claim>"})["results"]
    mine = [r["text"] for r in clash if r["match"] == "class"]
    assert "ckb:participant" in mine and "ckb:hasParticipation" in mine
    assert all("with ckb:Clash" in r["detail"] or r["detail"].startswith("domain")
               for r in clash if r["match"] == "class")
    assert clash[0]["match"] == "class" and claim[0]["match"] == "class"
    assert "ckb:participant" not in [r["text"] for r in claim if r["match"] == "class"]
    assert mine[:5] != [r["text"] for r in claim if r["match"] == "class"][:5]
    # a property whose domain is a superclass of the class is the class's too
    domain = [r for r in clash if r["detail"].startswith("domain")]
    assert all(r["match"] == "class" for r in domain)
    # without a class: every property the text starts, the KB's own first
    plain = _texts(_get(web, kind="property", q="ckb:part"))
    assert "ckb:participant" in plain and all(t.startswith("ckb:part") for t in plain)


def test_entities_by_the_start_of_a_label_or_of_a_word(web) -> None:
    hez = _get(web, kind="entity", q="Hezb")["results"]
    assert hez[0]["iri"] == CKBR + "Hezbollah" and hez[0]["text"] == "ckbr:Hezbollah"
    assert hez[0]["label"] == "Hezbollah" and hez[0]["match"] == "prefix" and hez[0]["detail"]
    exact = _get(web, kind="entity", q="hezbollah")["results"]
    assert exact[0]["match"] == "exact"
    guard = _get(web, kind="entity", q="republican")["results"]
    assert CKBR + "SyrianRepublicanGuard" in [r["iri"] for r in guard]
    assert any(r["match"] == "word" for r in guard)
    # the ontology's own terms complete as classes and properties, not as entities
    assert not [r for r in _get(web, kind="entity", q="clash")["results"] if r["iri"].startswith(CKB)]
    short = _get(web, kind="entity", q="h")
    assert short["results"] == [] and "two letters" in short["note"]


def test_prefixes_from_the_kbs_table(web) -> None:
    found = _get(web, kind="prefix", q="ck")["results"]
    assert [r["label"] for r in found] == ["ckb", "ckbr"]
    assert found[0]["text"] == f"PREFIX ckb: <{CKB}>"


def test_limits(web) -> None:
    assert len(_get(web, kind="property", q="", limit=3)["results"]) == 3
    assert len(_get(web, kind="property", q="", limit=10_000)["results"]) <= 50


@pytest.mark.parametrize("params, message", [
    ({"kind": "sparql", "q": "x"}, "unknown kind"),
    ({"kind": "entity", "q": "x" * 201}, "the limit is 200"),
    ({"kind": "entity", "q": "a\nb"}, "one line"),
    ({"kind": "property", "q": "", "class": "not an iri"}, "not a valid IRI"),
    ({"kind": "property", "q": "", "class": ["ckb:Clash"] * 9}, "at most 8"),
    ({"kind": "class", "q": "", "limit": "many"}, "whole number"),
])
def test_bad_input_is_a_400_with_a_message(web, params: dict, message: str) -> None:
    r = web.get("/api/complete", query_string=params)
    assert r.status_code == 400
    assert message in r.get_data(as_text=True)


def test_query_text_in_the_input_is_only_text(web, kb: KnowledgeBase) -> None:
    before = sum(kb.graphs().values())
    for q in ['x" } } ; DROP ALL #', "Hezb\\u0022) }", "<urn:x> } INSERT DATA { <urn:a> <urn:b> <urn:c> }"]:
        for kind in ("class", "property", "entity"):
            r = web.get("/api/complete", query_string={"kind": kind, "q": q})
            assert r.status_code == 200 and r.get_json()["results"] == [], (kind, q)
    assert sum(kb.graphs().values()) == before


@pytest.fixture
def written() -> Iterator[KnowledgeBase]:
    """A memory KB with the bundle, whose test may write (token "t")."""
    with KnowledgeBase.open(memory=True) as k:
        k.load()
        k.update_token = "t"
        yield k


def test_a_write_is_seen_at_once_and_the_index_is_only_derived(written: KnowledgeBase) -> None:
    web = create_app({"KB": written}).test_client()
    assert _get(web, kind="entity", q="Zzyzx")["results"] == []
    usage = _get(web, kind="property", q="ckb:", **{"class": "ckb:Clash"})
    written.update(f"""PREFIX ckb: <{CKB}> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
        INSERT DATA {{ <{CKBR}zz> a ckb:Clash ; rdfs:label "Zzyzx Brigade" ; ckb:fatalities 3 }}""",
                   token="t")
    found = _get(web, kind="entity", q="zzyz")["results"]
    assert [r["iri"] for r in found] == [CKBR + "zz"] and found[0]["detail"] == "Clash"
    assert [r["iri"] for r in _get(web, kind="entity", q="brig")["results"]].count(CKBR + "zz") == 1
    after = _get(web, kind="property", q="ckb:", **{"class": "ckb:Clash"})
    assert after != usage  # the new clash's properties are counted
    # Dropping every memo (the index with them) costs a rebuild, never a different answer.
    answers = [_get(web, kind=k, q=q, **c) for k, q, c in (
        ("entity", "zzyz", {}), ("property", "ckb:", {"class": "ckb:Clash"}), ("class", "ckb:Cl", {}))]
    _MEMOS.clear()
    assert labelindex.label_index(written) is not None
    _MEMOS.clear()
    again = [_get(web, kind=k, q=q, **c) for k, q, c in (
        ("entity", "zzyz", {}), ("property", "ckb:", {"class": "ckb:Clash"}), ("class", "ckb:Cl", {}))]
    assert again == answers


def test_one_letter_searches_are_bounded(kb: KnowledgeBase) -> None:
    index = labelindex.label_index(kb)
    assert index is not None
    assert len(index.find("s", 1000)) <= 2 * labelindex.SCAN
    assert len(index.find("s", 5)) == 5


def test_the_servers_warmer_builds_the_index_after_each_write(written: KnowledgeBase) -> None:
    from webui.warm import LANDING

    paths = tuple(p for p in LANDING if p.startswith("/api/complete"))
    app = create_app({"KB": written, "TESTING": True, "WARM_PAGES": paths})
    warmer = app.extensions["ckb.warmer"]
    try:
        for _ in range(2):
            generation = written.generation()
            end = time.monotonic() + 120
            while warmer.warmed != generation and time.monotonic() < end:
                time.sleep(0.05)
            assert warmer.warmed == generation
            for name in (labelindex.NAME, labelindex.USAGE_NAME):  # read before anyone typed
                # the warmer's requests start the reads; each finishes in the background
                while "value" not in memo(written, name) and time.monotonic() < end:
                    time.sleep(0.05)
                assert "value" in memo(written, name)
            written.update('INSERT DATA { <urn:w> <http://www.w3.org/2000/01/rdf-schema#label> "w" }',
                           token="t")
            assert "value" not in memo(written, labelindex.NAME)
    finally:
        warmer.stop(wait=30)


def test_a_keystroke_never_waits_for_the_whole_count(written: KnowledgeBase) -> None:
    """The class usage is counted once per store state in the background (minutes at 20M triples,
    past a request's time limit): a request that cannot wait goes without counts, and the count
    it started is there for the next."""
    written.update(f"PREFIX ckb: <{CKB}> INSERT DATA {{ <{CKBR}zz> a ckb:Clash }}", token="t")
    started = time.monotonic()
    first = labelindex.usage_if_counted(written, wait=0)  # starts the count, does not wait for it
    assert time.monotonic() - started < 1.0
    usage = labelindex.usage_if_counted(written, wait=60)
    assert first is None or first is usage
    assert usage is not None and usage.instances[CKB + "Clash"] >= 1
    assert labelindex.usage_if_counted(written, wait=0) is usage  # counted once for this state


def test_a_keystroke_after_a_write_never_waits_for_the_whole_label_read(tmp_path, monkeypatch) -> None:
    """The labels are read once per store state in the background (seconds at 1M triples): the
    first entity completion after a write waits a bounded time, then answers without them and
    says so; the read it started is there for the next keystroke."""
    monkeypatch.setattr(labelindex, "WAIT", 0.1, raising=False)  # the bound a request waits
    many = tmp_path / "many.nt"  # 100,000 labels: about 3 s to read on a loaded 2-core machine
    many.write_text("".join(f'<{CKBR}n{i}> <http://www.w3.org/2000/01/rdf-schema#label> '
                            f'"Numbered entity {i}" .\n' for i in range(100_000)), encoding="utf-8")
    with KnowledgeBase.open(memory=True) as k:
        k.update_token = "t"
        k.import_rdf(many)
        k.update(f'INSERT DATA {{ <{CKBR}zz> <http://www.w3.org/2000/01/rdf-schema#label> "Zzyzx" }}',
                 token="t")
        web = create_app({"KB": k}).test_client()
        started = time.monotonic()
        first = _get(web, kind="entity", q="zzyz")
        took = time.monotonic() - started
        while "value" not in memo(k, labelindex.NAME) and time.monotonic() - started < 120:
            time.sleep(0.01)
        whole = time.monotonic() - started  # the request's wait, then the rest of the read
        assert took < whole / 2, f"the request took {took:.2f} s of the read's {whole:.2f} s"
        assert first["results"] == [] and "being read" in first["note"]
        assert [r["iri"] for r in _get(web, kind="entity", q="zzyz")["results"]] == [CKBR + "zz"]
