"""Who may call what: bearer tokens with the roles decide and audit; without tokens, loopback only."""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from policyengine.cli import main
from policyengine.service.auth import TokenFileError, Tokens, load_tokens
from policyengine.service.config import ServiceConfig
from served import client

SEED = Path(__file__).resolve().parents[1] / "examples" / "2026-03-seed-22-minutes.json"
BILLING, AUDITOR, BOTH = "billing-token-0123456789", "auditor-token-0123456789", "both-token-0123456789abc"
TOKENS = f"billing decide {BILLING}\nauditor audit {AUDITOR}  # the compliance team\nops decide,audit {BOTH}\n"


@pytest.fixture(scope="module")
def http(tmp_path_factory):
    folder = tmp_path_factory.mktemp("auth")
    (folder / "tokens").write_text(TOKENS)
    config = ServiceConfig(log=str(folder / "log.sqlite"), tokens_file=str(folder / "tokens"))
    with client(config, load_tokens(config.tokens_file)) as http:
        yield http


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_no_token_or_a_wrong_one_is_401(http):
    for headers in ({}, bearer("not-a-token-at-all-really"), {"Authorization": f"Basic {BILLING}"}):
        response = http.post("/v1/decisions", content=SEED.read_bytes(), headers=headers)
        assert response.status_code == 401 and response.json()["code"] == "auth.unauthorized"
        assert response.headers["www-authenticate"].startswith("Bearer")


def test_decide_decides_and_cannot_read_the_log(http):
    response = http.post("/v1/decisions", content=SEED.read_bytes(), headers=bearer(BILLING))
    assert response.status_code == 200
    decision_id = response.headers["x-decision-id"]
    for path in (f"/v1/decisions/{decision_id}", f"/v1/decisions/{decision_id}/explanation"):
        refused = http.get(path, headers=bearer(BILLING))
        assert refused.status_code == 403 and refused.json()["code"] == "auth.forbidden"
    assert http.post("/v1/packs:reload", headers=bearer(BILLING)).status_code == 403


def test_audit_reads_the_log_and_cannot_decide(http):
    decision_id = http.post("/v1/decisions", content=SEED.read_bytes(), headers=bearer(BILLING)).headers["x-decision-id"]
    logged = http.get(f"/v1/decisions/{decision_id}", headers=bearer(AUDITOR)).json()
    assert logged["caller"] == "billing"
    assert http.post("/v1/decisions", content=SEED.read_bytes(), headers=bearer(AUDITOR)).status_code == 403
    assert http.post("/v1/decisions:batch", content=SEED.read_bytes(), headers=bearer(AUDITOR)).status_code == 403
    assert http.get("/v1/packs", headers=bearer(AUDITOR)).status_code == 200


def test_a_token_with_both_roles_does_both(http):
    decision_id = http.post("/v1/decisions", content=SEED.read_bytes(), headers=bearer(BOTH)).headers["x-decision-id"]
    assert http.get(f"/v1/decisions/{decision_id}", headers=bearer(BOTH)).json()["caller"] == "ops"


def test_probes_and_the_api_document_need_no_token(http):
    for path in ("/healthz", "/readyz", "/metrics", "/openapi.json"):
        assert http.get(path).status_code == 200


def test_without_tokens_the_service_refuses_to_listen_beyond_loopback(monkeypatch):
    monkeypatch.delenv("POLICYENGINE_SERVICE_TOKENS", raising=False)
    result = CliRunner().invoke(main, ["serve", "--host", "0.0.0.0"])
    assert result.exit_code == 2 and "loopback only" in result.stderr and "Traceback" not in result.output


@pytest.mark.parametrize("text,words", [
    ("billing decide", "expected NAME ROLE[,ROLE] TOKEN"),
    ("billing admin abcdefghijklmnopqrstu", "unknown role admin"),
    ("billing decide short", "shorter than 16"),
    (f"a decide {BILLING}\nb audit {BILLING}", "given twice"),
])
def test_a_bad_tokens_file_is_refused_naming_the_line(text, words):
    with pytest.raises(TokenFileError, match=words.replace("[", r"\[").replace("]", r"\]")):
        Tokens.parse(text, "tokens")


def test_tokens_come_from_the_environment_without_a_file(monkeypatch):
    monkeypatch.setenv("POLICYENGINE_SERVICE_TOKENS", f"billing decide {BILLING}")
    tokens = load_tokens(None)
    assert tokens is not None and tokens.caller(BILLING).name == "billing" and tokens.caller(AUDITOR) is None
    monkeypatch.delenv("POLICYENGINE_SERVICE_TOKENS")
    assert load_tokens(None) is None
