"""The OpenAPI 3.1 document of the service, built from the JSON Schemas in `schemas/`.

The shapes are not written twice: each schema file becomes components, as read, with only
what placing it inside another document needs. Its top-level shape is one component
(`Facts`, `Decision`) and each of its `$defs` another, named after the file and the
definition (`#/$defs/date` of the facts schema becomes `#/components/schemas/FactsDate`;
the service schema's definitions, which have no top-level shape, keep their own names:
`Problem`, `LoggedDecision`). `$id` and `$schema` are dropped and every `$ref` points at a
component: code generators (openapi-python-client, datamodel-code-generator) follow
references to components, not into a component's `$defs`. The operations below only say
which shape goes where.
"""
from __future__ import annotations

import functools
from typing import Any

from ..schemacheck import bundled_schema
from ..version import __version__

#: each schema file's top-level component (None: it holds only definitions) and the prefix of its definitions' names
COMPONENTS: dict[str, tuple[str | None, str]] = {
    "facts.schema.json": ("Facts", "Facts"), "decision.schema.json": ("Decision", "Decision"),
    "service.schema.json": (None, ""), "worklist.schema.json": ("Worklist", "Worklist")}
PROBLEM_TYPE = "application/problem+json"
JSON_LINES = "application/jsonl"
ROOT = "#/components/schemas/"


def definition_name(prefix: str, definition: str) -> str:
    """The component of a schema file's definition: `date` of the facts schema is `FactsDate`."""
    return prefix + "".join(part[:1].upper() + part[1:] for part in definition.split("_"))


def as_components(schema: dict, name: str, ids: dict[str, str]) -> dict[str, dict]:
    """`schema` (the file `name`) as components: its top-level shape and each definition,
    each `$ref` (to its own `$defs`, or to another file's `$id` or definition: `ids` maps a
    file's `$id` to its name) pointed at a component."""
    top, prefix = COMPONENTS[name]

    def target(reference: str) -> str:
        file_id, _, pointer = reference.partition("#")
        top_of, prefix_of = COMPONENTS[ids[file_id]] if file_id else (top, prefix)
        if not pointer:
            return ROOT + str(top_of)
        definition = pointer.removeprefix("/$defs/")
        return ROOT + definition_name(prefix_of, definition)

    def move(node: Any) -> Any:
        if isinstance(node, dict):
            return {key: target(value) if key == "$ref" and isinstance(value, str) else move(value)
                    for key, value in node.items()}
        if isinstance(node, list):
            return [move(item) for item in node]
        return node

    found = {definition_name(prefix, key): move(value) for key, value in schema.get("$defs", {}).items()}
    if top is not None:
        found[top] = move({key: value for key, value in schema.items() if key not in ("$id", "$schema", "$defs")})
    return found


def components() -> dict[str, dict]:
    schemas = {name: bundled_schema(name) for name in COMPONENTS}
    ids = {schema["$id"]: name for name, schema in schemas.items()}
    found: dict[str, dict] = {}
    for name, schema in schemas.items():
        for component, shape in as_components(schema, name, ids).items():
            if component in found:
                raise ValueError(f"two schema definitions are both the component {component}: rename one")
            found[component] = shape
    return found


def _ref(component: str) -> dict:
    return {"$ref": ROOT + component}


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
    return {str(status): {"description": what[status], "content": {PROBLEM_TYPE: {"schema": _ref("Problem")}}}
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
_WORKLIST_AS_OF = {"name": "as_of", "in": "query", "required": True, "schema": {"type": "string", "format": "date"},
                   "description": "The day the worklist is decided as of (YYYY-MM-DD): each record's as_of, the facts "
                                  "complete through it. Records of another month are counted, not decided."}
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
            "responses": {"200": _json(_ref("DecisionPage"), "A page of logged decisions."),
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
        "/v1/worklist": {"post": {
            "operationId": "worklist", "summary": "A practice's daily worklist: what is still to earn this month, and what "
                                                  "it takes",
            "description": "Each patient-month of the body is decided as of `as_of`, to plan the month's work: nothing is "
                           "written to the decision log (a worklist is not a billing decision). A record that cannot be "
                           "decided is not a bad request: it is listed under `problems` with its line and errors. The "
                           "service's time limit applies to the whole worklist.",
            "parameters": [_WORKLIST_AS_OF, _PACK, _OPTION],
            "requestBody": {"required": True, "description": "JSON Lines: one facts document per line, as for a batch.",
                            "content": {JSON_LINES: {"schema": {"type": "string"}}}},
            "responses": {"200": _json(_ref("Worklist"), "The worklist: practice and practitioner totals, each patient's "
                                       "work (most at stake first) and the records that could not be decided."),
                          **_problems(400, *_AUTH, 408, 413, 500)}}},
        "/v1/verify": {"post": {
            "operationId": "verify", "summary": "Re-derive a decision from its facts (policyengine verify)",
            "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("VerifyRequest")}}},
            "responses": {"200": _json(_ref("Verification"), "Whether the decision re-derives, and what differs."),
                          **_problems(400, *_AUTH, 408, 413, 422)}}},
        "/v1/decisions/{id}": {"get": {
            "operationId": "getDecision", "summary": "A decision from the decision log", "parameters": [_ID],
            "responses": {"200": _json(_ref("LoggedDecision"), "The logged decision."),
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
            "responses": {"200": _json(_ref("PackList"), "Every pack served."), **_problems(400, *_AUTH)}}},
        "/v1/packs/{pack_id}": {"get": {
            "operationId": "getPack", "summary": "One pack served",
            "parameters": [{"name": "pack_id", "in": "path", "required": True, "schema": {"type": "string"}}, _AS_OF],
            "responses": {"200": _json(_ref("Pack"), "The pack."), **_problems(400, *_AUTH, 404)}}},
        "/v1/packs:reload": {"post": {
            "operationId": "reloadPacks", "summary": "Compile the packs again (as SIGHUP does)",
            "responses": {"200": _json(_ref("Reload"), "The reload compiled: the new packs serve."),
                          **_problems(*_AUTH), "409": {
                              "description": "The reload failed: the packs compiled before keep serving.",
                              "content": {"application/json": {"schema": _ref("Reload")}}}}}},
        "/healthz": {"get": {"operationId": "healthz", "summary": "Alive", "security": [],
                             "responses": {"200": _json(_ref("Health"), "The process answers.")}}},
        "/readyz": {"get": {"operationId": "readyz", "summary": "Ready: packs compiled, decision log writable", "security": [],
                            "responses": {"200": _json(_ref("Readiness"), "Ready."),
                                          "503": _json(_ref("Readiness"), "Not ready.")}}},
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
