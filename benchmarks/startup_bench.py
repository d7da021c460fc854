"""The cost of starting the command: `policyengine evaluate` of one example month against
`python -c pass`, in CPU seconds (user + system of the child), taking turns in one run.

    python benchmarks/startup_bench.py              # 10 rounds
    python benchmarks/startup_bench.py --rounds 20

Each row: the median CPU of the command over the rounds and its ratio to `python -c pass`
measured in the same rounds. The middle rows show where it goes (importing the command;
importing and loading the month's pack, kept from an earlier run by the compiled-pack
cache); the last row is `evaluate` with that cache turned off, as a first run pays. The
target (issue 30): evaluate at most 10× `python -c pass`.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "2026-03-seed-22-minutes.json"
EVALUATE = [sys.executable, "-c", "from policyengine.cli import main; main()", "evaluate", str(EXAMPLE), "--trace", "none"]
COMMANDS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "import policyengine.cli": [sys.executable, "-c", "import policyengine.cli"],
    "load_pack cms-rpm-2026": [sys.executable, "-c", "from policyengine.packs import load_pack; load_pack('cms-rpm-2026')"],
    "policyengine evaluate (one month)": EVALUATE,
    "evaluate, pack cache off": EVALUATE,
}
#: the rows run with the compiled-pack cache turned off (packs/cache.py): what a first run costs
CACHE_OFF = {"evaluate, pack cache off"}


def cpu_seconds(command: list[str], cache: bool = True) -> float:
    """User + system CPU of one run of `command` (its children included)."""
    env = {**os.environ, "POLICYENGINE_PACK_CACHE": "on" if cache else "off"}
    before = os.times()
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, env=env)
    after = os.times()
    return (after.children_user - before.children_user) + (after.children_system - before.children_system)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    for command in COMMANDS.values():  # warm the file cache, the grammar cache and the pack cache
        cpu_seconds(command)
    samples: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(args.rounds):
        for name, command in COMMANDS.items():
            samples[name].append(cpu_seconds(command, cache=name not in CACHE_OFF))
    base = statistics.median(samples["python -c pass"])
    print("| command | CPU ms (median) | × python -c pass |")
    print("|---|---:|---:|")
    for name, values in samples.items():
        median = statistics.median(values)
        print(f"| {name} | {median * 1000:.0f} | {median / base:.1f} |")


if __name__ == "__main__":
    main()
