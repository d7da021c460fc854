"""The OpenAPI document takes its shapes from schemas/, and the decision log is SQLite in WAL."""
from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import jsonschema

from policyengine.decisionlog import Query, SqliteDecisionStore, new_row
from policyengine.service.openapi import COMPONENTS, openapi_document

ROOT = Path(__file__).resolve().parents[1]


def test_each_component_is_a_schema_file_as_written():
    """Putting the references back where the file had them gives the file itself: the
    document holds no second copy of a shape that could drift."""
    components = openapi_document()["components"]["schemas"]
    files = {name: json.loads((ROOT / "schemas" / name).read_text()) for name in COMPONENTS}
    back = {f"#/components/schemas/{COMPONENTS[name]}": (name, schema["$id"]) for name, schema in files.items()}

    def restore(node, own):
        if isinstance(node, dict):
            out = {}
            for key, value in node.items():
                if key == "$ref":
                    target, _, rest = value.partition("/$defs/")
                    name, schema_id = back[target]
                    out[key] = f"#/$defs/{rest}" if name == own else schema_id + (f"#/$defs/{rest}" if rest else "")
                else:
                    out[key] = restore(value, own)
            return out
        return [restore(item, own) for item in node] if isinstance(node, list) else node

    for name, schema in files.items():
        expected = {k: v for k, v in schema.items() if k not in ("$id", "$schema")}
        assert restore(components[COMPONENTS[name]], name) == expected


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


def test_the_sqlite_log_is_in_wal_mode_and_reads_back_what_was_appended(tmp_path):
    import policyengine
    seed = (ROOT / "examples" / "2026-03-seed-22-minutes.json").read_text()
    decision = policyengine.evaluate(json.loads(seed))
    store = SqliteDecisionStore(tmp_path / "log.sqlite")
    rows = [new_row(decision, policyengine.to_json(decision), seed, caller="test", pack_ref="cms-rpm-2026", trace="full",
                    compact=False) for _ in range(3)]
    store.append(rows)
    assert store.get(rows[1].id) == rows[1]
    assert [r.id for r in store.list(Query(patient_id="PT-104233", limit=2))] == [rows[2].id, rows[1].id]
    assert [r.id for r in store.scan(batch=2)] == [r.id for r in rows]
    assert store.list(Query(month="1999-01")) == []
    store.close()
    with sqlite3.connect(tmp_path / "log.sqlite") as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
