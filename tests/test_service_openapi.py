"""The OpenAPI document takes its shapes from schemas/, and the decision log is SQLite in WAL."""
from __future__ import annotations

import json
from pathlib import Path

import jsonschema

from policyengine.service.openapi import COMPONENTS, definition_name, openapi_document

ROOT = Path(__file__).resolve().parents[1]


def test_each_component_is_a_schema_file_as_written():
    """Putting the definitions and the references back where the file had them gives the
    file itself: the document holds no second copy of a shape that could drift."""
    components = openapi_document()["components"]["schemas"]
    files = {name: json.loads((ROOT / "schemas" / name).read_text()) for name in COMPONENTS}
    back = {}  # component -> (file, its reference in that file's terms)
    for name, schema in files.items():
        top, prefix = COMPONENTS[name]
        if top is not None:
            back[top] = (name, "")
        back.update({definition_name(prefix, key): (name, f"#/$defs/{key}") for key in schema.get("$defs", {})})

    def restore(node, own):
        if isinstance(node, dict):
            out = {}
            for key, value in node.items():
                if key == "$ref":
                    name, pointer = back[value.removeprefix("#/components/schemas/")]
                    out[key] = pointer if name == own else files[name]["$id"] + pointer
                else:
                    out[key] = restore(value, own)
            return out
        return [restore(item, own) for item in node] if isinstance(node, list) else node

    assert set(back) == set(components)
    for name, schema in files.items():
        top, prefix = COMPONENTS[name]
        rebuilt = restore(components[top], name) if top is not None else {
            k: v for k, v in schema.items() if k not in ("$id", "$schema", "$defs")}
        if "$defs" in schema:
            rebuilt["$defs"] = {key: restore(components[definition_name(prefix, key)], name) for key in schema["$defs"]}
        assert rebuilt == {k: v for k, v in schema.items() if k not in ("$id", "$schema")}


def test_the_document_is_openapi_3_1_and_its_references_resolve():
    document = openapi_document()
    assert document["openapi"].startswith("3.1")
    refs = []

    def collect(node):
        if isinstance(node, dict):
            refs.extend(v for k, v in node.items() if k == "$ref")
            for value in node.values():
                collect(value)
        elif isinstance(node, list):
            for item in node:
                collect(item)

    collect(document)
    for ref in set(refs):
        node = document
        for part in ref.removeprefix("#/").split("/"):
            node = node[part]
        assert isinstance(node, dict), ref


def test_decisions_from_the_examples_fit_the_decision_component():
    import policyengine
    document = openapi_document()
    for path in sorted((ROOT / "examples").glob("*.json")):
        decision = json.loads(policyengine.to_json(policyengine.evaluate(json.loads(path.read_text()))))
        # the component with the document's components beside it, so its references resolve
        schema = {**document["components"]["schemas"]["Decision"], "components": document["components"]}
        jsonschema.Draft202012Validator(schema).validate(decision)
