"""Benchmark: validating a pack of many definitions (an overlay of cms-rpm-2026).

    python benchmarks/pack_scaling.py [--sizes 1000 5000 20000]

Each size is a chain of definitions, each reading the one before it. Prints the seconds to
load, check and compile the pack (what `policyengine validate` does) and per 1,000
definitions, which stays flat when the cost grows linearly, and the peak memory so far.
"""
from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

from policyengine.packs import compile_pack

HEADER = ("pack: {id: big, version: 1.0.0, fee_schedule_year: 2026, effective: {from: 2026-01-01, to: 2026-12-31}}\n"
          "extends: cms-rpm-2026\ndefinitions:\n  d0: count(interactions)\n")


def pack_of(size: int, directory: Path) -> Path:
    (directory / "pack.yaml").write_text(HEADER + "".join(f"  d{i}: d{i - 1} + 1\n" for i in range(1, size)))
    return directory


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000, 20000])
    args = parser.parse_args()
    compile_pack("cms-rpm-2026")  # the bundled chain, read once
    print(f"{'definitions':>12} {'seconds':>9} {'s per 1,000':>12} {'peak MB':>9}")
    for size in args.sizes:
        with tempfile.TemporaryDirectory() as folder:
            started = time.perf_counter()
            compile_pack(pack_of(size, Path(folder)))
            seconds = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"{size:>12,} {seconds:>9.2f} {1000 * seconds / size:>12.3f} {peak:>9.0f}", flush=True)


if __name__ == "__main__":
    main()
