"""The billing logic of the bundled cms-rpm-2026 pack, written by hand in plain Python.

The benchmark's yardstick: what the billable lines and the total of a 2026 patient-month
cost when nobody interprets a pack, keeps a trace or explains anything. It decides the same
billable lines as the engine with the bundled 2026 pack and default options (the benchmark
checks this on every record it times); it has no findings, no reasons, no opportunities,
no trace. Facts are assumed valid (the benchmark runs it on checked records).
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CF = Decimal("33.4009")
CF_QP = Decimal("33.5675")
RVU = {"99453": Decimal("0.65"), "99454": Decimal("1.56"), "99445": Decimal("1.56"), "99457": Decimal("1.55"),
       "99458": Decimal("1.24"), "99470": Decimal("0.78"), "99091": Decimal("1.60")}
REALTIME = frozenset(("phone", "video", "in_person"))
QUALIFIED = frozenset(("physician", "npp", "clinical_staff"))
BILLING_ROLES = frozenset(("physician", "npp"))
RTM = frozenset(("98975", "98976", "98977", "98978", "98979", "98980", "98981", "98984", "98985", "98986"))
CENT = Decimal("0.01")


def _role(item: dict) -> str:
    performer = item.get("performer")
    return (performer or {}).get("role") or "none"


def decide(facts: dict) -> dict:
    """{"billable": [{code, units, amount}], "total"} for valid 2026 facts, default options."""
    other = {service["code"] for service in facts.get("other_services", ())}
    consent = facts.get("consent") or {}
    billable: list[dict] = []
    if (consent.get("obtained") and facts.get("established_patient") is not None and facts["established_patient"]
            and not (other & RTM)):
        seconds = 0
        interactive = 0
        for item in facts.get("interactions", ()):
            topics = item.get("clinical_topics") or ()
            if (item.get("performer") is not None and item.get("summary") is not None and topics
                    and item["program"] == "rpm" and item["two_way"] and not item.get("during_em_visit", False)
                    and any(topic != "scheduling" for topic in topics)
                    and item["modality"] in REALTIME and _role(item) in QUALIFIED):
                seconds += item["duration_seconds"]
                interactive += 1
        review = sum(a["duration_seconds"] for a in facts.get("activities", ())
                     if a["program"] == "rpm" and a["kind"] == "data_review" and _role(a) in BILLING_ROLES)
        device = facts.get("device") or {}
        device_ok = bool(device.get("meets_fda_definition", False))
        days = len(set(facts.get("transmission_days", ())))
        addon = (seconds - 1200) // 1200 if seconds >= 1200 else 0
        billed: set[str] = set()

        def bill(code: str, units: int = 1) -> None:
            billed.add(code)
            billable.append({"code": code, "units": units})

        if seconds >= 1200 and interactive and "99457" not in other:
            bill("99457")
        if addon >= 1 and "99458" not in other and "99457" in billed:
            bill("99458", min(2, addon))
        if device_ok and days >= 16 and "99454" not in other:
            bill("99454")
        if device_ok and days >= 2 and not (facts.get("episode") or {}).get("setup_billed", True) and "99453" not in other:
            bill("99453")
        if review >= 1800 and "99091" not in other and not billed & {"99457", "99458"}:
            bill("99091")
        if 600 <= seconds < 1200 and interactive and "99470" not in other and not billed & {"99457", "99091"}:
            bill("99470")
        if device_ok and 2 <= days < 16 and "99445" not in other and "99454" not in other and "99454" not in billed:
            bill("99445")
    factor = CF_QP if (facts.get("billing_practitioner") or {}).get("qualifying_apm_participant", False) else CF
    total = Decimal("0")
    for line in billable:
        rate = (RVU[line["code"]] * factor).quantize(CENT, rounding=ROUND_HALF_UP)
        amount = rate * line["units"]
        line["amount"] = str(amount)
        total += amount
    return {"patient_id": facts["patient_id"], "month": facts["month"], "billable": billable,
            "total": str(total.quantize(CENT))}
