"""Decision log rows for the log's tests: the seed month decided once, made into rows."""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import policyengine
from policyengine.decisionlog import walk_log
from policyengine.decisionlog.store import LoggedDecision, new_row

SEED = Path(__file__).resolve().parents[1] / "examples" / "2026-03-seed-22-minutes.json"
DECISION = policyengine.evaluate(json.loads(SEED.read_text()), trace="none")


def row(caller: str = "billing", **changes) -> LoggedDecision:
    """A new row of the seed's decision for `caller`, with any column changed."""
    made = new_row(DECISION, policyengine.to_json(DECISION), SEED.read_text(), caller=caller, pack_ref="cms-rpm-2026",
                   trace="none", compact=False, idempotency_key=changes.pop("idempotency_key", None))
    return dataclasses.replace(made, **changes)


def walk(store) -> list:
    """What is wrong with the store's chain, walked whole."""
    return walk_log(store, store.key, keyed=store.key is not None).findings
