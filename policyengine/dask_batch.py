"""The batch on Dask, for inputs that outgrow one machine (optional: `pip install rpm-policyengine[dask]`).

A thin adapter over `policyengine.batch`: the input is split into byte blocks on line ends
(`dask.bytes.read_bytes`, so any fsspec path works: a local file, s3://..., gcs://...), a
bag of lines per block is decided by `decide_chunk` with an `Evaluator` cached once per
worker process, and the driver writes the blocks' output in input order. The output is the
same, byte for byte, as `policyengine batch` on the same input: one line per input line,
decisions and error records, the same CSV rows and summary.

Scheduling is Dask's: the default threaded scheduler, or whatever `distributed.Client` is
active (a LocalCluster, or a real cluster). Nothing here manages workers.
"""
from __future__ import annotations

import csv
import threading
from pathlib import Path
from typing import IO, Any

try:
    import dask
    import dask.bag as db
    from dask.bytes import read_bytes
except ImportError as error:  # pragma: no cover - exercised only without the extra
    raise ImportError("policyengine.dask_batch needs Dask: pip install 'rpm-policyengine[dask]'") from error

from .batch import CSV_COLUMNS, BatchSummary, ChunkResult, Evaluator, check_arguments, decide_chunk

_evaluators: dict[tuple, Evaluator] = {}
_lock = threading.Lock()


def _evaluator(pack_ref: str | None, options: tuple, trace: str) -> Evaluator:
    """The Evaluator for these settings in this worker process, built (pack loaded) once."""
    key = (pack_ref, options, trace)
    evaluator = _evaluators.get(key)
    if evaluator is None:
        with _lock:
            evaluator = _evaluators.get(key)
            if evaluator is None:
                evaluator = _evaluators[key] = Evaluator(pack_ref, dict(options), trace)
    return evaluator


def _lines(block: bytes) -> list[bytes]:
    """The lines of a block that ends at a line end (or at the end of the input)."""
    lines = block.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return lines


def _count(lines: list[bytes]) -> list[int]:
    return [len(lines)]


def _decide(lines: list[bytes], firsts: list[int], pack_ref: str | None, options: tuple, trace: str,
            with_csv: bool) -> list[ChunkResult]:
    return [decide_chunk(_evaluator(pack_ref, options, trace), firsts[0], list(lines), with_csv)]


def run_dask_batch(in_path: str | Path, out: IO[str], csv_out: IO[str] | None = None, *,
                   pack: str | Path | None = None, options: dict[str, Any] | None = None, trace: str = "compact",
                   blocksize: int | str = "16MiB", window: int = 4, scheduler: Any = None) -> BatchSummary:
    """Decide every line of `in_path` on Dask and write one output line per input line to
    `out`, in order (and the billable lines to `csv_out`). At most `window` blocks' results
    are held by the driver at a time. `scheduler` goes to `dask.compute` (None: the active
    distributed Client if there is one, else Dask's default for bags, processes)."""
    check_arguments(pack, options, trace)
    pack_ref = str(pack) if pack is not None else None
    option_key = tuple(sorted((options or {}).items()))
    _, blocks = read_bytes(str(in_path), delimiter=b"\n", blocksize=blocksize, sample=False)
    lines = db.from_delayed([dask.delayed(_lines)(block) for block in blocks[0]])
    counts = lines.map_partitions(_count).compute(scheduler=scheduler)
    firsts, first = [], 1
    for count in counts:
        firsts.append(first)
        first += count
    first_lines = db.from_sequence(firsts, npartitions=max(1, len(firsts)))
    results = db.map_partitions(_decide, lines, first_lines, pack_ref, option_key, trace, csv_out is not None)

    summary = BatchSummary(workers=0)
    if csv_out is not None:
        csv.writer(csv_out, lineterminator="\n").writerow(CSV_COLUMNS)
    parts = results.to_delayed()
    for start in range(0, len(parts), window):
        for part in dask.compute(*parts[start:start + window], scheduler=scheduler):
            for chunk in part:
                out.write(chunk.output)
                if csv_out is not None:
                    csv_out.write(chunk.csv)
                summary.add(chunk)
    out.flush()
    return summary


__all__ = ["run_dask_batch"]
