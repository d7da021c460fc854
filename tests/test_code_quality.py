"""The package type-checks (mypy, settings in pyproject.toml) and lints clean (ruff): both
run as part of the test suite, so CI holds every change to them."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *command], cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_mypy_finds_nothing():
    done = run("mypy", "--no-error-summary")
    assert done.returncode == 0, done.stdout + done.stderr


def test_ruff_finds_nothing():
    done = run("ruff", "check", "policyengine")
    assert done.returncode == 0, done.stdout + done.stderr
