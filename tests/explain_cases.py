"""Decisions for the explain and verify tests: the example months plus small variations,
decided by the bundled 2026 pack as it stands (never a frozen copy)."""
from __future__ import annotations

import copy
import json
from pathlib import Path

from policyengine.api import evaluate
from policyengine.packs import load_pack

ROOT = Path(__file__).resolve().parents[1]
PACK_ID = "cms-rpm-2026"


def pack():
    return load_pack(PACK_ID)


def example(name: str) -> dict:
    return json.loads((ROOT / "examples" / f"{name}.json").read_text())


def _call(i: int, day: int, seconds: int, **overrides) -> dict:
    base = {"id": f"IX-T-{i:02d}", "date": f"2026-03-{day:02d}", "duration_seconds": seconds, "modality": "phone",
            "two_way": True, "program": "rpm", "clinical_topics": ["physiologic_data", "symptoms"],
            "performer": {"id": "STAFF-RN-014", "role": "clinical_staff"}, "summary": "Reviewed readings and symptoms."}
    base.update(overrides)
    return base


def facts_99470() -> dict:
    """One 12-minute call: 10 min up to 19:59 earns the 2026 short-time code."""
    facts = copy.deepcopy(example("2026-03-exactly-20-minutes"))
    facts["interactions"] = [_call(1, 5, 720)]
    return facts


def facts_long_month() -> dict:
    """85 minutes over four calls: crosses 10:00, 20:00, 40:00, 60:00, and the add-on cap stops at 80:00."""
    facts = copy.deepcopy(example("2026-03-exactly-20-minutes"))
    facts["interactions"] = [_call(1, 3, 540), _call(2, 9, 1500), _call(3, 16, 1500), _call(4, 27, 1560)]
    return facts


def facts_every_exclusion() -> dict:
    """The voicemail month plus a scheduling-only call and an undocumented call."""
    facts = copy.deepcopy(example("2026-03-voicemail-and-messages"))
    facts["interactions"] += [
        _call(20, 20, 300, clinical_topics=["scheduling"], summary="Rescheduled the device check."),
        {key: value for key, value in _call(21, 26, 900).items() if key not in ("performer", "summary")},
    ]
    return facts


def facts_no_consent() -> dict:
    facts = copy.deepcopy(example("2026-03-exactly-20-minutes"))
    facts["consent"] = None
    return facts


def facts_billed_elsewhere() -> dict:
    """The seed's 22 minutes, with 99457 already billed for the month by someone else."""
    facts = copy.deepcopy(example("2026-03-seed-22-minutes"))
    facts["other_services"] = [{"code": "99457"}]
    return facts


CASES = {
    "billable_20_minutes": (lambda: example("2026-03-exactly-20-minutes"), {}, "full"),
    "not_billable_19min59s": (lambda: example("2026-03-19min59s"), {}, "full"),
    "excluded_time_every_kind": (facts_every_exclusion, {}, "full"),
    "messaging_counts_option": (lambda: example("2026-03-voicemail-and-messages"), {"messaging_counts": "true"}, "full"),
    "documentation_gap": (lambda: example("2026-01-missing-performer"), {}, "full"),
    "code_99470_2026": (facts_99470, {}, "full"),
    "long_month_addon_cap": (facts_long_month, {}, "full"),
    "no_consent": (facts_no_consent, {}, "full"),
    "billed_elsewhere": (facts_billed_elsewhere, {}, "full"),
    "compact_trace": (lambda: example("2026-03-seed-22-minutes"), {}, "compact"),
}


def decision(name: str) -> tuple[dict, dict]:
    make, options, trace = CASES[name]
    facts = make()
    return evaluate(copy.deepcopy(facts), pack(), options, trace), facts
