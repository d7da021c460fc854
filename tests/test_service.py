"""The decision service on a real port: the command line's bytes and errors over HTTP."""
from __future__ import annotations

import json
import platform
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import policyengine
from policyengine.cli import main
from policyengine.limits import MAX_HEADER_BYTES
from policyengine.service.config import ServiceConfig
from served import client

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.json"))
SEED = ROOT / "examples" / "2026-03-seed-22-minutes.json"


@pytest.fixture(scope="module")
def http(tmp_path_factory):
    with client(ServiceConfig(log=str(tmp_path_factory.mktemp("log") / "decisions.sqlite"))) as http:
        yield http


def cli(*args, input=None):
    return CliRunner().invoke(main, [str(a) for a in args], input=input)


@pytest.mark.parametrize("trace", ["none", "compact", "full"])
@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_a_decision_is_the_bytes_evaluate_prints(http, path, trace):
    response = http.post("/v1/decisions", params={"trace": trace}, content=path.read_bytes())
    expected = cli("evaluate", path, "--trace", trace)
    assert expected.exit_code == 0
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    assert response.text == expected.stdout


def test_pack_and_options_are_the_commands_too(http):
    args = ["--pack", "cms-rpm-2026", "--option", "messaging_counts=true", "--option", "addon_max_units=3"]
    response = http.post("/v1/decisions", params=[("pack", "cms-rpm-2026"), ("option", "messaging_counts=true"),
                                                  ("option", "addon_max_units=3")], content=SEED.read_bytes())
    assert response.text == cli("evaluate", SEED, *args).stdout
    assert json.loads(response.text)["options"]["messaging_counts"] is True


def test_yaml_facts_are_read_as_evaluate_reads_them(http, tmp_path):
    import yaml
    text = yaml.safe_dump(json.loads(SEED.read_text()), sort_keys=False)
    (tmp_path / "f.yaml").write_text(text)
    assert http.post("/v1/decisions", content=text.encode()).text == cli("evaluate", tmp_path / "f.yaml").stdout


@pytest.mark.parametrize("change", [
    lambda f: {k: v for k, v in f.items() if k != "month"},
    lambda f: {**f, "interactions": [{**f["interactions"][0], "duration_seconds": -5}]},
    lambda f: {**f, "interactions": [{**f["interactions"][0], "date": "2026-02-30"}]},
    lambda f: {**f, "transmission_days": "every day"},
])
def test_bad_facts_are_400_with_the_commands_code_message_and_pointer(http, tmp_path, change):
    data = json.dumps(change(json.loads(SEED.read_text())))
    (tmp_path / "f.json").write_text(data)
    result = cli("evaluate", tmp_path / "f.json")
    response = http.post("/v1/decisions", content=data)
    problem = response.json()
    assert result.exit_code == 2 and response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert problem["detail"] + "\n" == result.stderr
    first = result.stderr.splitlines()[0]
    assert first == f"{problem['where']}: {problem['message']} [{problem['code']}]"
    assert problem["where"].startswith("/")


@pytest.mark.parametrize("body,code", [
    (b"\xff\xfe not text", "facts.malformed"),
    (b'{"patient_id": "x",', "facts.malformed"),
    (b"[" * 100_000, "facts.too_deep"),
    (b'{"patient_id": "p", "month": "2026-03", "as_of": 1' + b"0" * 5000 + b"}", "facts.integer_too_large"),
    (b'{"patient_id": "p", "patient_id": "q", "month": "2026-03"}', "facts.duplicate_key"),
    (b'{"patient_id": "p", "month": "2026-03", "x": NaN}', "facts.not_a_number"),
    (b'{"patient_id": "p", "month": "2026-03", "x": 1e400}', "facts.number_too_large"),
    (b"", "facts.wrong_type"),  # no document: YAML's null, as `evaluate` reads an empty file
])
def test_no_body_stops_a_worker(http, body, code):
    response = http.post("/v1/decisions", content=body)
    assert response.status_code == 400 and response.json()["code"] == code
    assert http.get("/healthz").json() == {"status": "alive"}


def test_bad_query_parameters_are_400(http):
    for params, code in (({"trace": "most"}, "service.bad_parameter"), ({"option": "no-equals"}, "service.bad_option"),
                         ({"option": "no_such_option=1"}, "option.unknown"), ({"pack": "cms-rpm-1999"}, "service.unknown_pack")):
        response = http.post("/v1/decisions", params=params, content=SEED.read_bytes())
        assert response.status_code == 400 and response.json()["code"] == code, (params, response.text)


def test_a_pack_failing_on_the_facts_is_422_not_a_server_error(tmp_path):
    overlay = tmp_path / "overlay"
    overlay.mkdir()
    (overlay / "pack.yaml").write_text(
        "pack: {id: overlay, version: 1.0.0, fee_schedule_year: 2026, effective: {from: 2026-01-01, to: 2026-12-31}}\n"
        "extends: cms-rpm-2026\n"
        "definitions:\n"
        "  supply_days: count(transmission_days) // (count(interactions) - count(interactions))\n")
    with client(ServiceConfig(packs=(str(overlay),))) as http:
        response = http.post("/v1/decisions", params={"pack": "overlay"}, content=SEED.read_bytes())
    expected = cli("evaluate", SEED, "--pack", overlay)
    assert expected.exit_code == 1 and response.status_code == 422
    problem = response.json()
    assert problem["code"] == "eval.division_by_zero" and problem["where"].endswith("overlay/pack.yaml:4:16")
    assert problem["detail"] + "\n" == expected.stderr


def test_a_batch_is_the_lines_batch_writes(http, tmp_path):
    lines = [json.dumps(json.loads(p.read_text())) for p in EXAMPLES] + ["", "not json", '{"patient_id": "p"}', "\ud800"]
    body = ("\n".join(lines) + "\n").encode("utf-8", "surrogatepass")
    (tmp_path / "in.jsonl").write_bytes(body)
    expected = cli("batch", tmp_path / "in.jsonl", "--out", "-", "--trace", "compact")
    response = http.post("/v1/decisions:batch", content=body)
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/jsonl")
    assert response.text == expected.stdout
    assert len(response.text.splitlines()) == len(lines)


def test_a_batch_streams_its_body_in_pieces(http, tmp_path):
    text = json.dumps(json.loads(SEED.read_text())) + "\n"

    def pieces():
        for _ in range(600):  # more than a chunk of lines, sent a few bytes at a time at the seams
            yield text[:10].encode()
            yield text[10:].encode()

    response = http.post("/v1/decisions:batch", params={"trace": "none"}, content=pieces())
    out = response.text.splitlines()
    assert len(out) == 600 and len(set(out)) == 1 and json.loads(out[0])["patient_id"] == "PT-104233"


def test_verify_re_derives_a_decision(http):
    facts = json.loads(SEED.read_text())
    decision = http.post("/v1/decisions", content=SEED.read_bytes()).json()
    verified = http.post("/v1/verify", json={"decision": decision, "facts": facts}).json()
    assert verified["verified"] and verified["byte_identical"]
    edited = {**decision, "total": "999.99"}
    result = http.post("/v1/verify", json={"decision": edited, "facts": facts}).json()
    assert not result["verified"] and [c["cause"] for c in result["causes"]] == ["result_changed"]
    assert http.post("/v1/verify", json={"decision": {"x": 1}, "facts": facts}).json()["code"] == "service.not_a_decision"


def test_the_log_keeps_the_decision_as_served(http):
    response = http.post("/v1/decisions", params={"trace": "full"}, content=SEED.read_bytes())
    logged = http.get(f"/v1/decisions/{response.headers['x-decision-id']}").json()
    assert logged["decision"] == response.json() and logged["patient_id"] == "PT-104233"
    assert logged["pack"]["ref"] == "cms-rpm-2026" and logged["trace"] == "full"
    import hashlib
    assert logged["decision_sha256"] == hashlib.sha256(response.content).hexdigest()
    explanation = http.get(f"/v1/decisions/{response.headers['x-decision-id']}/explanation", params={"format": "markdown"})
    assert explanation.status_code == 200 and explanation.headers["content-type"].startswith("text/markdown")
    assert "99457" in explanation.text
    assert http.get("/v1/decisions/nope").status_code == 404


def test_packs_are_described_with_what_is_in_force(http):
    packs = http.get("/v1/packs").json()["packs"]
    assert [p["id"] for p in packs] == ["cms-rpm-2024", "cms-rpm-2025", "cms-rpm-2026"]
    pack = http.get("/v1/packs/cms-rpm-2026", params={"as_of": "2026-03-31"}).json()
    assert pack["effective"] == {"from": "2026-01-01", "to": "2026-12-31"} and len(pack["sha256"]) == 64
    assert "99457" in {c["code"] for c in pack["codes"]} and pack["parameters"] and pack["source"] == "bundled"
    assert http.get("/v1/packs/none").status_code == 404
    assert http.get("/v1/packs", params={"as_of": "March"}).status_code == 400


def test_health_readiness_and_metrics(http):
    assert http.get("/healthz").json() == {"status": "alive"}
    ready = http.get("/readyz").json()
    assert ready["ready"] and ready["log"] == {"enabled": True, "writable": True} and ready["reload"]["ok"]
    http.post("/v1/decisions", content=SEED.read_bytes())
    samples = scraped(http.get("/metrics").text)
    assert samples[("policyengine_requests_total", (("method", "POST"), ("route", "/v1/decisions"), ("status", "200")))] >= 1
    assert samples[("policyengine_decisions_total", (("outcome", "billable"), ("pack", "cms-rpm-2026")))] >= 1
    assert samples[("policyengine_request_seconds_bucket", (("le", "+Inf"), ("route", "/v1/decisions")))] >= 1
    assert samples[("policyengine_log_commit_seconds_count", ())] >= 1
    (build,) = [dict(labels) for name, labels in samples if name == "policyengine_build_info"]
    assert build == {"python": platform.python_version(), "version": policyengine.__version__}


def scraped(text: str) -> dict[tuple[str, tuple], float]:
    """Each sample of a Prometheus text by name and sorted labels."""
    from prometheus_client.parser import text_string_to_metric_families
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def test_unknown_routes_and_methods_are_problems_too(http):
    for response, status in ((http.get("/v2/nothing"), 404), (http.delete("/v1/decisions"), 405)):
        assert response.status_code == status and response.headers["content-type"] == "application/problem+json"


def test_a_body_over_the_limit_is_413(tmp_path):
    with client(ServiceConfig(max_body_bytes=1000, max_batch_bytes=3000)) as http:
        response = http.post("/v1/decisions", content=SEED.read_bytes())
        assert response.status_code == 413 and response.json()["code"] == "request.too_large"
        streamed = http.post("/v1/decisions", content=iter([SEED.read_bytes()]))  # no Content-Length
        assert streamed.status_code == 413
        line = json.dumps(json.loads(SEED.read_text())) + "\n"
        assert http.post("/v1/decisions:batch", content=line * 3).status_code == 413
        out = http.post("/v1/decisions:batch", content=iter([line.encode()] * 3)).text.splitlines()
        assert json.loads(out[-1])["error"]["code"] == "request.too_large" and len(out) <= 3


def test_a_request_over_the_time_limit_is_408():
    import time

    def slow():
        yield b'{"patient_id": "p", '
        time.sleep(1.0)
        yield b'"month": "2026-03"}'

    with client(ServiceConfig(time_limit=0.3)) as http:
        response = http.post("/v1/decisions", content=slow())
        assert response.status_code == 408 and response.json()["code"] == "request.timeout"
        assert http.get("/healthz").status_code == 200


def test_serve_without_the_service_extra_says_how_to_install_it(monkeypatch):
    """The core install has no uvicorn: `serve` says which extra it needs, not a traceback."""
    monkeypatch.setitem(sys.modules, "uvicorn", None)  # importing it raises ImportError
    monkeypatch.delitem(sys.modules, "policyengine.service.run", raising=False)
    result = CliRunner().invoke(main, ["serve"])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "serve needs the service extra (uvicorn is not installed): pip install 'rpm-policyengine[service]'" \
        in result.stderr


def test_a_decision_posted_as_facts_is_400_saying_so(http):
    decision = http.post("/v1/decisions", content=SEED.read_bytes()).content
    response = http.post("/v1/decisions", content=decision)
    assert response.status_code == 400 and response.json()["code"] == "facts.is_a_decision"


def test_headers_beyond_the_limit_are_431_and_the_worker_serves_on(http):
    response = http.post("/v1/decisions", content=SEED.read_bytes(), headers={"x-padding": "a" * MAX_HEADER_BYTES})
    assert response.status_code == 431 and response.json()["code"] == "request.headers_too_large"
    assert http.post("/v1/decisions", content=SEED.read_bytes(), headers={"x-padding": "a" * 1000}).status_code == 200
