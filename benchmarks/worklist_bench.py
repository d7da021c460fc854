"""The daily worklist at practice scale: N patient-months through `policyengine worklist`
on W workers, wall time and peak memory (issue 29: 100,000 on 2 workers under 60 s,
memory flat).

    python benchmarks/worklist_bench.py                      # 100,000 months, 2 workers
    python benchmarks/worklist_bench.py --months 10000 50000 100000 --workers 2

Each size is a fresh file of generated March 2026 months, varied the way a practice is:
reading days from 0 to 30, interactive minutes from 0 to 70, one call in six without its
performer, one month in forty without documented consent, a line in a thousand invalid,
twelve practitioners. Each row: the months, the seconds of the command, months per second,
the peak resident memory of the command's largest process (its own, or a worker's), and
for comparison `batch` over the same file (deciding alone, trace none: without `as_of`, a
batch's months are complete and no what-if is asked).
"""
from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

POLICYENGINE = [sys.executable, "-c", "from policyengine.cli import main; main()"]


def generate(path: Path, months: int, seed: int = 20260320) -> None:
    rng = random.Random(seed)
    with path.open("w") as out:
        for n in range(months):
            if n % 1000 == 999:
                out.write('{"patient_id": "PT-BAD", "month": "2026-03", "transmission_days": "none"}\n')
                continue
            calls = []
            minutes = rng.randint(0, 70)
            while minutes > 0:
                length = min(minutes, rng.randint(3, 25))
                call = {"id": f"IX-{n}-{len(calls)}", "date": f"2026-03-{rng.randint(1, 19):02d}",
                        "duration_seconds": length * 60, "modality": "phone", "two_way": True, "program": "rpm",
                        "clinical_topics": ["symptoms"], "summary": "reviewed readings"}
                if rng.randrange(6):
                    call["performer"] = {"id": "RN-1", "role": "clinical_staff"}
                calls.append(call)
                minutes -= length
            days = rng.randint(0, 19)
            facts = {"patient_id": f"PT-{n:06d}", "month": "2026-03",
                     "billing_practitioner": {"id": f"DR-{n % 12:02d}", "npi": "1234567890", "qualifying_apm_participant": False},
                     "established_patient": True,
                     "device": {"type": "blood_pressure_monitor", "meets_fda_definition": True, "data_types": ["blood_pressure"]},
                     "monitoring_period": {"start": "2026-03-01", "end": "2026-03-30"},
                     "episode": {"start": "2026-01-05", "setup_billed": True},
                     "transmission_days": [f"2026-03-{d:02d}" for d in sorted(rng.sample(range(1, 20), days))],
                     "interactions": calls}
            if rng.randrange(40):
                facts["consent"] = {"obtained": True, "date": "2026-01-04", "method": "verbal", "recorded_by": "RN Diaz"}
            out.write(json.dumps(facts) + "\n")


#: runs a command and prints the peak resident memory (KB) of the largest of its processes
_PEAK = ("import resource, subprocess, sys; done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL); "
         "print(done.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")


def timed(command: list[str]) -> tuple[float, float]:
    """Seconds of wall time, and the peak resident memory (MB) of the largest process the
    command ran (itself or a worker), measured in a process of its own for each command."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", _PEAK, *command], capture_output=True, text=True)
    seconds = time.perf_counter() - started
    status, peak = done.stdout.split()
    if int(status) not in (0, 1):
        raise SystemExit(f"{' '.join(command[3:])} failed: {done.stderr}")
    return seconds, int(peak) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--months", type=int, nargs="+", default=[100_000])
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    print("| months | command | seconds | months/s | peak RSS (MB) |")
    print("|---:|---|---:|---:|---:|")
    with tempfile.TemporaryDirectory(prefix="worklist-bench-") as folder:
        for months in args.months:
            source = Path(folder) / f"march-{months}.jsonl"
            generate(source, months)
            runs = {"worklist": [*POLICYENGINE, "worklist", str(source), "--as-of", "2026-03-20", "--format", "json",
                                 "--out", str(Path(folder) / "worklist.json"), "--workers", str(args.workers)],
                    "batch (deciding only)": [*POLICYENGINE, "batch", str(source), "--out", str(Path(folder) / "out.jsonl"),
                                              "--trace", "none", "--workers", str(args.workers)]}
            for name, command in runs.items():
                seconds, peak = timed(command)
                print(f"| {months:,} | {name} | {seconds:.1f} | {months / seconds:,.0f} | {peak:.0f} |", flush=True)


if __name__ == "__main__":
    main()
