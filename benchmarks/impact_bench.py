"""The impact of next year's pack over a year of generated patient-months: wall time and
peak memory of `policyengine impact OLD NEW facts.jsonl`, as a compliance team would run it.

    python benchmarks/impact_bench.py                        # 100,000 months of 2025, cms-rpm-2025 -> cms-rpm-2026, 2 workers
    python benchmarks/impact_bench.py --n 1000000 --workers 2 --old cms-rpm-2024 --year 2024 --new cms-rpm-2025

The months come from `generate.py` (seeded, so a run is reproducible; 1% of lines broken
on purpose, which the report counts as errors). The report goes to stdout, the time and
the peak resident memory (of the command and its workers, from /usr/bin/time when there
is one) to stderr.
"""
from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import write_file  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000, help="patient-months (default 100,000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--year", type=int, default=2025, help="the months' year (default 2025)")
    parser.add_argument("--old", default="cms-rpm-2025")
    parser.add_argument("--new", default="cms-rpm-2026")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--format", default="text", choices=("text", "markdown", "json"))
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        facts = Path(folder) / "months.jsonl"
        write_file(str(facts), args.n, args.seed, malformed=0.01, years={args.year: 1.0})
        command = [sys.executable, "-c", "from policyengine.cli import main; main()", "impact", args.old, args.new, str(facts),
                   "--workers", str(args.workers), "--format", args.format, "--csv", str(Path(folder) / "changes.csv")]
        timed = ["/usr/bin/time", "-v", *command] if shutil.which("/usr/bin/time") else command
        started = time.perf_counter()
        done = subprocess.run(timed, capture_output=True, text=True)
        seconds = time.perf_counter() - started
        changed_rows = sum(1 for _ in (Path(folder) / "changes.csv").open()) - 1 if done.returncode == 0 else 0
    sys.stdout.write(done.stdout)
    peak = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    print(f"{args.n:,} patient-months of {args.year}, {args.old} -> {args.new}, {args.workers} workers: "
          f"{seconds:.1f} s wall ({args.n / seconds:,.0f} months/s), exit {done.returncode}, {changed_rows:,} CSV rows"
          + (f", peak RSS {int(peak.group(1)) / 1024:.0f} MiB (largest process)" if peak else ""), file=sys.stderr)
    if done.returncode != 0:
        sys.stderr.write(done.stderr)


if __name__ == "__main__":
    main()
