"""How a batch reads its input: lines of a binary stream, and chunks of them."""
from __future__ import annotations

from collections.abc import Iterator
from typing import IO

from ..limits import MAX_FACTS_BYTES

#: Input lines handed to a worker at a time.
CHUNK_LINES = 256


def read_chunks(stream: IO[bytes], size: int = CHUNK_LINES, first: int = 1) -> Iterator[tuple[int, list[bytes], int]]:
    """(first line number, lines, bytes read) for consecutive chunks of a binary stream,
    lazily; the first line is number `first`."""
    chunk: list[bytes] = []
    read = 0
    for raw, length in read_lines(stream):
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


def read_lines(stream: IO[bytes]) -> Iterator[tuple[bytes, int]]:
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
