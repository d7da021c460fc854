"""Benchmark: one patient-month with many interactions, in each trace form, for the 2026 pack
and for that pack with its rules repeated.

    python benchmarks/trace_scaling.py [--sizes 0 100 1000 10000] [--rules 1 10] [--big 100000]

Each interaction is documented, interactive and counted (the costliest kind to trace: it
passes every filter). Prints, per pack, size and trace form, the seconds to decide and
write the decision as JSON, the seconds per 1,000 interactions (flat when the cost is
linear), the size of the JSON and the cost against no trace on the same facts. `--rules
10` decides with an overlay of cms-rpm-2026 holding nine more copies of each of its rules,
each billing a code of its own (the definitions are shared, as a pack's are). Facts are
given as data (the Python API), since a document of this many interactions is far beyond
the 1 MiB a facts file may be.
"""
from __future__ import annotations

import argparse
import copy
import gc
import json
import tempfile
import time
from pathlib import Path

import yaml

import policyengine
from policyengine.packs import CompiledPack, compile_pack
from policyengine.packs.model import Rule

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = json.loads((ROOT / "examples" / "2026-03-seed-22-minutes.json").read_text())
FORMS = ("none", "compact", "full")


def month(size: int) -> dict:
    facts = copy.deepcopy(TEMPLATE)
    call = TEMPLATE["interactions"][0]
    facts["interactions"] = [dict(call, id=f"IX-{i}", date=f"2026-03-{i % 28 + 1:02d}", duration_seconds=30)
                             for i in range(size)]
    return facts


def _copy_of(rule: Rule, number: int, codes: dict[str, str]) -> dict:
    """The rule, billing its copy's code: the same conditions, reasons and opportunity."""
    code = codes[rule.code]
    copied: dict = {"id": f"{rule.id}.copy{number}", "code": code,
                    "blocked": [{"when": f'"{code}" in other_codes', "reason": f"{code} is already billed"}],
                    "when": rule.when.text, "reason": {"met": rule.reason_met.source,
                                                       "not_met": rule.reason_not_met.source}}
    for part in ("units", "actual", "required"):
        if getattr(rule, part) is not None:
            copied[part] = getattr(rule, part).text
    if rule.requires:
        copied["requires"] = [codes[required] for required in rule.requires]
    if rule.opportunity is not None:
        o = rule.opportunity
        copied["opportunity"] = {"when": o.when.text, "missing": o.missing.text, "by": o.by.text, "needed": o.needed}
    return copied


def pack_with_rules(times: int, directory: Path) -> CompiledPack:
    """cms-rpm-2026, or an overlay of it with its rules `times` times over."""
    base = policyengine.load_pack("cms-rpm-2026")
    if times == 1:
        return base
    codes: dict = {}
    rules = []
    for number in range(1, times):
        copied = {code: f"Z{number}{k:03d}" for k, code in enumerate(sorted(base.codes))}
        for code, new in copied.items():
            described = base.codes[code]
            codes[new] = {"descriptor": f"copy {number} of {code}", "clock": described.clock, "rvu": described.rvu.text,
                          **({"max_units": described.max_units} if described.max_units is not None else {})}
        rules += [_copy_of(rule, number, copied) for rule in base.rules]
    pack = {"pack": {"id": f"rules-x{times}", "version": "1.0.0", "fee_schedule_year": 2026,
                     "effective": {"from": "2026-01-01", "to": "2026-12-31"}},
            "extends": "cms-rpm-2026", "codes": codes, "rules": rules}
    (directory / "pack.yaml").write_text(yaml.safe_dump(pack, sort_keys=False))
    compiled = compile_pack(directory)
    assert len(compiled.rules) == times * len(base.rules), (len(compiled.rules), len(base.rules))
    return compiled


def measure(facts: dict, pack: CompiledPack, trace: str) -> tuple[float, int]:
    """Seconds (the best of three below 10,000 interactions) and bytes of the JSON."""
    best = float("inf")
    for _ in range(3 if len(facts["interactions"]) < 10_000 else 1):
        gc.collect()
        started = time.perf_counter()
        text = policyengine.to_json(policyengine.evaluate(facts, pack, trace=trace), pretty=False)
        best = min(best, time.perf_counter() - started)
    return best, len(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[0, 100, 1000, 10000])
    parser.add_argument("--rules", type=int, nargs="+", default=[1, 10], help="the 2026 rules this many times over")
    parser.add_argument("--big", type=int, default=0, help="one more size, full trace only (e.g. 100000)")
    args = parser.parse_args()
    print(f"{'rules':>6} {'interactions':>12}  {'trace':<8} {'seconds':>9} {'s per 1,000':>12} {'JSON':>12} {'x none':>7}")
    for times in args.rules:
        with tempfile.TemporaryDirectory() as folder:
            pack = pack_with_rules(times, Path(folder))
            for trace in FORMS:  # warm up the compiled pack and its programs
                measure(month(10), pack, trace)
            runs = [(size, trace) for size in args.sizes for trace in FORMS]
            runs += [(args.big, "full")] if args.big else []
            untraced: dict[int, float] = {}
            for size, trace in runs:
                seconds, length = measure(month(size), pack, trace)
                if trace == "none":
                    untraced[size] = seconds
                per = f"{1000 * seconds / size:.3f}" if size else "-"
                ratio = f"{seconds / untraced[size]:.1f}" if size in untraced else "-"
                print(f"{len(pack.rules):>6} {size:>12,}  {trace:<8} {seconds:>9.3f} {per:>12} {length / 1e6:>10.1f} MB "
                      f"{ratio:>7}", flush=True)


if __name__ == "__main__":
    main()
