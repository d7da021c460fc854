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
pack once, in the pool's initializer. A worker that dies (killed, out of memory) stops the
batch with WorkerLost instead of leaving it waiting. With one worker, this process decides.

The optional CSV holds one row per billable line, for billing export; the summary counts
records, errors (by code), and billable units and dollars per code (Decimal, never float).
`run_batch_files` writes files the way `policyengine.batchfiles` describes: paths checked
first, outputs renamed into place when complete, checkpoints to resume from.
"""
from __future__ import annotations

import csv
import io
import json
import multiprocessing
import os
import signal
import itertools
import sys
import time
from collections import Counter, deque
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, Callable, Iterator

from .version import __version__
from .api import evaluate
from .batchfiles import CHECKPOINT_SECONDS, BatchFiles, check_paths
from .diagnostics import Diagnostic, DiagnosticError
from .engine.decide import TRACE_FORMS
from .engine.options import resolve_options
from .engine.values import compact_json
from .facts import parse_facts_line
from .jsondata import is_text
from .limits import MAX_FACTS_BYTES
from .packs import CompiledPack, bundled_ids, load_pack

#: Input lines handed to a worker at a time.
CHUNK_LINES = 256
#: Chunks in flight per worker (read ahead of the writer): bounds memory.
CHUNKS_PER_WORKER = 4

CSV_COLUMNS = ("line", "patient_id", "month", "code", "units", "amount", "rule", "pack_id", "pack_version")

_ZERO = Decimal("0")


# --- one line ---------------------------------------------------------------------------------


class Evaluator:
    """Decides input lines with one pack (or the bundled pack for each month), options and
    trace form. Building one loads the pack(s), so do it once per process."""

    def __init__(self, pack: CompiledPack | str | Path | None = None, options: dict[str, Any] | None = None,
                 trace: str = "compact") -> None:
        if trace not in TRACE_FORMS:
            raise ValueError(f"trace must be one of {', '.join(TRACE_FORMS)}, not {trace!r}")
        if pack is not None and not isinstance(pack, CompiledPack):
            pack = load_pack(pack)
        elif pack is None:
            for pack_id in bundled_ids():  # compiled now, once, rather than on the first record
                load_pack(pack_id)
        self.pack: CompiledPack | None = pack
        self.options = dict(options or {})
        self.trace = trace

    def decide(self, number: int, raw: bytes | str) -> tuple[str, dict | None, str | None]:
        """For input line `number`: the output line (without newline), the decision (None
        for an error record) and the error code (None for a decision). Whatever the line
        holds, this returns: a fault is an error record, never a lost line or a stopped batch."""
        data = None
        try:
            data = parse_facts_line(raw)
            decision = evaluate(data, self.pack, self.options, self.trace)
            return compact_json(decision), decision, None
        except DiagnosticError as error:
            return self._error(number, error.diagnostics, data)
        except Exception as error:  # an engine fault must not lose the line or stop the batch
            return self._error(number, [Diagnostic("engine.internal_error", f"{type(error).__name__}: {error}")], data)

    @staticmethod
    def _error(number: int, diagnostics: list[Diagnostic], data: Any = None) -> tuple[str, None, str]:
        line = error_line(number, diagnostics, data)
        errors = [d for d in diagnostics if d.severity == "error"] or diagnostics
        return line, None, errors[0].code


def error_line(number: int, diagnostics: list[Diagnostic], data: Any = None) -> str:
    """The error record for input line `number`, as one JSON line."""
    errors = [d for d in diagnostics if d.severity == "error"] or list(diagnostics)
    record: dict[str, Any] = {"line": number}
    if isinstance(data, dict):
        for key in ("patient_id", "month"):
            if isinstance(data.get(key), str) and is_text(data[key]):  # UTF-8 can write it
                record[key] = data[key]
    record["error"] = _error_dict(errors[0])
    if len(errors) > 1:
        record["errors"] = [_error_dict(d) for d in errors]
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


def _error_dict(diagnostic: Diagnostic) -> dict:
    out = {"code": diagnostic.code, "message": diagnostic.message}
    if diagnostic.location:
        out["where"] = diagnostic.location
    if diagnostic.hint:
        out["hint"] = diagnostic.hint
    return out


# --- one chunk --------------------------------------------------------------------------------


@dataclass
class ChunkResult:
    """What a chunk of lines produced: output text, CSV text and its share of the summary."""

    output: str
    csv: str
    records: int
    errors: int
    error_codes: Counter
    units: Counter
    dollars: dict[str, Decimal]
    first_errors: list[tuple[int, str]]


def decide_chunk(evaluator: Evaluator, first: int, lines: list[bytes], with_csv: bool) -> ChunkResult:
    """Decide `lines`, the first of which is input line `first` (1-based)."""
    out: list[str] = []
    rows = io.StringIO()
    writer = csv.writer(rows, lineterminator="\n") if with_csv else None
    errors = 0
    error_codes: Counter = Counter()
    units: Counter = Counter()
    dollars: dict[str, Decimal] = {}
    first_errors: list[tuple[int, str]] = []
    for number, raw in enumerate(lines, first):
        line, decision, error_code = evaluator.decide(number, raw)
        out.append(line)
        if decision is None:
            errors += 1
            error_codes[error_code] += 1
            if len(first_errors) < 5:
                first_errors.append((number, error_code))
            continue
        for item in decision["billable"]:
            code = item["code"]
            units[code] += item["units"]
            dollars[code] = dollars.get(code, _ZERO) + Decimal(item["amount"])
            if writer is not None:
                pack = decision["pack"]
                writer.writerow((number, decision["patient_id"], decision["month"], code, item["units"],
                                 item["amount"], item["rule"], pack["id"], pack["version"]))
    out.append("")
    return ChunkResult("\n".join(out), rows.getvalue(), len(lines), errors, error_codes, units, dollars, first_errors)


_worker: dict[str, Any] = {}


def _init_worker(pack_ref: str | None, options: dict[str, Any], trace: str, with_csv: bool) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the writer's to handle: no worker tracebacks
    _worker["evaluator"] = Evaluator(pack_ref, options, trace)
    _worker["with_csv"] = with_csv


def _worker_chunk(task: tuple[int, list[bytes]]) -> ChunkResult:
    first, lines = task
    return decide_chunk(_worker["evaluator"], first, lines, _worker["with_csv"])


# --- the batch --------------------------------------------------------------------------------


@dataclass
class BatchSummary:
    records: int = 0
    errors: int = 0
    error_codes: Counter = field(default_factory=Counter)
    units: Counter = field(default_factory=Counter)
    dollars: dict[str, Decimal] = field(default_factory=dict)
    first_errors: list[tuple[int, str]] = field(default_factory=list)
    seconds: float = 0.0
    workers: int = 1

    @property
    def decisions(self) -> int:
        return self.records - self.errors

    @property
    def total(self) -> Decimal:
        return sum(self.dollars.values(), _ZERO).quantize(Decimal("0.01"))

    @property
    def exit_status(self) -> int:
        """Contract v1 section 3: 1 when any record failed, 0 otherwise."""
        return 1 if self.errors else 0

    def add(self, chunk: ChunkResult) -> None:
        self.records += chunk.records
        self.errors += chunk.errors
        self.error_codes.update(chunk.error_codes)
        self.units.update(chunk.units)
        for code, amount in chunk.dollars.items():
            self.dollars[code] = self.dollars.get(code, _ZERO) + amount
        if len(self.first_errors) < 5:
            self.first_errors.extend(chunk.first_errors[: 5 - len(self.first_errors)])

    def state(self) -> dict:
        """Everything the summary has added up, as JSON data (a checkpoint keeps it)."""
        return {"records": self.records, "errors": self.errors, "error_codes": dict(self.error_codes),
                "units": dict(self.units), "dollars": {code: str(amount) for code, amount in self.dollars.items()},
                "first_errors": self.first_errors, "seconds": self.seconds}

    @classmethod
    def from_state(cls, state: dict) -> "BatchSummary":
        return cls(records=state["records"], errors=state["errors"], error_codes=Counter(state["error_codes"]),
                   units=Counter(state["units"]), dollars={code: Decimal(a) for code, a in state["dollars"].items()},
                   first_errors=[(number, code) for number, code in state["first_errors"]], seconds=state["seconds"])

    def to_dict(self) -> dict:
        return {
            "records": self.records, "decisions": self.decisions, "errors": self.errors,
            "error_codes": dict(sorted(self.error_codes.items())),
            "billable": {code: {"units": self.units[code], "amount": str(self.dollars[code])}
                         for code in sorted(self.units)},
            "total": str(self.total), "seconds": round(self.seconds, 3), "workers": self.workers,
        }

    def render(self) -> str:
        rate = self.records / self.seconds if self.seconds > 0 else 0.0
        lines = [f"{self.records:,} records: {self.decisions:,} decisions, {self.errors:,} errors "
                 f"in {self.seconds:.1f} s ({rate:,.0f} records/s, {self.workers} worker{'s' if self.workers != 1 else ''})"]
        for code, count in sorted(self.error_codes.items(), key=lambda item: (-item[1], item[0])):
            lines.append(f"  error {code}: {count:,}")
        if self.first_errors:
            lines.append("  first errors at lines " + ", ".join(f"{n} ({c})" for n, c in self.first_errors))
        if self.units:
            lines.append("billable:")
            width = max(len(f"{amount:,}") for amount in self.dollars.values())
            for code in sorted(self.units):
                lines.append(f"  {code}  {self.units[code]:>10,} units  ${self.dollars[code]:>{width},}")
        lines.append(f"total billable: ${self.total:,}")
        return "\n".join(lines)


def read_chunks(stream: IO[bytes], size: int = CHUNK_LINES, first: int = 1) -> Iterator[tuple[int, list[bytes], int]]:
    """(first line number, lines, bytes read) for consecutive chunks of a binary stream,
    lazily; the first line is number `first`."""
    chunk: list[bytes] = []
    read = 0
    for raw, length in _read_lines(stream):
        chunk.append(raw)
        read += length
        if len(chunk) == size:
            yield first, chunk, read
            first += size
            chunk, read = [], 0
    if chunk:
        yield first, chunk, read


#: What of a line is read: the longest facts line, its line end, and one byte to tell it is longer.
_LINE_READ = MAX_FACTS_BYTES + 3


def _read_lines(stream: IO[bytes]) -> Iterator[tuple[bytes, int]]:
    """Each line of a binary stream and its length. Of a line longer than a facts line may
    be, only the start is kept (enough for its error record) and the rest is skipped, so a
    line of gigabytes takes no more memory than one of a megabyte."""
    while line := stream.readline(_LINE_READ):
        length = len(line)
        if not line.endswith(b"\n"):  # cut short, or the last line
            while rest := stream.readline(_LINE_READ):
                length += len(rest)
                if rest.endswith(b"\n"):
                    break
        yield line, length


def check_arguments(pack: str | Path | None, options: dict[str, Any] | None, trace: str) -> CompiledPack | None:
    """Fail before any record is read: the pack loads, and the options fit it (or, with no
    pack named, at least one bundled pack). Raises DiagnosticError or ValueError."""
    if trace not in TRACE_FORMS:
        raise ValueError(f"trace must be one of {', '.join(TRACE_FORMS)}, not {trace!r}")
    if pack is not None:
        compiled = pack if isinstance(pack, CompiledPack) else load_pack(pack)
        resolve_options(compiled, options)
        return compiled
    failure: DiagnosticError | None = None
    for pack_id in bundled_ids():
        try:
            resolve_options(load_pack(pack_id), options)
            return None
        except DiagnosticError as error:
            failure = error
    if failure is not None:
        raise failure
    return None


def run_batch(source: IO[bytes], out: IO[str], csv_out: IO[str] | None = None, *, workers: int = 1,
              pack: str | Path | None = None, options: dict[str, Any] | None = None, trace: str = "compact",
              progress: Callable[[int], None] | None = None, chunk_lines: int = CHUNK_LINES,
              start_method: str | None = None, first_line: int = 1,
              summary: BatchSummary | None = None) -> BatchSummary:
    """Decide every line of `source` (binary JSON Lines) and write one line per input line
    to `out`, in input order; billable lines go to `csv_out` (with a header row) when given.

    `progress` is called with the number of input bytes handled after each chunk, once its
    lines are written. To go on with a batch, `first_line` numbers the first line of
    `source` (no CSV header is written then) and `summary` is the summary so far.
    Raises DiagnosticError (or ValueError) for a pack or options that cannot work, before
    reading any input.
    """
    started = time.perf_counter()
    check_arguments(pack, options, trace)
    pack_ref = str(pack) if pack is not None else None
    with_csv = csv_out is not None
    if csv_out is not None and first_line == 1:
        csv.writer(csv_out, lineterminator="\n").writerow(CSV_COLUMNS)
    summary = summary if summary is not None else BatchSummary()
    summary.workers = max(1, workers)

    def emit(chunk: ChunkResult, size: int) -> None:
        out.write(chunk.output)
        if csv_out is not None and chunk.csv:
            csv_out.write(chunk.csv)
        summary.add(chunk)
        if progress is not None:
            progress(size)

    if workers <= 1:
        evaluator = Evaluator(pack_ref, options, trace)
        for first, lines, size in read_chunks(source, chunk_lines, first_line):
            emit(decide_chunk(evaluator, first, lines, with_csv), size)
    else:
        context = multiprocessing.get_context(start_method or _default_start_method())
        if context.get_start_method() == "forkserver":
            context.set_forkserver_preload(["policyengine.batch"])
        with ProcessPoolExecutor(workers, context, _init_worker, (pack_ref, dict(options or {}), trace, with_csv)) as pool:
            try:
                _decide_in(pool, read_chunks(source, chunk_lines, first_line), workers * CHUNKS_PER_WORKER, emit)
            finally:
                pool.shutdown(cancel_futures=True)
    out.flush()
    if csv_out is not None:
        csv_out.flush()
    summary.seconds += time.perf_counter() - started
    return summary


class WorkerLost(RuntimeError):
    """A worker process stopped (killed, or out of memory) before it returned a chunk."""


def _decide_in(pool: ProcessPoolExecutor, chunks: Iterator[tuple[int, list[bytes], int]], window: int,
               emit: Callable[[ChunkResult, int], None]) -> None:
    """Chunks decided by the pool and emitted in input order, at most `window` in flight
    (memory stays flat however fast the input comes). Raises WorkerLost when a worker dies,
    rather than wait forever for its chunk."""
    in_flight: deque[tuple[Future[ChunkResult], int, int, int]] = deque()

    def submit(first: int, lines: list[bytes], size: int) -> None:
        in_flight.append((pool.submit(_worker_chunk, (first, lines)), first, len(lines), size))

    for chunk in itertools.islice(chunks, window):
        submit(*chunk)
    while in_flight:
        future, first, count, size = in_flight.popleft()
        try:
            result = future.result()
        except BrokenProcessPool:
            raise WorkerLost(f"a worker process stopped while deciding lines {first:,} to {first + count - 1:,} "
                             "(was it killed, or out of memory?)") from None
        emit(result, size)
        following = next(chunks, None)
        if following is not None:
            submit(*following)


def _default_start_method() -> str:
    """forkserver where there is one (no fork of a process that may hold threads),
    spawn elsewhere."""
    methods = multiprocessing.get_all_start_methods()
    return "forkserver" if "forkserver" in methods else "spawn"


def run_batch_files(in_path: str | Path, out_path: str | Path, csv_path: str | Path | None = None, *,
                    resume: bool = False, checkpoint_seconds: float = CHECKPOINT_SECONDS,
                    **kwargs: Any) -> BatchSummary:
    """`run_batch` on files (`-` is stdin for the input, stdout for the output), the way
    `policyengine.batchfiles` describes: the pack, the options and the paths are checked
    before any file is opened for writing; the outputs appear, complete, once every line is
    decided; with `resume`, a batch killed part way goes on after its last checkpoint
    (written after the first chunk, then at most every `checkpoint_seconds`)."""
    pack = check_arguments(kwargs.get("pack"), kwargs.get("options"), kwargs.get("trace", "compact"))
    check_paths(in_path, out_path, csv_path)
    files = BatchFiles(in_path, out_path, csv_path,
                       _settings(pack, kwargs.get("options"), kwargs.get("trace", "compact"), csv_path),
                       checkpoint_seconds)
    resumed = files.start(resume)
    summary = BatchSummary() if resumed is None else BatchSummary.from_state(resumed.summary)
    progress = kwargs.pop("progress", None)
    if resumed is not None and progress is not None:
        progress(resumed.offset)

    def after_chunk(size: int) -> None:
        files.checkpoint(size, summary.records, summary.state)
        if progress is not None:
            progress(size)

    source = sys.stdin.buffer if str(in_path) == "-" else open(in_path, "rb")
    try:
        if resumed is not None:
            source.seek(resumed.offset)
        run_batch(source, files.out, files.csv, progress=after_chunk, summary=summary,
                  first_line=1 if resumed is None else resumed.lines + 1, **kwargs)
    except (KeyboardInterrupt, WorkerLost):
        files.interrupted()
        raise
    except BaseException:
        files.discard()
        raise
    finally:
        if source is not sys.stdin.buffer:
            source.close()
    files.finish()
    return summary


def _settings(pack: CompiledPack | None, options: dict[str, Any] | None, trace: str,
              csv_path: str | Path | None) -> dict:
    """What a batch's output depends on besides its input: a resumed batch must have the same."""
    packs = [pack] if pack is not None else [load_pack(pack_id) for pack_id in bundled_ids()]
    return {"engine": __version__, "packs": {p.id: p.sha256 for p in packs}, "options": dict(options or {}),
            "trace": trace, "csv": None if csv_path is None else str(Path(csv_path).resolve())}


def input_size(path: str | Path) -> int | None:
    try:
        return os.stat(path).st_size if str(path) != "-" else None
    except OSError:
        return None


__all__ = ["BatchSummary", "CSV_COLUMNS", "ChunkResult", "Evaluator", "WorkerLost", "check_arguments", "decide_chunk",
           "error_line", "read_chunks", "run_batch", "run_batch_files"]
