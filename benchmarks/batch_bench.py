"""Batch throughput and memory, as ratios against a hand-written baseline (issue 6, point 3).

    python benchmarks/batch_bench.py                    # 100,000 records, every mode, flat-memory check
    python benchmarks/batch_bench.py --n 20000          # quicker
    python benchmarks/batch_bench.py --million          # 1,000,000 records end to end, 2 workers, once
    python benchmarks/batch_bench.py --million --trace full   # the same with full traces (about 39 GB written)

Not a timed test: a script that prints a table. Each mode runs in a fresh process so its peak
resident set (ru_maxrss of the largest process, worker processes included) is its own:

- baseline: `benchmarks/baseline.py`, the 2026 billing logic by hand (billable lines and
  total only), JSON in and JSON out like the others; its lines are checked against the
  engine's on every record;
- engine, trace none / compact / full: `policyengine.evaluate` per record, the decision
  serialized to one JSON line (parse, check, decide, serialize; no file writing);
- batch end to end, 1 and 2 workers: the `policyengine batch` command on the file, writing
  the output and the CSV.

Records: `benchmarks/generate.py`, seed 1, 2026 months, 1% malformed (error records are
part of a real batch). Rates are patient-months (input lines) per second, wall clock.
The machine is shared: the load average before and after is printed with the table.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate import write_file  # noqa: E402

MODES = ("baseline", "none", "compact", "full")
YEARS = {2026: 1.0}
MALFORMED = 0.01


# --- in one process: one mode over the file ---------------------------------------------------


def run_mode(mode: str, path: str) -> dict:
    """Time one in-process mode over every line of `path`."""
    import policyengine
    from policyengine import DiagnosticError

    dumps = json.dumps
    loads = json.loads
    if mode == "baseline":
        import baseline
        from policyengine.facts import check_facts

        decide = baseline.decide

        def one(line: bytes) -> str:
            facts = loads(line, parse_float=Decimal)
            return dumps(decide(facts), separators=(",", ":"))

        # not timed: every record's billable lines agree with the engine's
        mismatches = checked = 0
        with open(path, "rb") as source:
            for line in source:
                try:
                    facts = loads(line, parse_float=Decimal)
                    check_facts(facts)
                except (ValueError, DiagnosticError):
                    continue
                ours = decide(facts)
                theirs = policyengine.evaluate(facts, trace="none")
                checked += 1
                if ([(b["code"], b["units"], b["amount"]) for b in ours["billable"]]
                        != [(b["code"], b["units"], b["amount"]) for b in theirs["billable"]]
                        or ours["total"] != theirs["total"]):
                    mismatches += 1
        if mismatches:
            raise SystemExit(f"baseline disagrees with the engine on {mismatches} of {checked} records")
    else:
        evaluate = policyengine.evaluate
        policyengine.load_pack("cms-rpm-2026")

        def one(line: bytes) -> str:
            facts = loads(line, parse_float=Decimal)
            return dumps(evaluate(facts, trace=mode), ensure_ascii=False, separators=(",", ":"))

    records = errors = out_bytes = 0
    started = time.perf_counter()
    with open(path, "rb") as source:
        for line in source:
            records += 1
            try:
                out_bytes += len(one(line))
            except (ValueError, KeyError, TypeError, DiagnosticError):
                errors += 1
    seconds = time.perf_counter() - started
    import resource
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"mode": mode, "records": records, "errors": errors, "seconds": seconds, "rate": records / seconds,
            "peak_mb": peak, "bytes_per_record": out_bytes / max(1, records - errors)}


# --- from outside: a command, its wall time and the peak RSS of its largest process ------------


_MEASURE = """
import json, resource, subprocess, sys, time
started = time.perf_counter()
status = subprocess.call(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
seconds = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(json.dumps({"status": status, "seconds": seconds, "peak_mb": peak}))
"""


def measure(command: list[str]) -> dict:
    """Wall time, exit status and ru_maxrss (MB) of the largest process `command` ran (it,
    or any worker it waited for), measured by a fresh process that only waits for it."""
    output = subprocess.run([sys.executable, "-c", _MEASURE, *command], capture_output=True, text=True, check=True)
    return json.loads(output.stdout)


def mode_in_subprocess(mode: str, path: str) -> dict:
    output = subprocess.run([sys.executable, __file__, "--run-mode", mode, "--input", path],
                            capture_output=True, text=True)
    if output.returncode != 0:
        raise SystemExit(f"mode {mode} failed:\n{output.stderr}")
    return json.loads(output.stdout)


def batch_command(path: str, workers: int, out_dir: str, trace: str = "compact") -> list[str]:
    return [sys.executable, "-c", "from policyengine.cli import main; main()", "batch", path,
            "--out", os.path.join(out_dir, f"out-{workers}.jsonl"), "--csv", os.path.join(out_dir, f"billable-{workers}.csv"),
            "--workers", str(workers), "--trace", trace]


def end_to_end(path: str, workers: int, out_dir: str, records: int, trace: str = "compact") -> dict:
    result = measure(batch_command(path, workers, out_dir, trace))
    if result["status"] not in (0, 1):
        raise SystemExit(f"batch with {workers} workers failed with status {result['status']}")
    lines = sum(1 for _ in open(os.path.join(out_dir, f"out-{workers}.jsonl"), "rb"))
    if lines != records:
        raise SystemExit(f"batch with {workers} workers wrote {lines} lines for {records} records")
    return {"mode": f"batch, {workers} worker{'s' if workers > 1 else ''}", "records": records,
            "seconds": result["seconds"], "rate": records / result["seconds"], "peak_mb": result["peak_mb"]}


def _row(name: str, result: dict, base_rate: float) -> str:
    return (f"| {name} | {result['rate']:,.0f} | {base_rate / result['rate']:.1f}x | {result['peak_mb']:.0f} |")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=10_000, help="record count for the flat-memory comparison")
    parser.add_argument("--million", action="store_true", help="only: 1,000,000 records end to end, 2 workers")
    parser.add_argument("--speedup", type=int, default=0, metavar="ROUNDS",
                        help="only: the batch with 1 and 2 workers, alternately, ROUNDS times each (the machine is shared: "
                             "alternating spreads other load over both)")
    parser.add_argument("--trace", default="compact", choices=("none", "compact", "full"),
                        help="the trace form of --million and --speedup (default compact)")
    parser.add_argument("--workdir", default=None, help="where the generated files go (default: a temp dir)")
    parser.add_argument("--run-mode", choices=MODES, help=argparse.SUPPRESS)
    parser.add_argument("--input", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.run_mode:
        print(json.dumps(run_mode(args.run_mode, args.input)))
        return

    workdir = args.workdir or tempfile.mkdtemp(prefix="policyengine-bench-")
    os.makedirs(workdir, exist_ok=True)
    print(f"load average before: {os.getloadavg()[0]:.2f} ({os.cpu_count()} cores); files in {workdir}", flush=True)

    if args.million:
        n = 1_000_000
        path = os.path.join(workdir, f"months-{n}.jsonl")
        if not os.path.exists(path):
            write_file(path, n, seed=1, malformed=MALFORMED, years=YEARS)
        for workers in (2,):
            result = end_to_end(path, workers, workdir, n, args.trace)
            os.remove(os.path.join(workdir, f"out-{workers}.jsonl"))
            print(f"{n:,} patient-months, {args.trace} trace, {workers} workers: {result['seconds']:.1f} s wall "
                  f"({result['rate']:,.0f}/s), largest process {result['peak_mb']:.0f} MB", flush=True)
        print(f"load average after: {os.getloadavg()[0]:.2f}")
        return

    if args.speedup:
        path = os.path.join(workdir, f"months-{args.n}.jsonl")
        if not os.path.exists(path):
            write_file(path, args.n, seed=1, malformed=MALFORMED, years=YEARS)
        rates: dict[int, list[float]] = {1: [], 2: []}
        for _ in range(args.speedup):
            for workers in (1, 2):
                result = end_to_end(path, workers, workdir, args.n, args.trace)
                rates[workers].append(result["rate"])
                print(f"  batch {workers}: {result['rate']:,.0f}/s, {result['peak_mb']:.0f} MB, "
                      f"load {os.getloadavg()[0]:.2f}", flush=True)
        best = {w: max(r) for w, r in rates.items()}
        print(f"2 workers vs 1 (best of {args.speedup} each): {best[2]:,.0f} / {best[1]:,.0f} = {best[2] / best[1]:.2f}x")
        return

    path = os.path.join(workdir, f"months-{args.n}.jsonl")
    small = os.path.join(workdir, f"months-{args.small}.jsonl")
    for p, n in ((path, args.n), (small, args.small)):
        if not os.path.exists(p):
            write_file(p, n, seed=1, malformed=MALFORMED, years=YEARS)

    results = {}
    for mode in MODES:
        results[mode] = mode_in_subprocess(mode, path)
        print(f"  {mode}: {results[mode]['rate']:,.0f}/s, {results[mode]['peak_mb']:.0f} MB", flush=True)
    for workers in (1, 2):
        results[f"batch{workers}"] = end_to_end(path, workers, workdir, args.n)
        r = results[f"batch{workers}"]
        print(f"  batch {workers}: {r['rate']:,.0f}/s, {r['peak_mb']:.0f} MB", flush=True)
    flat = {workers: end_to_end(small, workers, workdir, args.small) for workers in (1, 2)}

    base = results["baseline"]["rate"]
    print()
    print(f"{args.n:,} patient-months (2026, {MALFORMED:.0%} malformed), rates in patient-months/s, "
          f"ratio = x slower than the hand-written baseline")
    print()
    print("| mode | records/s | ratio | peak MB (largest process) |")
    print("|---|---:|---:|---:|")
    print(_row("hand-written Python baseline (billable lines only)", results["baseline"], base))
    print(_row("engine, decision without trace, to JSON", results["none"], base))
    print(_row("engine, decision with compact trace, to JSON", results["compact"], base))
    print(_row("engine, decision with full trace, to JSON", results["full"], base))
    print(_row("`policyengine batch`, 1 worker (compact, CSV)", results["batch1"], base))
    print(_row("`policyengine batch`, 2 workers (compact, CSV)", results["batch2"], base))
    print()
    print(f"2 workers vs 1: {results['batch2']['rate'] / results['batch1']['rate']:.2f}x")
    print(f"compact trace vs none: {results['none']['rate'] / results['compact']['rate']:.2f}x slower; "
          f"full vs none: {results['none']['rate'] / results['full']['rate']:.2f}x slower")
    print(f"output per decision: none {results['none']['bytes_per_record']:,.0f} B, compact "
          f"{results['compact']['bytes_per_record']:,.0f} B, full {results['full']['bytes_per_record']:,.0f} B")
    for workers in (1, 2):
        print(f"flat memory, batch {workers} worker(s): {args.small:,} records {flat[workers]['peak_mb']:.0f} MB, "
              f"{args.n:,} records {results[f'batch{workers}']['peak_mb']:.0f} MB")
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    print(json.dumps({"n": args.n, "results": results, "flat": {str(k): v for k, v in flat.items()}}))


if __name__ == "__main__":
    main()
