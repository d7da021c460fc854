"""The OpenAPI document through the code generators a billing team would use on it: both
generate the models of the facts and the decision (no schema dropped for a reference they
cannot follow, as references into a component's $defs were)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from policyengine.service.openapi import openapi_document

BIN = Path(sys.executable).parent


def write_document(folder: Path) -> Path:
    path = folder / "openapi.json"
    path.write_text(json.dumps(openapi_document()))
    return path


def test_openapi_python_client_generates_the_facts_and_decision_models(tmp_path):
    done = subprocess.run([str(BIN / "openapi-python-client"), "generate", "--path", str(write_document(tmp_path)),
                           "--output-path", str(tmp_path / "client"), "--overwrite"],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Unable to process schema" not in done.stdout + done.stderr
    models = {path.stem: path.read_text() for path in (tmp_path / "client").glob("*/models/*.py")}
    assert "class PatientMonthFacts:" in models["patient_month_facts"]  # the facts schema's title names it
    assert "class Decision:" in models["decision"] and "class LoggedDecision:" in models["logged_decision"]
    assert "class Problem:" in models["problem"]


def test_datamodel_code_generator_generates_the_facts_and_decision_models(tmp_path):
    output = tmp_path / "models.py"
    done = subprocess.run([str(BIN / "datamodel-codegen"), "--input", str(write_document(tmp_path)), "--input-file-type",
                           "openapi", "--output", str(output)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    text = output.read_text()
    for model in ("Facts", "Decision", "FactsInteraction", "LoggedDecision", "DecisionPage", "Problem"):
        assert f"\nclass {model}(" in text, model  # BaseModel, or the shape it extends (allOf)
