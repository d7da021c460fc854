"""The OpenAPI 3.1 document of the service, built from the JSON Schemas in `schemas/`.

The shapes are not written twice: each schema file becomes one component, as read, with
only what placing it inside another document needs: its `$id` and `$schema` dropped (the
document is the base now) and each `$ref` pointed at the component (`#/$defs/date` of the
facts schema becomes `#/components/schemas/Facts/$defs/date`; a reference to another
file's `$id` becomes that file's component). The operations below only say which shape
goes where.
"""
from __future__ import annotations

import functools
from typing import Any

from ..schemacheck import bundled_schema
from ..version import __version__

#: the component each schema file becomes
COMPONENTS = {"facts.schema.json": "Facts", "decision.schema.json": "Decision", "service.schema.json": "Service"}
PROBLEM_TYPE = "application/problem+json"
JSON_LINES = "application/jsonl"


def as_component(schema: dict, name: str, ids: dict[str, str]) -> dict:
    """`schema` (the file `name`) as a component: `$id` and `$schema` dropped, each `$ref` to
    its own `$defs` or to another file's `$id` (in `ids`, id -> component) pointed at the component."""
    own = f"#/components/schemas/{COMPONENTS[name]}"

    def move(node: Any) -> Any:
        if isinstance(node, dict):
            out = {}
            for key, value in node.items():
                if key == "$ref" and isinstance(value, str):
                    out[key] = own + value[1:] if value.startswith("#") else ids[value.partition("#")[0]] + \
                        value.partition("#")[2]
                else:
                    out[key] = move(value)
            return out
        if isinstance(node, list):
            return [move(item) for item in node]
        return node

    return move({key: value for key, value in schema.items() if key not in ("$id", "$schema")})


def components() -> dict[str, dict]:
    schemas = {name: bundled_schema(name) for name in COMPONENTS}
    ids = {schema["$id"]: f"#/components/schemas/{COMPONENTS[name]}" for name, schema in schemas.items()}
    return {COMPONENTS[name]: as_component(schema, name, ids) for name, schema in schemas.items()}


def _ref(component: str, definition: str | None = None) -> dict:
    return {"$ref": f"#/components/schemas/{component}" + (f"/$defs/{definition}" if definition else "")}


def _json(schema: dict, description: str, headers: dict | None = None) -> dict:
    response: dict = {"description": description, "content": {"application/json": {"schema": schema}}}
    if headers:
        response["headers"] = headers
    return response


def _problems(*statuses: int) -> dict:
    what = {400: "Bad facts, options or parameters", 401: "No valid bearer token", 403: "The token's role may not do this",
            404: "No such decision or pack", 408: "The request took longer than the time limit",
            413: "The body is larger than the limit", 415: "The body is not the kind this operation reads",
            422: "The pack could not decide these facts (an expression failed at run time): no decision was made; or an "
                 "Idempotency-Key was reused for another request",
            500: "An internal error", 503: "Not ready"}
    return {str(status): {"description": what[status], "content": {PROBLEM_TYPE: {"schema": _ref("Service", "problem")}}}
            for status in statuses}


_AUTH = (401, 403)
_PACK = {"name": "pack", "in": "query", "required": False, "schema": {"type": "string"},
         "description": "The id of a served pack (GET /v1/packs). Without it, the bundled pack effective in the facts' "
                        "month, as `policyengine evaluate` without --pack."}
_OPTION = {"name": "option", "in": "query", "required": False, "style": "form", "explode": True,
           "schema": {"type": "array", "items": {"type": "string"}},
           "description": "A pack option as NAME=VALUE (`--option`); repeat for each."}


def _trace(default: str) -> dict:
    return {"name": "trace", "in": "query", "required": False,
            "schema": {"type": "string", "enum": ["none", "compact", "full"], "default": default},
            "description": "How much of the rule trace each decision carries."}


_AS_OF = {"name": "as_of", "in": "query", "required": False, "schema": {"type": "string", "format": "date"},
          "description": "The day whose parameter values are shown (YYYY-MM-DD; default today)."}
_IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key", "in": "header", "required": False, "schema": {"type": "string", "maxLength": 255},
    "description": "With the decision log on: a retry with the same key and request gets the decision logged the first "
                   "time (same bytes, same X-Decision-Id, logged once); the same key with another request is 422."}
_SEARCH = [{"name": name, "in": "query", "required": False, "schema": {"type": "string"}, "description": description}
           for name, description in (
               ("patient", "The patient id."), ("month", "The month decided (YYYY-MM)."),
               ("practitioner", "The billing practitioner's id or NPI."), ("code", "A code the decision has a line for."),
               ("status", "A line's status (billable, not_met, ...); with code, that code's."),
               ("pack", "The pack id."), ("since", "Logged at or after this date or ISO date-time (UTC)."),
               ("until", "Logged on or before this date (the whole day) or ISO date-time."),
               ("cursor", "The next_cursor of the page before."))]
_SEARCH.append({"name": "limit", "in": "query", "required": False,
                "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 100}})
_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}, "description": "The decision id."}


def _paths() -> dict:
    decision_id = {"X-Decision-Id": {"description": "The decision's id in the decision log.", "schema": {"type": "string"}}}
    return {
        "/v1/decisions": {"post": {
            "operationId": "decide", "summary": "Decide one patient-month (policyengine evaluate)",
            "parameters": [_PACK, _OPTION, _trace("full"), _IDEMPOTENCY_KEY],
            "requestBody": {"required": True, "description": "The facts document (JSON, or YAML), as `evaluate` reads it.",
                            "content": {"application/json": {"schema": _ref("Facts")}}},
            "responses": {"200": _json(_ref("Decision"), "The decision: the bytes `policyengine evaluate` prints.",
                                       decision_id), **_problems(400, *_AUTH, 408, 413, 422, 500)}},
            "get": {
            "operationId": "searchDecisions", "summary": "Search the decision log, newest first",
            "parameters": _SEARCH,
            "responses": {"200": _json(_ref("Service", "decision_page"), "A page of logged decisions."),
                          **_problems(400, *_AUTH, 404, 500)}}},
        "/v1/decisions:batch": {"post": {
            "operationId": "decideBatch", "summary": "Decide many patient-months (policyengine batch)",
            "parameters": [_PACK, _OPTION, _trace("compact")],
            "requestBody": {"required": True, "description": "JSON Lines: one facts document per line.",
                            "content": {JSON_LINES: {"schema": {"type": "string"}}}},
            "responses": {"200": {"description": "JSON Lines, streamed: one line per input line, in order, a decision or "
                                                 'an error record {"line": N, "error": ...}, as `policyengine batch` writes.',
                                  "content": {JSON_LINES: {"schema": {"type": "string"}}}},
                          **_problems(400, *_AUTH, 408, 413)}}},
        "/v1/verify": {"post": {
            "operationId": "verify", "summary": "Re-derive a decision from its facts (policyengine verify)",
            "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("Service", "verify_request")}}},
            "responses": {"200": _json(_ref("Service", "verification"), "Whether the decision re-derives, and what differs."),
                          **_problems(400, *_AUTH, 408, 413, 422)}}},
        "/v1/decisions/{id}": {"get": {
            "operationId": "getDecision", "summary": "A decision from the decision log", "parameters": [_ID],
            "responses": {"200": _json(_ref("Service", "logged_decision"), "The logged decision."),
                          **_problems(*_AUTH, 404)}}},
        "/v1/decisions/{id}/explanation": {"get": {
            "operationId": "explainDecision", "summary": "The explanation of a logged decision (policyengine explain)",
            "parameters": [_ID, {"name": "format", "in": "query", "required": False,
                                 "schema": {"type": "string", "enum": ["text", "markdown", "html"], "default": "text"}}],
            "responses": {"200": {"description": "The explanation.", "content": {
                "text/plain": {"schema": {"type": "string"}}, "text/markdown": {"schema": {"type": "string"}},
                "text/html": {"schema": {"type": "string"}}}}, **_problems(400, *_AUTH, 404)}}},
        "/v1/packs": {"get": {
            "operationId": "listPacks", "summary": "The packs served", "parameters": [_AS_OF],
            "responses": {"200": _json(_ref("Service", "pack_list"), "Every pack served."), **_problems(400, *_AUTH)}}},
        "/v1/packs/{pack_id}": {"get": {
            "operationId": "getPack", "summary": "One pack served",
            "parameters": [{"name": "pack_id", "in": "path", "required": True, "schema": {"type": "string"}}, _AS_OF],
            "responses": {"200": _json(_ref("Service", "pack"), "The pack."), **_problems(400, *_AUTH, 404)}}},
        "/v1/packs:reload": {"post": {
            "operationId": "reloadPacks", "summary": "Compile the packs again (as SIGHUP does)",
            "responses": {"200": _json(_ref("Service", "reload"), "The reload compiled: the new packs serve."),
                          **_problems(*_AUTH), "409": {
                              "description": "The reload failed: the packs compiled before keep serving.",
                              "content": {"application/json": {"schema": _ref("Service", "reload")}}}}}},
        "/healthz": {"get": {"operationId": "healthz", "summary": "Alive", "security": [],
                             "responses": {"200": _json(_ref("Service", "health"), "The process answers.")}}},
        "/readyz": {"get": {"operationId": "readyz", "summary": "Ready: packs compiled, decision log writable", "security": [],
                            "responses": {"200": _json(_ref("Service", "readiness"), "Ready."),
                                          "503": _json(_ref("Service", "readiness"), "Not ready.")}}},
        "/metrics": {"get": {"operationId": "metrics", "summary": "Prometheus metrics of the service, every worker's "
                             "summed (a token only with serve --metrics-need-token)", "security": [],
                             "responses": {"200": {"description": "Prometheus text format 0.0.4.",
                                                   "content": {"text/plain": {"schema": {"type": "string"}}}}}}},
    }


@functools.cache
def openapi_document() -> dict:
    """The document, built once per process (shared: do not mutate it)."""
    return {
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "info": {"title": "policyengine decision service", "version": __version__,
                 "description": "Medicare RPM billing decisions over HTTP, and the decision log for auditors. Errors are "
                                "application/problem+json with the command line's code, message and JSON pointer."},
        "paths": _paths(),
        "components": {"schemas": components(),
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                                      "description": "A token with the role `decide` or `audit`."}}},
        "security": [{"bearer": []}],
    }
