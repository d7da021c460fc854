"""What the service tells operators about each request: OpenTelemetry spans (a server span
continuing the caller's traceparent, with the decision and its log commit inside it),
recorded by the SDK's in-memory exporter; and one JSON access-log line per request."""
from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from policyengine.service.config import ServiceConfig
from served import client

SEED = Path(__file__).resolve().parents[1] / "examples" / "2026-03-seed-22-minutes.json"
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"


@pytest.fixture(scope="module")
def spans():
    """The process's tracer provider (one per process: OpenTelemetry sets it once), recording in memory."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    return exporter


def test_a_request_continues_the_callers_trace_with_its_decision_and_commit_inside(spans, tmp_path):
    spans.clear()
    with client(ServiceConfig(log=str(tmp_path / "log.sqlite"))) as http:
        response = http.post("/v1/decisions", content=SEED.read_bytes(), headers={"traceparent": PARENT})
    assert response.status_code == 200
    by_name = {span.name: span for span in spans.get_finished_spans()}
    server, decide, commit = by_name["POST /v1/decisions"], by_name["decide"], by_name["decision log commit"]
    assert format(server.context.trace_id, "032x") == TRACE_ID and server.parent.span_id == 0x00f067aa0ba902b7
    assert server.kind == trace.SpanKind.SERVER and server.attributes["http.response.status_code"] == 200
    assert decide.parent.span_id == server.context.span_id and commit.parent.span_id == server.context.span_id
    assert {span.context.trace_id for span in (server, decide, commit)} == {server.context.trace_id}


def test_each_request_is_one_json_access_line(spans, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="policyengine.access")
    with client(ServiceConfig(log=str(tmp_path / "log.sqlite"))) as http:
        decided = http.post("/v1/decisions", content=SEED.read_bytes(), headers={"traceparent": PARENT})
        missing = http.get("/v1/decisions/nope")
    lines = [json.loads(record.getMessage()) for record in caplog.records if record.name == "policyengine.access"]
    assert [(line["method"], line["route"], line["status"]) for line in lines] == [
        ("POST", "/v1/decisions", 200), ("GET", "/v1/decisions/{id}", missing.status_code)]
    first = lines[0]
    assert first["decision_id"] == decided.headers["x-decision-id"] and first["trace_id"] == TRACE_ID
    assert first["caller"].startswith("local:") and first["ms"] > 0 and first["path"] == "/v1/decisions"
    assert lines[1]["decision_id"] is None
