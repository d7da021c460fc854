"""Many patient-months at once: JSON Lines in, one output line per input line, in order.

`run_batch` streams: it reads the input lazily, hands it out in chunks of `CHUNK_LINES`
lines, keeps at most a few chunks in flight, and writes each chunk's output as soon as it
is its turn, so memory stays flat whatever the input size. Every input line yields one
output line (contract v1, sections 1 and 3): the decision as compact JSON, or an error
record `{"line": N, "error": {"code", "message", "where"}}` naming the 1-based line and
the first problem (all of them under "errors" when there are several). A blank line, a
line that is not JSON, not UTF-8 or not valid facts (`policyengine.facts.parse_facts_line`),
a line longer than `MAX_FACTS_BYTES` (only its start is read), a month no pack covers:
each is an error record, never a traceback, and never a lost line.

With `workers > 1` the chunks go to a pool of worker processes; each worker loads the
pack once, in the pool's initializer. From a regular file, each worker reads its chunk of
lines itself and spills its output to a file this process copies in order (`ranges.py`);
from a pipe, this process reads the lines and hands them out (`reading.py`). A worker that
dies (killed, out of memory) stops the batch with WorkerLost instead of leaving it waiting.
With one worker, this process decides.

The optional CSV holds one row per billable line, for billing export; the summary counts
records, errors (by code), and billable units and dollars per code (Decimal, never float).
`run_batch_files` writes files the way `files.py` describes: paths checked
first, outputs renamed into place when complete, checkpoints to resume from.
"""
from __future__ import annotations

from .records import CSV_COLUMNS, ChunkResult, Evaluator, decide_chunk, error_line
from .reading import read_chunks
from .run import WorkerLost, check_arguments, input_size, run_batch, run_batch_files
from .summary import BatchSummary

__all__ = ["BatchSummary", "CSV_COLUMNS", "ChunkResult", "Evaluator", "WorkerLost", "check_arguments", "decide_chunk",
           "error_line", "input_size", "read_chunks", "run_batch", "run_batch_files"]
