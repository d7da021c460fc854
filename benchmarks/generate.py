"""Seeded generator of realistic patient-months, as JSON Lines, for batch tests and benchmarks.

    python benchmarks/generate.py --n 100000 --seed 1 --malformed 0.1 > months.jsonl
    python benchmarks/generate.py --n 1000 --years 2024=0.2,2025=0.3,2026=0.5

Each valid record satisfies contract v1 section 1 (schemas/facts.schema.json plus the
calendar checks): a mix of device types, transmission days (0 to 30 in a monitoring period
of at most 30 days), interactions of every modality, program and performer role, with
documentation gaps, consent gaps (absent, null, not obtained), non-established patients,
E/M-visit time, non-interactive activities, other services and the odd misspelt key.

A share of lines (`--malformed`) is broken on purpose, in equal parts of: text that is not
JSON, a blank line, a missing patient_id, a negative duration, an impossible date and an
interaction dated outside the month. `generate_lines` yields each line with the kind of
damage done (None for a valid record), so a test knows which lines must fail and why.

Months are drawn by year (`--years`, default mostly 2026); a month for which no pack is
bundled yet is an error record (`facts.no_pack`), which is correct behaviour.
"""
from __future__ import annotations

import argparse
import calendar
import json
import random
import sys
from datetime import date, timedelta
from typing import Iterator

MALFORMED_KINDS = ("bad_json", "blank", "missing_patient_id", "negative_duration", "impossible_date",
                   "outside_month")

#: The error code each kind of damage must produce.
EXPECTED_ERROR = {
    "bad_json": "facts.malformed",
    "blank": "facts.malformed",
    "missing_patient_id": "facts.missing_field",
    "negative_duration": "facts.out_of_range",
    "impossible_date": "facts.not_a_date",
    "outside_month": "facts.outside_month",
}

DEFAULT_YEARS = {2024: 0.05, 2025: 0.05, 2026: 0.90}

MODALITIES = (("phone", 50), ("video", 10), ("secure_message", 12), ("in_person", 5), ("voicemail", 10),
              ("automated_message", 13))
PROGRAMS = (("rpm", 75), ("ccm", 15), ("pcm", 5), ("tcm", 5))
ROLES = (("clinical_staff", 70), ("physician", 10), ("npp", 10), ("ai_system", 10))
TOPICS = ("physiologic_data", "symptoms", "medication_adherence", "care_plan", "functional_status", "scheduling")
DEVICES = {
    "blood_pressure_monitor": ["blood_pressure", "heart_rate"],
    "weight_scale": ["weight"],
    "glucometer": ["blood_glucose"],
    "pulse_oximeter": ["spo2", "heart_rate"],
}
SUMMARIES = (
    "Reviewed home BP trend with the patient; no new symptoms; adherence confirmed.",
    "Discussed weight gain of 2 kg this week; reviewed diuretic dosing and fluid intake.",
    "Glucose readings above target after meals; reviewed diet and reminded of insulin timing.",
    "Patient reports dizziness on standing; reviewed readings and advised slow position changes.",
    "Follow-up after dose change: readings improving; care plan unchanged.",
)
ACTIVITY_KINDS = ("data_review", "note_writing", "care_coordination")
#: Misspelt keys that must surface as warnings, never pass silently.
TYPOS = (("interactions", "during_em_vist"), ("interactions", "escalatd"))


def _pick(rng: random.Random, weighted: tuple[tuple[str, int], ...]) -> str:
    total = sum(w for _, w in weighted)
    x = rng.random() * total
    for value, weight in weighted:
        x -= weight
        if x < 0:
            return value
    return weighted[-1][0]


def parse_years(text: str) -> dict[int, float]:
    """'2024=0.1,2025=0.2,2026=0.7' as {year: weight}."""
    years = {}
    for part in text.split(","):
        year, _, weight = part.partition("=")
        years[int(year)] = float(weight or 1)
    return years


class Generator:
    def __init__(self, seed: int = 1, years: dict[int, float] | None = None) -> None:
        self.rng = random.Random(seed)
        years = years or DEFAULT_YEARS
        self.years = list(years)
        self.year_weights = [years[y] for y in self.years]

    def month(self) -> tuple[int, int]:
        rng = self.rng
        return rng.choices(self.years, self.year_weights)[0], rng.randint(1, 12)

    def record(self, index: int) -> dict:
        rng = self.rng
        year, number = self.month()
        month = f"{year}-{number:02d}"
        first = date(year, number, 1)
        days_in_month = calendar.monthrange(year, number)[1]
        facts: dict = {"patient_id": f"PT-{index:07d}", "month": month}
        practitioner = rng.randrange(40)
        facts["billing_practitioner"] = {"id": f"PR-{2200 + practitioner}", "npi": f"{1588660000 + practitioner * 37:010d}",
                                         "qualifying_apm_participant": rng.random() < 0.1}
        roll = rng.random()
        if roll < 0.93:
            facts["established_patient"] = True
        elif roll < 0.97:
            facts["established_patient"] = False
        episode_start = first - timedelta(days=rng.randint(0, 400))
        roll = rng.random()
        if roll < 0.86:
            consent_day = episode_start - timedelta(days=rng.randint(0, 10))
            facts["consent"] = {"obtained": True, "date": consent_day.isoformat(),
                                "method": rng.choice(("verbal", "written", "electronic")),
                                "recorded_by": f"STAFF-RN-{rng.randrange(30):03d}"}
        elif roll < 0.91:
            facts["consent"] = None
        elif roll < 0.95:
            facts["consent"] = {"obtained": False}
        # else: no consent documented at all
        device = rng.choice(tuple(DEVICES))
        if rng.random() < 0.97:
            facts["device"] = {"type": device, "meets_fda_definition": rng.random() < 0.97,
                               "data_types": list(DEVICES[device])}
        days: list[date] = []
        if rng.random() < 0.9:
            start = first - timedelta(days=rng.choice((0, 0, 0, rng.randint(1, 20))))
            end = start + timedelta(days=29)
            facts["monitoring_period"] = {"start": start.isoformat(), "end": end.isoformat()}
            span = [start + timedelta(days=k) for k in range(30)]
        else:
            span = [first + timedelta(days=k) for k in range(days_in_month)]
        wanted = rng.choice((rng.randint(0, 1), rng.randint(2, 15), rng.randint(16, len(span)),
                             rng.randint(16, len(span))))
        days = sorted(rng.sample(span, min(wanted, len(span))))
        if days or rng.random() < 0.5:
            facts["transmission_days"] = [d.isoformat() for d in days]
        facts["episode"] = {"start": episode_start.isoformat(), "setup_billed": rng.random() < 0.9}
        interactions = [self.interaction(year, number, days_in_month, k) for k in range(rng.choice((0, 1, 1, 2, 2, 3, 3, 4, 5, 6, 8)))]
        if interactions:
            facts["interactions"] = interactions
        if rng.random() < 0.4:
            facts["activities"] = [self.activity(year, number, days_in_month, k) for k in range(rng.randint(1, 3))]
        if rng.random() < 0.15:
            facts["care_plan_changes"] = [{"date": self.day(year, number, days_in_month),
                                           "description": "Medication dose adjusted", "by": f"PR-{2200 + practitioner}"}]
        if rng.random() < 0.05:
            facts["escalations"] = [{"date": self.day(year, number, days_in_month), "reason": "Reading above alert threshold",
                                     "to": f"PR-{2200 + practitioner}"}]
        if rng.random() < 0.2:
            facts["other_services"] = [{"code": rng.choice(("99214", "99213", "99490", "99439")),
                                        "practitioner": f"PR-{2200 + practitioner}"}]
        if interactions and rng.random() < 0.01:
            _, typo = rng.choice(TYPOS)
            interactions[0][typo] = True
        return facts

    def day(self, year: int, number: int, days_in_month: int) -> str:
        return f"{year}-{number:02d}-{self.rng.randint(1, days_in_month):02d}"

    def interaction(self, year: int, number: int, days_in_month: int, k: int) -> dict:
        rng = self.rng
        modality = _pick(rng, MODALITIES)
        day = rng.randint(1, days_in_month)
        two_way = modality in ("phone", "video", "in_person") or (modality == "secure_message" and rng.random() < 0.7)
        seconds = 0 if modality == "automated_message" else rng.randint(60, 1500)
        item: dict = {"id": f"IX-{year}{number:02d}{day:02d}-{k:02d}", "date": f"{year}-{number:02d}-{day:02d}",
                      "duration_seconds": seconds, "modality": modality, "two_way": two_way,
                      "program": _pick(rng, PROGRAMS)}
        if rng.random() > 0.03:
            item["clinical_topics"] = rng.sample(TOPICS, rng.randint(1, 3))
        if rng.random() > 0.04:
            role = "ai_system" if modality == "automated_message" else _pick(rng, ROLES)
            item["performer"] = {"id": "AI-CALLAGENT" if role == "ai_system" else f"STAFF-{rng.randrange(30):03d}",
                                 "role": role}
        if rng.random() > 0.03:
            item["summary"] = rng.choice(SUMMARIES)
        if rng.random() < 0.03:
            item["during_em_visit"] = True
        if rng.random() < 0.03:
            item["escalated"] = True
        return item

    def activity(self, year: int, number: int, days_in_month: int, k: int) -> dict:
        rng = self.rng
        day = rng.randint(1, days_in_month)
        item = {"id": f"AC-{year}{number:02d}{day:02d}-{k:02d}", "date": f"{year}-{number:02d}-{day:02d}",
                "kind": rng.choice(ACTIVITY_KINDS), "duration_seconds": rng.randint(120, 1200),
                "program": "rpm" if rng.random() < 0.85 else "ccm"}
        if rng.random() < 0.9:
            item["performer"] = {"id": f"STAFF-{rng.randrange(30):03d}", "role": "clinical_staff"}
        return item

    def damage(self, facts: dict, kind: str) -> str:
        """The record broken in the way `kind` names, as one line of text."""
        rng = self.rng
        year, number = int(facts["month"][:4]), int(facts["month"][5:])
        days_in_month = calendar.monthrange(year, number)[1]
        if kind == "bad_json":
            text = json.dumps(facts, separators=(",", ":"))
            return text[: rng.randint(1, max(1, len(text) - 1))]
        if kind == "blank":
            return rng.choice(("", "   ", "\t"))
        if kind == "missing_patient_id":
            del facts["patient_id"]
        else:
            if not facts.get("interactions"):
                facts["interactions"] = [self.interaction(year, number, days_in_month, 0)]
            item = rng.choice(facts["interactions"])
            if kind == "negative_duration":
                item["duration_seconds"] = -rng.randint(1, 600)
            elif kind == "impossible_date":
                item["date"] = f"{year}-{number:02d}-{days_in_month + 1:02d}"
            elif kind == "outside_month":
                outside = date(year, number, 1) + timedelta(days=days_in_month + rng.randint(0, 20))
                item["date"] = outside.isoformat()
        return json.dumps(facts, separators=(",", ":"))


def generate_lines(n: int, seed: int = 1, malformed: float = 0.0,
                   years: dict[int, float] | None = None) -> Iterator[tuple[str, str | None]]:
    """(line without newline, kind of damage or None) for n patient-months, lazily."""
    generator = Generator(seed, years)
    rng = generator.rng
    for index in range(n):
        facts = generator.record(index)
        if malformed and rng.random() < malformed:
            kind = MALFORMED_KINDS[rng.randrange(len(MALFORMED_KINDS))]
            yield generator.damage(facts, kind), kind
        else:
            yield json.dumps(facts, separators=(",", ":")), None


def write_file(path: str, n: int, seed: int = 1, malformed: float = 0.0, years: dict[int, float] | None = None) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as out:
        for line, _ in generate_lines(n, seed, malformed, years):
            out.write(line + "\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1000, help="patient-months (default 1000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--malformed", type=float, default=0.0, help="share of broken lines, 0 to 1")
    parser.add_argument("--years", default=None, help="year weights, e.g. 2024=0.05,2025=0.05,2026=0.9 (the default)")
    parser.add_argument("--out", default="-", help="output file (default stdout)")
    args = parser.parse_args(argv)
    years = parse_years(args.years) if args.years else None
    out = sys.stdout if args.out == "-" else open(args.out, "w", encoding="utf-8", newline="\n")
    try:
        for line, _ in generate_lines(args.n, args.seed, args.malformed, years):
            out.write(line + "\n")
    finally:
        if out is not sys.stdout:
            out.close()


if __name__ == "__main__":
    main()
