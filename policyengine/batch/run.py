"""Running a batch: chunks read lazily, decided here or by a pool of worker processes
(each loads the pack once), and written in input order with a bounded read-ahead.
`decide_chunks` is that pool for any work done chunk by chunk (`impact` decides each line
under two packs with it); a batch from a file has its workers read their own chunks
(`ranges.py`)."""
from __future__ import annotations

import contextlib
import csv
import dataclasses
import itertools
import multiprocessing
import os
import signal
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import IO, Any, TypeVar

from ..diagnostics import DiagnosticError
from ..engine.decide import TRACE_FORMS
from ..engine.options import resolve_options
from ..packs import CompiledPack, bundled_ids, load_pack
from ..version import __version__
from .files import CHECKPOINT_SECONDS, BatchFiles, check_paths
from .ranges import RangeReader, copy_spill, line_ranges, readable_path, spill
from .reading import CHUNK_LINES, read_chunks
from .records import CSV_COLUMNS, ChunkResult, Evaluator, decide_chunk
from .summary import BatchSummary

#: Chunks in flight per worker (read ahead of the writer): bounds memory.
CHUNKS_PER_WORKER = 4


#: What one chunk gives back: a batch's ChunkResult, or another command's share of its report.
Result = TypeVar("Result")
#: Decides one chunk: (its first line number, its lines) to its result.
ChunkDecider = Callable[[int, list[bytes]], Result]

#: In a worker process: the chunk decider its setup made.
_worker: dict[str, Any] = {}


def _start_worker(setup: Callable[..., ChunkDecider], setup_args: tuple) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the writer's to handle: no worker tracebacks
    _worker["decide"] = setup(*setup_args)


def _worker_chunk(task: tuple[int, list[bytes]]) -> Any:
    first, lines = task
    return _worker["decide"](first, lines)


def _worker_range(task: tuple[str, int, int, int, str]) -> tuple[str, ChunkResult]:
    """A range of a batch's input file read here, decided, and its output written to a spill
    file (`ranges.py`): the spill file, and the chunk's result without its output."""
    path, start, count, first, directory = task
    reader = _worker.setdefault("reader", RangeReader())
    result = _worker["decide"](first, reader.read(path, start, count))
    return spill(directory, first, result.output), dataclasses.replace(result, output="")


def decide_chunks(chunks: Iterator[tuple[int, list[bytes], int]], emit: Callable[[Result, int], None],
                  setup: Callable[..., ChunkDecider[Result]], setup_args: tuple, *, workers: int = 1,
                  start_method: str | None = None) -> None:
    """Each chunk decided by the decider `setup(*setup_args)` makes, and emitted with its size
    in input order. With `workers > 1` a pool of processes decides, each calling `setup`
    once (where packs are loaded once per worker), at most `CHUNKS_PER_WORKER` chunks per
    worker in flight; `setup`, its arguments and the results must pickle. Raises WorkerLost
    when a worker dies."""
    if workers <= 1:
        decide = setup(*setup_args)
        for first, lines, size in chunks:
            emit(decide(first, lines), size)
        return
    with _worker_pool(setup, setup_args, workers, start_method) as pool:
        tasks = ((_worker_chunk, (first, lines), first, len(lines), size) for first, lines, size in chunks)
        _decide_in(pool, tasks, workers * CHUNKS_PER_WORKER, emit)


def _decide_ranges(path: str, source: IO[bytes], lines: int, first: int, emit: Callable[[Any, int], None],
                   setup_args: tuple, workers: int, start_method: str | None) -> None:
    """`decide_chunks` of a batch whose input is the file at `path` (`source`, read from
    where it is): the workers read their ranges of lines and spill their output; `emit` is
    given (spill file, chunk result) in input order (`ranges.py`)."""
    with tempfile.TemporaryDirectory(prefix="policyengine-batch-") as directory, \
            _worker_pool(_batch_decider, setup_args, workers, start_method) as pool:
        tasks = ((_worker_range, (path, start, count, number, directory), number, count, end - start)
                 for number, start, end, count in line_ranges(source, lines, first))
        _decide_in(pool, tasks, workers * CHUNKS_PER_WORKER, emit)


@contextlib.contextmanager
def _worker_pool(setup: Callable[..., ChunkDecider], setup_args: tuple, workers: int,
                 start_method: str | None) -> Iterator[ProcessPoolExecutor]:
    """A pool of `workers` processes, each calling `setup(*setup_args)` once; what is still
    queued is cancelled when the pool is left."""
    context = multiprocessing.get_context(start_method or _default_start_method())
    if context.get_start_method() == "forkserver":
        context.set_forkserver_preload([setup.__module__])
    with ProcessPoolExecutor(workers, context, _start_worker, (setup, setup_args)) as pool:
        try:
            yield pool
        finally:
            pool.shutdown(cancel_futures=True)


def _batch_decider(pack_ref: str | None, options: dict[str, Any], trace: str,
                   with_csv: bool) -> ChunkDecider[ChunkResult]:
    """A batch's chunks decided in one process: the pack loaded once, into an Evaluator."""
    evaluator = Evaluator(pack_ref, options, trace)
    return lambda first, lines: decide_chunk(evaluator, first, lines, with_csv)


def check_arguments(pack: CompiledPack | str | Path | None, options: dict[str, Any] | None, trace: str) -> CompiledPack | None:
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

    With `workers > 1` and a regular file for `source`, the workers read their chunks of
    `chunk_lines` lines themselves (`ranges.py`); else the lines are read and handed out
    here. `progress` is called with the number of input bytes handled after each chunk,
    once its lines are written. To go on with a batch, `first_line` numbers the first line
    of `source` (no CSV header is written then) and `summary` is the summary so far.
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

    def emit_spilled(result: tuple[str, ChunkResult], size: int) -> None:
        spilled, chunk = result
        copy_spill(spilled, out)
        emit(chunk, size)

    setup_args = (pack_ref, dict(options or {}), trace, with_csv)
    path = readable_path(source) if workers > 1 else None
    if path is None:
        decide_chunks(read_chunks(source, chunk_lines, first_line), emit, _batch_decider, setup_args,
                      workers=workers, start_method=start_method)
    else:
        _decide_ranges(path, source, chunk_lines, first_line, emit_spilled, setup_args, workers, start_method)
    out.flush()
    if csv_out is not None:
        csv_out.flush()
    summary.seconds += time.perf_counter() - started
    return summary


class WorkerLost(RuntimeError):
    """A worker process stopped (killed, or out of memory) before it returned a chunk."""


#: A chunk for the pool: the worker function, its argument, and for the writer the chunk's
#: first line number, line count and input bytes.
Task = tuple[Callable[[Any], Any], Any, int, int, int]


def _decide_in(pool: ProcessPoolExecutor, tasks: Iterator[Task], window: int, emit: Callable[[Any, int], None]) -> None:
    """Chunks decided by the pool and emitted in input order, at most `window` in flight
    (memory stays flat however fast the input comes). Raises WorkerLost when a worker dies,
    rather than wait forever for its chunk."""
    in_flight: deque[tuple[Future[Any], int, int, int]] = deque()

    def lost(first: int, count: int) -> WorkerLost:
        return WorkerLost(f"a worker process stopped while deciding lines {first:,} to {first + count - 1:,} "
                          "(was it killed, or out of memory?)")

    def submit(work: Callable[[Any], Any], argument: Any, first: int, count: int, size: int) -> None:
        try:
            in_flight.append((pool.submit(work, argument), first, count, size))
        except BrokenProcessPool:  # a worker died before this chunk could even be handed out
            earliest = in_flight[0] if in_flight else (None, first, count, size)
            raise lost(earliest[1], earliest[2]) from None

    for task in itertools.islice(tasks, window):
        submit(*task)
    while in_flight:
        future, first, count, size = in_flight.popleft()
        try:
            result = future.result()
        except BrokenProcessPool:
            raise lost(first, count) from None
        emit(result, size)
        following = next(tasks, None)
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

    source = sys.stdin.buffer if str(in_path) == "-" else open(in_path, "rb")  # noqa: SIM115 - closed below
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
