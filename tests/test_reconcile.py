"""/reconcile speaks the Reconciliation Service API v0.2: every answer validates against the
CG's JSON Schemas (which accept the CG's valid examples and reject its invalid ones), and a batch
of ACLED, UCDP and article spellings finds the right actor, never an outlet for an armed one."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from flask.testing import FlaskClient
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from kb import KnowledgeBase
from kb.imports import run_import
from kb.namespaces import CKB, CKBR
from tests.conftest import GED_BANGLADESH
from webui import create_app

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
GED = GED_BANGLADESH
SPEC = ROOT.parent.parent / "shared" / "reconciliation" / "0.2"
if not SPEC.is_dir():
    SPEC = Path("/work/shared/reconciliation/0.2")
needs_spec = pytest.mark.skipif(not (SPEC / "schemas").is_dir(), reason="the CG's schemas are not here")
OUTLET_TYPES = {"MediaOutlet", "NewsAgency", "OutletGroup"}
# example folder -> the schema (file, and a JSON pointer into it) its documents follow
EXAMPLES = {
    "manifest": ("manifest.json", ""),
    "reconciliation-query-batch": ("reconciliation-query-batch.json", ""),
    "reconciliation-result-batch": ("reconciliation-result-batch.json", ""),
    "reconciliation-candidate": ("reconciliation-result-batch.json",
                                 "/patternProperties/^.*$/properties/result/items"),
    "suggest-entities-response": ("suggest-entities-response.json", ""),
    "suggest-types-response": ("suggest-types-response.json", ""),
    "suggest-properties-response": ("suggest-properties-response.json", ""),
    "suggest-metadata": ("manifest.json", "/properties/suggest/definitions/service_definition"),
    "preview-metadata": ("manifest.json", "/properties/preview"),
    "data-extension-query": ("data-extension-query.json", ""),
    "data-extension-response": ("data-extension-response.json", ""),
    "data-extension-property-proposal": ("data-extension-property-proposal.json", ""),
}
# (the security-scheme examples are OpenAPI 3 objects, for a schema this folder does not ship)


def _registry() -> tuple[Registry, dict[str, str]]:
    """Every schema of the spec under its $id (the manifest refers to Swagger's by URL)."""
    resources, ids = [], {}
    for path in sorted((SPEC / "schemas").glob("*.json")):
        schema = json.loads(path.read_text(encoding="utf-8"))
        uri = schema["$id"].rstrip("#")
        ids[path.name] = uri
        resources.append((uri, Resource.from_contents(schema, default_specification=DRAFT7)))
    return Registry().with_resources(resources), ids


def validator(schema_file: str, pointer: str = "") -> jsonschema.Draft7Validator:
    """A draft-7 validator for one schema of the spec (or a part of it), offline."""
    registry, ids = _registry()
    return jsonschema.Draft7Validator({"$ref": ids[schema_file] + "#" + pointer}, registry=registry)


def check(answer: Any, schema_file: str, pointer: str = "") -> None:
    """Fail with the schema's own words if ``answer`` does not follow it."""
    errors = sorted(validator(schema_file, pointer).iter_errors(answer), key=str)
    assert not errors, f"{schema_file}: {errors[0].message} at {list(errors[0].absolute_path)}"


@needs_spec
@pytest.mark.parametrize("folder", sorted(EXAMPLES))
def test_schemas_accept_the_valid_examples_and_reject_the_invalid(folder: str) -> None:
    schema_file, pointer = EXAMPLES[folder]
    v = validator(schema_file, pointer)
    valid = sorted((SPEC / "examples" / folder / "valid").glob("*.json"))
    invalid = sorted((SPEC / "examples" / folder / "invalid").glob("*.json"))
    assert valid
    for path in valid:
        errors = list(v.iter_errors(json.loads(path.read_text(encoding="utf-8"))))
        assert not errors, (path.name, errors[0].message)
    for path in invalid:
        assert not v.is_valid(json.loads(path.read_text(encoding="utf-8"))), path.name


@pytest.fixture(scope="module")
def kb() -> Iterator[KnowledgeBase]:
    """The bundle, with the ACLED rows that name HTS, the NDF and Liwa al-Quds imported, and the
    601 UCDP GED rows of Bangladesh where they are (../shared/data)."""
    with KnowledgeBase.open(memory=True) as k:
        k.ensure_loaded()
        run_import(k, FIXTURES / "acled-syria-actors.csv", "acled", name="acled-actors")
        if GED.is_file():
            run_import(k, GED, "ucdp-ged", name="ged-bangladesh")
        yield k


@pytest.fixture(scope="module")
def web(kb: KnowledgeBase) -> FlaskClient:
    return create_app({"KB": kb, "TESTING": True}).test_client()


def acled_actor(kb: KnowledgeBase, name: str, dataset: str = "acled") -> str:
    """The actor an import resolved a name to (its own record says)."""
    rows = kb.query(f"""SELECT ?a WHERE {{ ?m <{CKB.matchedName}> "{name}" ;
                        <{CKB.matchDataset}> "{dataset}" ;
                        <{CKB.matchedActor}> ?a }}""").rows
    assert len({str(r["a"]) for r in rows}) == 1, (name, rows)
    return str(rows[0]["a"])


@needs_spec
def test_manifest_validates_and_answers_cors(web: FlaskClient) -> None:
    r = web.get("/reconcile")
    assert r.status_code == 200 and r.headers["Access-Control-Allow-Origin"] == "*"
    check(r.json, "manifest.json")
    assert r.json["versions"] == ["0.2"] and r.json["identifierSpace"] == str(CKBR)
    pre = web.options("/reconcile", headers={"Origin": "https://openrefine.example",
                                             "Access-Control-Request-Method": "POST"})
    assert pre.status_code == 204 and "POST" in pre.headers["Access-Control-Allow-Methods"]
    assert pre.headers["Access-Control-Allow-Origin"] == "*"


def _batch(web: FlaskClient, queries: dict[str, Any], method: str = "post") -> dict[str, Any]:
    body = {"queries": json.dumps(queries)}
    r = web.post("/reconcile", data=body) if method == "post" else web.get("/reconcile", query_string=body)
    assert r.status_code == 200, r.data
    return r.json


@needs_spec
def test_batch_of_source_spellings_finds_the_right_actor(kb: KnowledgeBase, web: FlaskClient) -> None:
    cases = json.loads((FIXTURES / "reconcile-actors.json").read_text(encoding="utf-8"))["queries"]
    if not GED.is_file():
        cases = [c for c in cases if "expect_ucdp" not in c]
    # 30 actors or more, each in one or more of its ACLED, UCDP and article spellings
    actors = {c.get("expect") or c.get("expect_acled") or c["expect_ucdp"] for c in cases}
    assert len(actors) >= (30 if GED.is_file() else 19)
    right, wrong = 0, []
    for start in range(0, len(cases), 10):  # as OpenRefine sends them: ten a batch
        chunk = {f"q{start + i}": {"query": c["query"], "type": c["type"], "limit": 5}
                 for i, c in enumerate(cases[start:start + 10])}
        answer = _batch(web, chunk)
        check(chunk, "reconciliation-query-batch.json")
        check(answer, "reconciliation-result-batch.json")
        for key in chunk:
            case = cases[int(key[1:])]
            if "expect" in case:
                expect = str(CKBR) + case["expect"]
            elif "expect_ucdp" in case:
                expect = acled_actor(kb, case["expect_ucdp"], "ucdp")
            else:
                expect = acled_actor(kb, case["expect_acled"])
            result = answer[key]["result"]
            for cand in result:  # never an outlet for an actor of an armed kind
                assert not {t["id"] for t in cand["type"]} & OUTLET_TYPES, (case["query"], cand)
            first = result[0] if result else None
            if first and str(CKBR) + first["id"] == expect and first["match"]:
                right += 1
            else:
                wrong.append((case["query"], first and (first["id"], first["score"], first["match"])))
    assert right / len(cases) >= 0.9, wrong
    print(f"{right} of {len(cases)} first with match: true; the rest: {wrong}")


@needs_spec
def test_scores_are_explained_by_features(web: FlaskClient) -> None:
    answer = _batch(web, {"q": {"query": "Jaish al Nasr", "type": "ArmedActor"}}, method="get")
    check(answer, "reconciliation-result-batch.json")
    top = answer["q"]["result"][0]
    features = {f["id"]: f["value"] for f in top["features"]}
    assert set(features) >= {"label", "alias", "type", "country", "dates", "shared_events"}
    assert features["label"] == 1.0 and features["type"] == 1.0  # "Jaish" is "Army", "al" an article
    assert "Al-Nasr Army" in top["description"]
    about = _get(web, "/reconcile/features/label")
    assert "similarity" in about["description"]


def _get(web: FlaskClient, path: str) -> Any:
    r = web.get(path)
    assert r.status_code == 200, r.data
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    return r.json


@needs_spec
def test_outlets_and_places_only_where_asked(web: FlaskClient) -> None:
    answer = _batch(web, {"o": {"query": "Agence France Presse", "type": "MediaOutlet"},
                          "a": {"query": "Agence France Presse", "type": "ArmedActor"},
                          "p": {"query": "Syria", "type": "Country"},
                          "e": {"query": "Hezbollah", "properties": [{"pid": "country", "v": "Lebanon"}]}})
    check(answer, "reconciliation-result-batch.json")
    assert answer["o"]["result"][0]["id"] == "AFP" and answer["o"]["result"][0]["match"]
    assert answer["a"]["result"] == []
    assert answer["p"]["result"][0]["id"] == "Syria"
    top = answer["e"]["result"][0]
    assert top["id"] == "Hezbollah" and {f["id"]: f["value"] for f in top["features"]}["country"] == 1


@needs_spec
def test_suggest_preview_and_extend_follow_the_spec(web: FlaskClient) -> None:
    check(_get(web, "/reconcile/suggest/entity?prefix=hez"), "suggest-entities-response.json")
    assert _get(web, "/reconcile/suggest/entity?prefix=hez&type=ArmedActor")["result"][0]["id"] == "Hezbollah"
    types = _get(web, "/reconcile/suggest/type?prefix=arm")
    check(types, "suggest-types-response.json")
    assert "ArmedActor" in {t["id"] for t in types["result"]}
    check(_get(web, "/reconcile/suggest/property?prefix=c"), "suggest-properties-response.json")
    check(_get(web, "/reconcile/properties?type=ArmedActor"), "data-extension-property-proposal.json")
    query = {"ids": ["Hezbollah", "AhramOnline"], "properties": [{"id": "type"}, {"id": "country"},
                                                                 {"id": "altLabel"}, {"id": "firstEvent"}]}
    check(query, "data-extension-query.json")
    r = web.post("/reconcile", data={"extend": json.dumps(query)})
    assert r.status_code == 200
    check(r.json, "data-extension-response.json")
    assert r.json["rows"]["Hezbollah"]["country"] == [{"str": "lebanon"}]
    page = web.get("/reconcile/preview?id=Hezbollah")
    assert page.status_code == 200 and b"Hezbollah" in page.data
    # shown inside the client's page: framing allowed there, and only there
    assert "frame-ancestors *" in page.headers["Content-Security-Policy"]
    assert "X-Frame-Options" not in page.headers
    assert web.get("/reconcile").headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize(("body", "words"), [
    ({"queries": "{not json"}, "not JSON"),
    ({"queries": json.dumps(["Hezbollah"])}, "JSON object"),
    ({"queries": json.dumps({"q": {"query": 3}})}, "must be a string"),
    ({"queries": json.dumps({"q": {"query": "x", "properties": [{"pid": "colour", "v": "red"}]}})},
     "unknown property"),
    ({"queries": json.dumps({"q": {"query": "x", "type": "Not A Type"}})}, "not a type"),
    ({"extend": json.dumps({"ids": ["Hezbollah"], "properties": [{"id": "nope"}]})}, "unknown property"),
    ({"other": "1"}, "POST queries="),
])
def test_bad_requests_get_a_readable_400(web: FlaskClient, body: dict[str, str], words: str) -> None:
    r = web.post("/reconcile", data=body)
    assert r.status_code == 400 and words in r.json["error"]
    assert r.headers["Access-Control-Allow-Origin"] == "*"


def test_user_text_never_reaches_a_query(kb: KnowledgeBase, web: FlaskClient) -> None:
    """A name full of SPARQL is only ever a name: the candidates come from fixed queries."""
    seen: list[str] = []
    original = kb.query

    def spy(text: str, *args: Any, **kwargs: Any) -> Any:
        seen.append(text)
        return original(text, *args, **kwargs)

    kb.query = spy  # type: ignore[method-assign]
    try:
        evil = '"} } DROP ALL ; SELECT * { ?s ?p "'
        answer = _batch(web, {"q": {"query": evil}, "r": {"query": "Hezbollah " + evil}})
    finally:
        del kb.query
    assert all(evil not in text and "DROP" not in text for text in seen)
    assert set(answer) == {"q", "r"}


@needs_spec
def test_shared_events_and_dates_count(web: FlaskClient) -> None:
    """An actor that took part in the event given, around the date given, scores for both."""
    answer = _batch(web, {"q": {"query": "Nasr", "type": "ArmedActor", "properties": [
        {"pid": "event", "v": "SYR91003"}, {"pid": "date", "v": "15 January 2019"}]}})
    check(answer, "reconciliation-result-batch.json")
    top = answer["q"]["result"][0]
    features = {f["id"]: f["value"] for f in top["features"]}
    assert top["id"] == "AlNasrArmy" and features["shared_events"] == 1 and features["dates"] == 1
    plain = _batch(web, {"q": {"query": "Nasr", "type": "ArmedActor"}})["q"]["result"][0]
    assert plain["id"] == "AlNasrArmy" and plain["score"] < top["score"]


def test_event_ids_are_only_ever_literals(web: FlaskClient) -> None:
    """Odd event ids (spaces, brackets, quotes) find nothing and break nothing."""
    answer = _batch(web, {"q": {"query": "Nasr", "properties": [
        {"pid": "event", "v": ['a b', '<x>', '" } DROP ALL', "SYR91003"]}]}})
    top = answer["q"]["result"][0]
    assert top["id"] == "AlNasrArmy" and {f["id"]: f["value"] for f in top["features"]}["shared_events"] == 1
