"""The client script in examples/ against a really served service: what the README tells a
billing system to start from keeps working."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import policyengine
from policyengine.service.config import ServiceConfig
from served import serving

ROOT = Path(__file__).resolve().parents[1]
CLIENT = ROOT / "examples" / "client.py"
SEED = ROOT / "examples" / "2026-03-seed-22-minutes.json"
NO_CONSENT = ROOT / "examples" / "2025-06-no-consent.json"


def run_client(*args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(CLIENT), *map(str, args)], capture_output=True, text=True, timeout=60)


def expected_line(path: Path) -> str:
    decision = policyengine.evaluate(policyengine.facts.parse_facts_text(path.read_text(), str(path)))
    codes = ", ".join(f"{line['code']}x{line['units']}" for line in decision["billable"]) or "nothing billable"
    return f"{path.name}: {decision['patient_id']} {decision['month']}: {codes}; total ${decision['total']}"


def test_the_client_decides_each_file_and_reads_the_logged_explanation(tmp_path):
    with serving(ServiceConfig(log=str(tmp_path / "log.sqlite"))) as base:
        result = run_client(SEED, NO_CONSENT, "--url", base)
        explained = run_client(SEED, "--url", base, "--explain")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == expected_line(SEED) and lines[2] == expected_line(NO_CONSENT)
    assert lines[1].startswith("  logged as ") and len(lines) == 4
    assert explained.stdout.splitlines()[2] == "  | Decision for PT-104233, 2026-03"
    assert "  |       why: 22 min of RPM treatment-management time" in explained.stdout


def test_the_client_batch_and_a_refused_file(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(SEED.read_text().replace('"month": "2026-03"', '"month": "2026-13"'))
    with serving() as base:
        batch = run_client(SEED, bad, "--batch", "--url", base)
        single = run_client(bad, "--url", base)
    assert batch.returncode == 1 and batch.stdout.splitlines() == [expected_line(SEED)]
    assert "bad.json: line 2: /month" in batch.stderr and "[facts." in batch.stderr
    assert single.returncode == 1 and single.stderr.startswith(f"{bad}: 400 /month")


def test_the_client_says_when_the_service_is_not_there():
    result = run_client(SEED, "--url", "http://127.0.0.1:9")
    assert result.returncode == 2 and "cannot reach the service at http://127.0.0.1:9" in result.stderr
