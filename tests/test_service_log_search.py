"""The decision log over HTTP: search for the audit role with cursor pages, a damaged row
answered as a problem rather than served, and retries under an Idempotency-Key (same key
and request: the same decision and id, logged once; another request: 422)."""
from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path

import pytest

from policyengine.decisionlog import Query, SqliteDecisionStore
from policyengine.service.auth import load_tokens
from policyengine.service.config import ServiceConfig
from served import client

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.json"))
SEED = ROOT / "examples" / "2026-03-seed-22-minutes.json"
BILLING, AUDITOR = "billing-token-0123456789", "auditor-token-0123456789"


@pytest.fixture
def served(tmp_path):
    (tmp_path / "tokens").write_text(f"billing decide {BILLING}\nauditor audit {AUDITOR}\n")
    config = ServiceConfig(log=str(tmp_path / "log.sqlite"), tokens_file=str(tmp_path / "tokens"))
    with client(config, load_tokens(config.tokens_file)) as http:
        yield http, tmp_path / "log.sqlite"


def as_billing(**headers: str) -> dict:
    return {"Authorization": f"Bearer {BILLING}", **headers}


AS_AUDITOR = {"Authorization": f"Bearer {AUDITOR}"}


def test_search_filters_and_pages_for_the_audit_role_only(served):
    http, _ = served
    ids = [http.post("/v1/decisions", content=path.read_bytes(), headers=as_billing()).headers["x-decision-id"]
           for path in EXAMPLES]
    assert http.get("/v1/decisions", headers=as_billing()).status_code == 403
    pages, cursor = [], None
    while True:
        params = {"limit": "3", **({"cursor": cursor} if cursor else {})}
        page = http.get("/v1/decisions", params=params, headers=AS_AUDITOR).json()
        pages.append([d["id"] for d in page["decisions"]])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [i for page in pages for i in page] == list(reversed(ids)) and all(len(p) <= 3 for p in pages)
    seed = json.loads(SEED.read_text())
    found = http.get("/v1/decisions", params={"patient": seed["patient_id"], "month": seed["month"], "code": "99457",
                                              "status": "billable"}, headers=AS_AUDITOR).json()["decisions"]
    assert found and all(d["patient_id"] == seed["patient_id"] for d in found)
    by_practitioner = http.get("/v1/decisions", params={"practitioner": seed["billing_practitioner"]["id"]},
                               headers=AS_AUDITOR).json()["decisions"]
    assert ids[EXAMPLES.index(SEED)] in [d["id"] for d in by_practitioner]
    for params, where in (({"limit": "0"}, "?limit"), ({"since": "last week"}, "?since/until"), ({"patients": "x"},
                          "?patients"), ({"cursor": "9" * 30}, "?cursor"), ({"cursor": "-1"}, "?cursor")):
        refused = http.get("/v1/decisions", params=params, headers=AS_AUDITOR)
        assert refused.status_code == 400 and refused.json()["where"] == where


def test_a_damaged_row_is_a_problem_not_the_bytes(served):
    http, log = served
    decision_id = http.post("/v1/decisions", content=SEED.read_bytes(), headers=as_billing()).headers["x-decision-id"]
    with sqlite3.connect(log) as db:
        db.execute("UPDATE decisions SET caller = 'someone-else' WHERE id = ?", (decision_id,))
    for path in (f"/v1/decisions/{decision_id}", f"/v1/decisions/{decision_id}/explanation", "/v1/decisions"):
        response = http.get(path, headers=AS_AUDITOR)
        assert response.status_code == 500 and response.json()["code"] == "log.damaged"
        assert "'caller' edited" in response.json()["message"]


def test_a_retry_with_the_same_key_is_the_same_decision_logged_once(served):
    http, log = served
    first = http.post("/v1/decisions", content=SEED.read_bytes(), headers=as_billing(**{"Idempotency-Key": "k-1"}))
    retry = http.post("/v1/decisions", content=SEED.read_bytes(), headers=as_billing(**{"Idempotency-Key": "k-1"}))
    assert first.status_code == retry.status_code == 200
    assert retry.content == first.content and retry.headers["x-decision-id"] == first.headers["x-decision-id"]
    assert retry.headers["idempotent-replayed"] == "true"
    other = http.post("/v1/decisions", params={"trace": "none"}, content=SEED.read_bytes(),
                      headers=as_billing(**{"Idempotency-Key": "k-1"}))
    assert other.status_code == 422 and other.json()["code"] == "request.idempotency_key_reused"
    assert other.json()["title"] == "Idempotency-Key reused"
    fresh = http.post("/v1/decisions", content=SEED.read_bytes(), headers=as_billing(**{"Idempotency-Key": "k-2"}))
    assert fresh.headers["x-decision-id"] != first.headers["x-decision-id"]
    assert http.post("/v1/decisions", content=SEED.read_bytes(),
                     headers=as_billing(**{"Idempotency-Key": "bad\tkey"})).status_code == 400
    assert http.post("/v1/decisions:batch", content=SEED.read_text().replace("\n", " ") + "\n",
                     headers=as_billing(**{"Idempotency-Key": "k-3"})).status_code == 400
    store = SqliteDecisionStore.open_for_reading(log)
    assert len(store.list(Query(limit=None)).rows) == 2
    store.close()


def test_retries_sent_at_once_are_logged_once(served):
    http, log = served
    answers: list = []

    def send() -> None:
        answers.append(http.post("/v1/decisions", content=SEED.read_bytes(),
                                 headers=as_billing(**{"Idempotency-Key": "at-once"})))

    threads = [threading.Thread(target=send) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert [a.status_code for a in answers] == [200] * 6, [a.text for a in answers if a.status_code != 200]
    assert len({a.headers["x-decision-id"] for a in answers}) == 1 and len({a.content for a in answers}) == 1
    store = SqliteDecisionStore.open_for_reading(log)
    assert len(store.list(Query(limit=None)).rows) == 1
    store.close()
