"""Shared fixtures: a fixture environment for the expression language, and sample facts;
the Hypothesis profiles; a PostgreSQL server for the session, with an empty database for each test; a headless
Chromium for each browser test."""
from __future__ import annotations

import itertools
import os
import tempfile
from collections.abc import Iterator
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest
from hypothesis import HealthCheck, settings

from policyengine.lang import (BOOL, DATE, DECIMAL, DURATION, INT, MONEY, STRING, Environment, FieldSpec, ListOf,
                               record)
from browser import chromium, require_chromium
from postgres_server import postgres_server, require_postgres_binaries

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver

#: compiled packs and Lark's parser are kept in the suite's own cache folder (usercache.py),
#: never the user's, and every run starts cold: it compiles each pack once, then loads it
_CACHE = tempfile.TemporaryDirectory(prefix="policyengine-cache-")
os.environ["XDG_CACHE_HOME"] = _CACHE.name

# Property tests that set no max_examples of their own (the fuzzing in test_fuzz_facts.py)
# run as many examples as the profile says: "ci" by default, "long" with HYPOTHESIS_PROFILE=long.
_FUZZ_SETTINGS = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large]}
settings.register_profile("ci", max_examples=100, **_FUZZ_SETTINGS)
settings.register_profile("long", max_examples=10_000, **_FUZZ_SETTINGS)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

PERFORMER = record("performer", {"id": FieldSpec(STRING, required=True), "role": FieldSpec(STRING, required=True)})
INTERACTION = record("interaction", {
    "id": FieldSpec(STRING, required=True),
    "date": FieldSpec(DATE, required=True),
    "duration_seconds": FieldSpec(DURATION, required=True),
    "modality": FieldSpec(STRING, required=True),
    "two_way": FieldSpec(BOOL, required=True),
    "program": FieldSpec(STRING, required=True),
    "clinical_topics": FieldSpec(ListOf(STRING), default=[]),
    "performer": FieldSpec(PERFORMER),
    "summary": FieldSpec(STRING),
    "during_em_visit": FieldSpec(BOOL, default=False),
})
CONSENT = record("consent", {"obtained": FieldSpec(BOOL, required=True), "date": FieldSpec(DATE),
                             "method": FieldSpec(STRING)})
FACTS = record("facts", {
    "patient_id": FieldSpec(STRING, required=True),
    "month": FieldSpec(STRING, required=True),
    "as_of": FieldSpec(DATE),
    "consent": FieldSpec(CONSENT),
    "interactions": FieldSpec(ListOf(INTERACTION), default=[]),
    "transmission_days": FieldSpec(ListOf(DATE), default=[]),
})
PARAMS = record("params", {
    "threshold": FieldSpec(DURATION, required=True),
    "addon_block": FieldSpec(DURATION, required=True),
    "addon_cap": FieldSpec(INT, required=True),
    "min_days": FieldSpec(INT, required=True),
    "interactive_modalities": FieldSpec(ListOf(STRING), required=True),
    "rvu": FieldSpec(DECIMAL, required=True),
    "conversion_factor": FieldSpec(MONEY, required=True),
})
OPTIONS = record("options", {"messaging_counts": FieldSpec(BOOL, required=True)})

PARAM_VALUES = {
    "threshold": 1200, "addon_block": 1200, "addon_cap": 2, "min_days": 16,
    "interactive_modalities": ["phone", "video", "in_person"],
    "rvu": Decimal("1.55"), "conversion_factor": Decimal("33.4009"),
}
OPTION_VALUES = {"messaging_counts": False}


@pytest.fixture
def env() -> Environment:
    return Environment(FACTS, {"rpm_interactions": ListOf(INTERACTION)}, {"params": PARAMS, "options": OPTIONS})


def interaction(i: int, seconds: int, **overrides) -> dict:
    base = {"id": f"i{i}", "date": f"2026-03-{i + 1:02d}", "duration_seconds": seconds, "modality": "phone",
            "two_way": True, "program": "rpm", "clinical_topics": ["symptoms"],
            "performer": {"id": "rn-1", "role": "clinical_staff"}, "summary": "BP review"}
    base.update(overrides)
    return base


@pytest.fixture
def facts() -> dict:
    return {
        "patient_id": "PT-1", "month": "2026-03", "consent": {"obtained": True, "date": "2026-01-04"},
        "interactions": [interaction(0, 600), interaction(1, 599, modality="video"),
                         interaction(2, 900, program="ccm"), interaction(3, 300, modality="voicemail", two_way=False)],
        "transmission_days": [f"2026-03-{d:02d}" for d in range(1, 17)],
    }


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """One PostgreSQL server for the session (tests/postgres_server.py): skipped where its binaries are
    missing, failed for that in CI."""
    with postgres_server(require_postgres_binaries()) as url:
        yield url


_postgres_databases = itertools.count(1)


@pytest.fixture
def postgres_url(postgres_server_url: str) -> Iterator[str]:
    """The URL of a fresh, empty database (test_N) on the session's server, so tests see no one else's tables;
    dropped after the test, its connections closed by force."""
    import psycopg

    name = f"test_{next(_postgres_databases)}"
    server, _, _ = postgres_server_url.rpartition("/")
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield f"{server}/{name}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        force = " WITH (FORCE)" if admin.info.server_version >= 130000 else ""  # FORCE came in PostgreSQL 13
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"{force}')


@pytest.fixture
def browser() -> Iterator[WebDriver]:
    """A headless Chromium (tests/browser.py) with a fresh profile and a 1280x1024 viewport, quit after the test:
    skipped where Debian's chromium and chromium-driver are missing, failed for that in CI."""
    require_chromium()
    with chromium() as driver:
        yield driver
