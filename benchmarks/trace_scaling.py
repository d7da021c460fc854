"""Benchmark: one patient-month with many interactions, in each trace form.

    python benchmarks/trace_scaling.py [--sizes 0 100 1000 10000] [--big 100000]

Each interaction is documented, interactive and counted (the costliest kind to trace: it
passes every filter). Prints, per size and trace form, the seconds to decide and write the
decision as JSON, the seconds per 1,000 interactions (flat when the cost is linear), and
the size of the JSON. Facts are given as data (the Python API), since a document of this
many interactions is far beyond the 1 MiB a facts file may be.
"""
from __future__ import annotations

import argparse
import copy
import gc
import json
import time
from pathlib import Path

import policyengine

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = json.loads((ROOT / "examples" / "2026-03-seed-22-minutes.json").read_text())


def month(size: int) -> dict:
    facts = copy.deepcopy(TEMPLATE)
    call = TEMPLATE["interactions"][0]
    facts["interactions"] = [dict(call, id=f"IX-{i}", date=f"2026-03-{i % 28 + 1:02d}", duration_seconds=30)
                             for i in range(size)]
    return facts


def measure(facts: dict, pack: policyengine.packs.CompiledPack, trace: str) -> tuple[float, int]:
    gc.collect()
    started = time.perf_counter()
    text = policyengine.to_json(policyengine.evaluate(facts, pack, trace=trace), pretty=False)
    return time.perf_counter() - started, len(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[0, 100, 1000, 10000])
    parser.add_argument("--big", type=int, default=0, help="one more size, full trace only (e.g. 100000)")
    args = parser.parse_args()
    pack = policyengine.load_pack("cms-rpm-2026")
    measure(month(10), pack, "full")  # warm up the compiled pack
    print(f"{'interactions':>12}  {'trace':<8} {'seconds':>9} {'s per 1,000':>12} {'JSON':>12}")
    runs = [(size, trace) for size in args.sizes for trace in ("none", "compact", "full")]
    runs += [(args.big, "full")] if args.big else []
    for size, trace in runs:
        seconds, length = measure(month(size), pack, trace)
        per = f"{1000 * seconds / size:.3f}" if size else "-"
        print(f"{size:>12,}  {trace:<8} {seconds:>9.3f} {per:>12} {length / 1e6:>10.1f} MB", flush=True)


if __name__ == "__main__":
    main()
