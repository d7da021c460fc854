"""POST /v1/worklist on a real port: the worklist library's sheet over HTTP, the same bytes
for the same request, bad records under `problems` (not a bad request), and the limits and
roles a batch has."""
from __future__ import annotations

import io
import json
import sqlite3
import time
from pathlib import Path

import jsonschema
import pytest
from referencing import Registry, Resource

from policyengine.engine.values import pretty_json
from policyengine.service.auth import Tokens
from policyengine.service.config import ServiceConfig
from policyengine.service.openapi import openapi_document
from policyengine.worklist import worklist_of_lines
from served import client

ROOT = Path(__file__).resolve().parents[1]
SCHEMAS = ROOT / "schemas"
MONTHS = sorted((ROOT / "examples").glob("2026-03-*.json"))
AS_OF = "2026-03-20"
BILLING, AUDITOR = "billing-token-0123456789", "auditor-token-0123456789"
TOKENS = f"billing decide {BILLING}\nauditor audit {AUDITOR}\n"


def month_lines() -> bytes:
    """A few March months, one line that is not facts (line 3), and one of another month."""
    lines = [json.dumps(json.loads(path.read_text())) for path in MONTHS]
    lines.insert(2, '{"patient_id": "PT-BROKEN", "month": "2026-03", "transmission_days": "every day"')
    lines.append(json.dumps(json.loads((ROOT / "examples" / "2025-06-42-minutes.json").read_text())))
    return ("\n".join(lines) + "\n").encode()


BODY = month_lines()


@pytest.fixture(scope="module")
def log_file(tmp_path_factory):
    return tmp_path_factory.mktemp("worklist") / "decisions.sqlite"


@pytest.fixture(scope="module")
def http(log_file):
    with client(ServiceConfig(log=str(log_file))) as http:
        yield http


def schema_validator() -> jsonschema.Draft202012Validator:
    """schemas/worklist.schema.json, its references to the other schema files resolved."""
    files = [json.loads(path.read_text()) for path in SCHEMAS.glob("*.schema.json")]
    registry = Registry().with_resources((schema["$id"], Resource.from_contents(schema)) for schema in files)
    worklist = json.loads((SCHEMAS / "worklist.schema.json").read_text())
    return jsonschema.Draft202012Validator(worklist, registry=registry, format_checker=jsonschema.FormatChecker())


def test_the_worklist_is_the_librarys_and_fits_its_schema(http, log_file):
    response = http.post("/v1/worklist", params={"as_of": AS_OF}, content=BODY,
                         headers={"Content-Type": "application/jsonl"})
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    expected = worklist_of_lines(io.BytesIO(BODY), AS_OF).as_json()
    assert response.json() == expected
    assert response.text == pretty_json(expected) + "\n"  # the library's JSON, in its own key order
    worklist = response.json()
    schema_validator().validate(worklist)
    assert worklist["as_of"] == AS_OF and worklist["practice"]["patients"] == len(MONTHS)
    assert worklist["practice"]["other_months"] == 1
    [problem] = worklist["problems"]
    assert problem["line"] == 3 and problem["errors"][0]["code"] == "facts.malformed"
    assert all(patient["as_of"] == AS_OF for patient in worklist["patients"])
    # planning, not billing: nothing was written to the decision log
    with sqlite3.connect(log_file) as log:
        assert log.execute("SELECT count(*) FROM decisions").fetchone()[0] == 0


def test_the_schema_names_every_key_the_worklist_has(http):
    """The schema lets fields be added (as the decision's does); here it must still name
    every key the worklist writes, so a field added to the library is added to the schema."""
    schema = json.loads((SCHEMAS / "worklist.schema.json").read_text())
    defs = schema["$defs"]

    def keys(shape: dict) -> set[str]:
        found = set(shape.get("properties", {}))
        for part in shape.get("allOf", ()):
            found |= keys(defs[part["$ref"].removeprefix("#/$defs/")] if "$ref" in part else part)
        return found

    def required(shape: dict) -> set[str]:
        found = set(shape.get("required", ()))
        for part in shape.get("allOf", ()):
            found |= required(defs[part["$ref"].removeprefix("#/$defs/")] if "$ref" in part else part)
        return found

    worklist = http.post("/v1/worklist", params={"as_of": "2026-03-28"}, content=BODY).json()
    patients = worklist["patients"]
    tasks = [task for patient in patients for task in patient["tasks"]]
    out_of_reach = [gone for patient in patients for gone in patient["out_of_reach"]]
    assert tasks and out_of_reach and worklist["problems"]
    for shape, items in ((schema, [worklist]), (schema["properties"]["practice"], [worklist["practice"]]),
                         (defs["practitioner"], worklist["practitioners"]), (defs["patient"], patients),
                         (defs["earned"], [line for patient in patients for line in patient["earned"]]),
                         (defs["task"], tasks), (defs["out_of_reach"], out_of_reach),
                         (defs["problem"], worklist["problems"])):
        for item in items:
            assert set(item) == keys(shape) == required(shape), item


def test_the_same_request_gives_the_same_bytes(http):
    first = http.post("/v1/worklist", params={"as_of": AS_OF}, content=BODY)
    second = http.post("/v1/worklist", params={"as_of": AS_OF}, content=iter([BODY[:100], BODY[100:]]))
    assert first.status_code == second.status_code == 200
    assert first.content == second.content


def test_pack_and_options_are_a_batchs(http):
    params = [("as_of", AS_OF), ("pack", "cms-rpm-2026"), ("option", "addon_max_units=3")]
    response = http.post("/v1/worklist", params=params, content=BODY)
    assert response.status_code == 200
    assert response.json() == worklist_of_lines(io.BytesIO(BODY), AS_OF, pack="cms-rpm-2026",
                                                options={"addon_max_units": "3"}).as_json()
    for params, code in (([("as_of", AS_OF), ("pack", "no-such-pack")], "service.unknown_pack"),
                         ([("as_of", AS_OF), ("option", "no_such_option=1")], None),
                         ([("as_of", AS_OF), ("option", "not a pair")], "service.bad_option")):
        refused = http.post("/v1/worklist", params=params, content=BODY)
        assert refused.status_code == 400 and refused.headers["content-type"] == "application/problem+json"
        assert code is None or refused.json()["code"] == code
        batch = http.post("/v1/decisions:batch", params=[p for p in params if p[0] != "as_of"], content=BODY)
        assert batch.status_code == 400 and batch.json()["code"] == refused.json()["code"]


@pytest.mark.parametrize("params", [{}, {"as_of": ""}, {"as_of": "2026-02-30"}, {"as_of": "20260320"},
                                    {"as_of": "2026-W12-5"}, {"as_of": "March 20"}, [("as_of", AS_OF), ("as_of", AS_OF)]],
                         ids=["missing", "empty", "not-a-day", "basic-format", "week-date", "words", "twice"])
def test_a_bad_as_of_is_a_400_problem_naming_it(http, params):
    response = http.post("/v1/worklist", params=params, content=BODY)
    problem = response.json()
    assert response.status_code == 400 and response.headers["content-type"] == "application/problem+json"
    assert problem["code"] == "service.bad_parameter" and problem["where"] == "?as_of" and "as_of" in problem["message"]


def test_an_empty_body_is_an_empty_worklist(http):
    worklist = http.post("/v1/worklist", params={"as_of": AS_OF}, content=b"").json()
    assert worklist["patients"] == worklist["problems"] == worklist["practitioners"] == []
    assert worklist["practice"] == {"patients": 0, "earned": "0.00", "at_stake": "0.00", "tasks": 0, "problems": 0,
                                    "other_months": 0}


def test_an_audit_token_is_refused_as_a_batch_refuses_it():
    with client(ServiceConfig(), Tokens.parse(TOKENS, "tokens")) as http:
        for path, params in (("/v1/worklist", {"as_of": AS_OF}), ("/v1/decisions:batch", {})):
            refused = http.post(path, params=params, content=BODY, headers={"Authorization": f"Bearer {AUDITOR}"})
            assert refused.status_code == 403 and refused.json()["code"] == "auth.forbidden"
            assert http.post(path, params=params, content=BODY).status_code == 401
        allowed = http.post("/v1/worklist", params={"as_of": AS_OF}, content=BODY,
                            headers={"Authorization": f"Bearer {BILLING}"})
        assert allowed.status_code == 200


def test_a_body_over_the_batch_limit_is_413():
    limit = len(BODY) - 1
    with client(ServiceConfig(max_body_bytes=1000, max_batch_bytes=limit)) as http:
        for content in (BODY, iter([BODY[:limit], BODY[limit:]])):  # declared, and found while reading
            response = http.post("/v1/worklist", params={"as_of": AS_OF}, content=content)
            assert response.status_code == 413 and response.json()["code"] == "request.too_large"
        assert http.post("/v1/decisions:batch", content=BODY).status_code == 413
        under = http.post("/v1/worklist", params={"as_of": AS_OF}, content=BODY[:BODY.index(b"\n") + 1])
        assert under.status_code == 200  # over max_body_bytes, under max_batch_bytes


def test_a_worklist_over_the_time_limit_is_408_and_stops():
    """Past the time limit the thread stops deciding at the next chunk of lines: the
    service shuts down (waiting for its threads) long before the body's ~3 s of work
    (2 s on a slow machine) would end."""
    started = time.perf_counter()
    with client(ServiceConfig(time_limit=0.3)) as http:
        response = http.post("/v1/worklist", params={"as_of": AS_OF}, content=BODY * 600)
        assert response.status_code == 408 and response.json()["code"] == "request.timeout"
        assert http.get("/healthz").status_code == 200
    assert time.perf_counter() - started < 2.0


def test_the_openapi_document_has_the_route_and_its_worklist_component(http):
    document = http.get("/openapi.json").json()
    assert document == json.loads(json.dumps(openapi_document()))
    operation = document["paths"]["/v1/worklist"]["post"]
    assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Worklist"}
    assert "decision log" in operation["description"]
    assert set(operation["requestBody"]["content"]) == {"application/jsonl"}
    as_of = next(p for p in operation["parameters"] if p["name"] == "as_of")
    assert as_of["required"] is True and as_of["in"] == "query"
    assert {"pack", "option"} <= {p["name"] for p in operation["parameters"]}
    components = document["components"]["schemas"]
    assert {"Worklist", "WorklistPatient", "WorklistTask", "WorklistProblem"} <= set(components)
    worklist = http.post("/v1/worklist", params={"as_of": AS_OF}, content=BODY).json()
    jsonschema.Draft202012Validator({**components["Worklist"], "components": document["components"]}).validate(worklist)
