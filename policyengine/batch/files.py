"""The files of a batch (`policyengine batch --out OUT --csv CSV`): checked before anything is
written, written beside their targets and renamed when complete, checkpointed so that a
killed batch can be resumed.

- An output that is the input, or the other output (by path, symlink or inode, partial
  files included), and an output in a folder that does not exist are refused before any
  file is opened for writing.
- OUT is written as `OUT.partial` (CSV as `CSV.partial`) and renamed (os.replace) once
  every line is decided, so a file named OUT is always complete. An exception removes the
  partial files; an interruption (Ctrl-C, a kill) leaves them to be resumed.
- After the first chunk, then after a chunk at most once a second, both partial files are
  flushed and fsynced, then `OUT.checkpoint` (written whole and renamed, so never torn)
  records how many input lines are done, the
  sha256 of the input bytes they came from, the size of each partial file, the summary so
  far, and the settings the output depends on (engine, packs, options, trace, CSV).
- `resume` reads the checkpoint and refuses when a setting differs or the decided part
  of the input changed; it cuts the partial files back to the recorded sizes (dropping a
  chunk torn by the kill) and continues after the last line done, so the result is byte
  for byte that of an uninterrupted run. Without a checkpoint it starts from line 1.

Standard input cannot be read again, so a batch from `-` keeps no checkpoints; `--out -`
streams to standard output (only the CSV is renamed into place).
"""
from __future__ import annotations

import hashlib
import json
import os
import stat
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from collections.abc import Callable

from ..diagnostics import Diagnostic, DiagnosticError
from ..outputs import output_problems, partial_path

CHECKPOINT_VERSION = 1
#: Seconds between checkpoints, at most one per chunk: syncing after every chunk of a fast
#: batch cost a tenth of its time with two workers; a resume redoes at most this much.
CHECKPOINT_SECONDS = 1.0
_CHECKPOINT_KEYS = {"version", "settings", "lines", "input_bytes", "input_sha256", "out_bytes", "csv_bytes", "summary"}
_BLOCK = 1 << 20


def checkpoint_path(out_path: str | Path) -> Path:
    return Path(f"{out_path}.checkpoint")


def _temporary(path: Path) -> Path:
    return path.with_name(path.name + ".tmp")


def check_paths(in_path: str | Path, out_path: str | Path, csv_path: str | Path | None) -> None:
    """Raise a DiagnosticError (codes `batch.*`, located at the option) for outputs that
    would overwrite the input or each other, or that cannot be created."""
    checkpoint = [] if str(out_path) == "-" else [checkpoint_path(out_path), _temporary(checkpoint_path(out_path))]
    problems = output_problems("batch", [] if str(in_path) == "-" else [in_path],
                               [("--out", out_path), ("--csv", csv_path)], [("--out", path) for path in checkpoint])
    if problems:
        raise DiagnosticError(problems)


@dataclass(frozen=True)
class Resumed:
    """Where a resumed batch goes on: after `lines` input lines, `offset` bytes into the
    input, with the summary so far (`BatchSummary.state()`)."""

    lines: int
    offset: int
    summary: dict


class BatchFiles:
    """The output files of one batch run: `out` and `csv` to write to, `checkpoint()` after
    each chunk, then `finish()` (rename into place) or `discard()` (remove)."""

    def __init__(self, in_path: str | Path, out_path: str | Path, csv_path: str | Path | None,
                 settings: dict, every: float = CHECKPOINT_SECONDS) -> None:
        self.in_path = Path(in_path)
        self.out_path = None if str(out_path) == "-" else Path(out_path)
        self.csv_path = None if csv_path is None else Path(csv_path)
        self.settings = json.loads(json.dumps(settings, sort_keys=True, default=str))
        self.keeps_checkpoints = self.out_path is not None and str(in_path) != "-" and _is_file(self.in_path)
        self.out: IO[str] = sys.stdout
        self.csv: IO[str] | None = None
        self._input: IO[bytes] | None = None
        self._input_hash = hashlib.sha256()
        self._offset = 0
        self.every = every
        self._last: float | None = None  # when the last checkpoint was written

    # --- starting ---------------------------------------------------------------------------

    def start(self, resume: bool) -> Resumed | None:
        """Open the partial files: where the checkpoint left them when `resume` and there is
        one (returned), else empty. Raises DiagnosticError when the checkpoint does not fit."""
        if resume and not self.keeps_checkpoints:
            raise DiagnosticError([Diagnostic(
                "batch.cannot_resume", "only a batch from an input file to an output file can be resumed",
                where="--resume")])
        found = self._read_checkpoint() if resume else None
        if found is not None:
            self._check_fits(found)
        try:
            if self.keeps_checkpoints:
                self._input = open(self.in_path, "rb")  # noqa: SIM115 - held for the whole batch, closed by finish()
                self._verify_input(found)
            self._open_outputs(found)
        except BaseException:
            self.close()
            raise
        return None if found is None else Resumed(found["lines"], found["input_bytes"], found["summary"])

    def _verify_input(self, found: dict | None) -> None:
        """Hash the input as far as the checkpoint says it was decided, and refuse to go on
        if those bytes changed; without a checkpoint, remove an old one."""
        if found is None:
            self._remove_checkpoint()
            return
        self._advance(found["input_bytes"])
        if self._input_hash.hexdigest() != found["input_sha256"]:
            raise self._unfit(f"the first {found['input_bytes']:,} bytes of {self.in_path}, which the partial "
                              "output was decided from, have changed")

    def _read_checkpoint(self) -> dict | None:
        assert self.out_path is not None
        try:
            text = checkpoint_path(self.out_path).read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as error:
            raise self._unfit(f"its checkpoint cannot be read: {error.strerror or error}") from None
        try:
            found = json.loads(text)
            if found["version"] != CHECKPOINT_VERSION or set(found) != _CHECKPOINT_KEYS:
                raise ValueError(f"version {found['version']}, keys {', '.join(sorted(found))}")
        except (ValueError, KeyError, TypeError) as error:
            raise self._unfit(f"its checkpoint is not one this version writes ({error})") from None
        return found

    def _check_fits(self, found: dict) -> None:
        differences = [f"{name} was {found['settings'].get(name)!r}, now {value!r}"
                       for name, value in self.settings.items() if found["settings"].get(name) != value]
        if differences:
            raise self._unfit("it was made with other settings: " + "; ".join(differences))
        for path, size in ((self.out_path, found["out_bytes"]), (self.csv_path, found["csv_bytes"])):
            if path is None:
                continue
            actual = _size(partial_path(path))
            if actual is None or actual < size:
                raise self._unfit(f"{partial_path(path)} holds {actual or 0:,} bytes; its checkpoint says {size:,}")

    def _unfit(self, reason: str) -> DiagnosticError:
        return DiagnosticError([Diagnostic(
            "batch.cannot_resume", f"cannot resume the batch into {self.out_path}: {reason}", where="--resume",
            hint="resume with what the batch was started with, or leave out --resume to start from line 1")])

    def _open_outputs(self, found: dict | None) -> None:
        """The partial files, emptied, or cut back to the checkpoint's sizes (a chunk the
        kill tore is dropped) to be appended to."""
        if found is not None:
            for path, size in ((self.out_path, found["out_bytes"]), (self.csv_path, found["csv_bytes"])):
                if path is not None:
                    os.truncate(partial_path(path), size)
        mode = "a" if found is not None else "w"
        if self.out_path is not None:
            self.out = open(partial_path(self.out_path), mode, encoding="utf-8", newline="\n")  # noqa: SIM115 - see finish()
        if self.csv_path is not None:
            self.csv = open(partial_path(self.csv_path), mode, encoding="utf-8", newline="")  # noqa: SIM115 - see finish()

    # --- going on ---------------------------------------------------------------------------

    def checkpoint(self, size: int, lines: int, summary: Callable[[], dict]) -> None:
        """A chunk of `size` input bytes is written, `lines` lines in all: record it, once
        the output is on disk, if the last record is `every` seconds old (or there is none)."""
        if not self.keeps_checkpoints:
            return
        self._advance(size)
        now = time.monotonic()
        if self._last is not None and now - self._last < self.every:
            return
        self._last = now
        sizes = [self._sync(stream) for stream in (self.out, self.csv)]
        record = {"version": CHECKPOINT_VERSION, "settings": self.settings, "lines": lines,
                  "input_bytes": self._offset, "input_sha256": self._input_hash.hexdigest(),
                  "out_bytes": sizes[0], "csv_bytes": sizes[1], "summary": summary()}
        assert self.out_path is not None
        _write_whole(checkpoint_path(self.out_path), json.dumps(record, sort_keys=True))

    def _advance(self, size: int) -> None:
        """Hash the next `size` bytes of the input (read again, from the page cache)."""
        assert self._input is not None
        left = size
        while left:
            block = self._input.read(min(left, _BLOCK))
            if not block:
                break
            self._input_hash.update(block)
            left -= len(block)
        self._offset += size - left

    @staticmethod
    def _sync(stream: IO[str] | None) -> int | None:
        if stream is None:
            return None
        stream.flush()
        os.fsync(stream.fileno())
        return os.fstat(stream.fileno()).st_size

    # --- ending -------------------------------------------------------------------------------

    def finish(self) -> None:
        """Every line is done: the partial files become the outputs. The checkpoint goes
        first, so a kill in between leaves partial files that a resume starts again."""
        for stream in (self.out, self.csv):
            if stream is not None and stream is not sys.stdout:
                self._sync(stream)
        self.close()
        self._remove_checkpoint()
        for path in (self.csv_path, self.out_path):
            if path is not None:
                os.replace(partial_path(path), path)

    def interrupted(self) -> None:
        """The batch was interrupted: what it wrote stays to be resumed, if it can be."""
        if self.keeps_checkpoints:
            self.close()
        else:
            self.discard()

    def discard(self) -> None:
        """The batch failed: remove what it wrote."""
        self.close()
        for path in (self.out_path, self.csv_path):
            if path is not None:
                partial_path(path).unlink(missing_ok=True)
        self._remove_checkpoint()

    def _remove_checkpoint(self) -> None:
        if self.out_path is not None:
            for path in (checkpoint_path(self.out_path), _temporary(checkpoint_path(self.out_path))):
                path.unlink(missing_ok=True)

    def close(self) -> None:
        for stream in (self._input, self.out, self.csv):
            if stream is not None and stream is not sys.stdout:
                stream.close()


def _write_whole(path: Path, text: str) -> None:
    """Write a small file so that it is never seen half written: a temporary file, synced,
    renamed over it."""
    temporary = _temporary(path)
    with open(temporary, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def _size(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return None


def _is_file(path: Path) -> bool:
    try:
        return stat.S_ISREG(path.stat().st_mode)
    except OSError:
        return False


__all__ = ["BatchFiles", "Resumed", "check_paths", "checkpoint_path", "partial_path"]
