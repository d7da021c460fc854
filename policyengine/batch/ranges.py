"""A batch from a file with worker processes: the input and the output do not pass through
the writer.

Relaying the bytes cost the writer 8% of a core beside two workers (it read each line,
sent it to a worker and took back its output). From a regular file it only finds where
chunks of lines begin and end (`line_ranges`: a scan for line ends, no line is kept).
Each worker reads its range of the file itself (`RangeReader`, with the writer's line
reader, so a line is the same line) and writes the range's output to a spill file
(`spill`). The writer copies the spill files into the output in input order
(`copy_spill`) and removes them, so the output is the same, byte for byte, as when it
relays the lines.
"""
from __future__ import annotations

import codecs
import itertools
import os
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from .reading import read_lines

#: Bytes read at a time while looking for line ends.
_SCAN_BLOCK = 1 << 20


def readable_path(stream: IO[bytes]) -> str | None:
    """The path of `stream` when it is a regular file another process can open and read
    from where `stream` is (the same file), else None: a pipe or a terminal, a stream in
    memory, a file renamed or replaced since it was opened."""
    name = getattr(stream, "name", None)
    try:
        if not isinstance(name, str) or not stream.seekable():
            return None
        opened, named = os.fstat(stream.fileno()), os.stat(name)
    except (OSError, ValueError, AttributeError):
        return None
    if not stat.S_ISREG(opened.st_mode) or (opened.st_dev, opened.st_ino) != (named.st_dev, named.st_ino):
        return None
    return os.path.abspath(name)


def line_ranges(stream: IO[bytes], lines: int, first: int) -> Iterator[tuple[int, int, int, int]]:
    """(first line number, start offset, end offset, line count) of consecutive ranges of
    at most `lines` lines, from where `stream` is to its end; the first line is number
    `first`. A line is what ends with a line end, and what follows the last one."""
    start = position = line_start = stream.tell()
    count = 0
    while block := stream.read(_SCAN_BLOCK):
        at = 0
        while (end := block.find(b"\n", at)) >= 0:
            at = end + 1
            count += 1
            if count == lines:
                line_start = position + at
                yield first, start, line_start, count
                first, start, count = first + count, line_start, 0
        if at:
            line_start = position + at
        position += len(block)
    if position > start:
        yield first, start, position, count + (position > line_start)


class RangeReader:
    """Reads ranges of lines of the input, opened once per worker process (held until
    `close`, or until the process ends)."""

    def __init__(self) -> None:
        self._path: str | None = None
        self._stream: IO[bytes] | None = None

    def read(self, path: str, start: int, count: int) -> list[bytes]:
        """The `count` lines from offset `start`, read as the writer reads a stream."""
        if self._stream is None or path != self._path:
            self.close()
            self._path, self._stream = path, open(path, "rb")  # noqa: SIM115 - held: see the class
        self._stream.seek(start)
        return [raw for raw, _ in itertools.islice(read_lines(self._stream), count)]

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None


def spill(directory: str, first: int, output: str) -> str:
    """Write the output of the range starting at line `first` to a file in `directory`,
    UTF-8 as the batch's output is; its path."""
    path = os.path.join(directory, f"{first:015d}.jsonl")
    with open(path, "wb") as handle:
        handle.write(output.encode("utf-8"))
    return path


def copy_spill(path: str, out: IO[str]) -> None:
    """Append a spill file to `out`, then remove it: its bytes as they are when `out` writes
    UTF-8 with "\\n" line ends to a file it exposes, else as text."""
    with open(path, "rb") as handle:
        target = _utf8_bytes(out)
        if target is not None:
            out.flush()
            shutil.copyfileobj(handle, target)
        else:
            out.write(handle.read().decode("utf-8"))
    Path(path).unlink()


def _utf8_bytes(out: IO[str]) -> IO[bytes] | None:
    buffer = getattr(out, "buffer", None)
    encoding = getattr(out, "encoding", None)
    if buffer is None or encoding is None or os.linesep != "\n":
        return None
    try:
        return buffer if codecs.lookup(encoding).name == "utf-8" else None
    except LookupError:
        return None
