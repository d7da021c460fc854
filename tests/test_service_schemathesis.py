"""Schemathesis against the live OpenAPI document of a served service: every operation,
valid and invalid requests generated from the schemas, no server error, and every answer
in the status codes, content types, headers and schemas the document declares.

Bounded for CI: a few examples per operation and mode (SCHEMATHESIS_EXAMPLES raises it).
Two of schemathesis's checks do not apply and are left out: the facts schema is stricter
than the engine (an unknown key is a warning finding, not an error) and looser (a date the
calendar lacks passes the schema, not the engine), so "valid data accepted" and "invalid
data rejected" would report the contract's own design. (Schemathesis's pytest plugin is
not used: its lazy loader does not run under pytest 9.)
"""
from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance, response_headers_conformance,
                                               response_schema_conformance, status_code_conformance)

from policyengine.service.config import ServiceConfig
from policyengine.service.openapi import openapi_document
from served import serving

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "5"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]
schemathesis.serializer.alias("application/jsonl", "text/plain")  # a batch body is text: JSON Lines
#: each operation, and each generation mode it has inputs for (no invalid request to an operation without inputs)
CASES = [(path, method.upper(), mode) for path, methods in openapi_document()["paths"].items()
         for method, operation in methods.items()
         for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
         if mode is GenerationMode.POSITIVE or "parameters" in operation or "requestBody" in operation]


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory):
    config = ServiceConfig(log=str(tmp_path_factory.mktemp("schemathesis") / "log.sqlite"))
    with serving(config) as base:
        yield schemathesis.openapi.from_url(f"{base}/openapi.json")


@pytest.mark.parametrize("path,method,mode", CASES, ids=str)
def test_the_service_keeps_to_its_openapi_document(api_schema, path, method, mode):
    operation = api_schema[path][method]
    calls = []

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def holds(case):
        calls.append(case.call_and_validate(checks=CHECKS).status_code)

    holds()
    assert calls, "schemathesis sent no request"
