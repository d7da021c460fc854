"""Workers that read their ranges of the input file and spill their output: the same lines,
numbered the same, and the same output bytes as a batch whose writer relays every line."""
from __future__ import annotations

import io
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policyengine.batch import ranges, run_batch
from policyengine.batch.ranges import RangeReader, copy_spill, line_ranges, readable_path, spill
from policyengine.batch.reading import read_lines
from test_batch_lines import GOOD, POISON

#: Text made of few bytes, line ends and carriage returns among them, so lines are short,
#: empty, doubled, unterminated.
TEXT = st.lists(st.sampled_from([b"\n", b"\r", b"\r\n", b"a", b"{}", b"\xff"]), max_size=60).map(b"".join)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=TEXT, lines=st.integers(1, 5), block=st.integers(1, 9), skip=st.integers(0, 3))
def test_ranges_hold_the_lines_the_writer_would_read(tmp_path, monkeypatch, text, lines, block, skip):
    monkeypatch.setattr(ranges, "_SCAN_BLOCK", block)  # line ends across the blocks of the scan
    path = tmp_path / "in.jsonl"
    path.write_bytes(text)
    with path.open("rb") as stream:
        expected = [raw for raw, _ in read_lines(stream)]
    skip = min(skip, len(expected))
    start = sum(len(raw) for raw in expected[:skip])  # as a resumed batch: from where the stream is
    with path.open("rb") as stream:
        stream.seek(start)
        found = list(line_ranges(stream, lines, first=skip + 1))
    reader = RangeReader()
    try:
        assert [raw for _, begin, _, count in found for raw in reader.read(str(path), begin, count)] == expected[skip:]
    finally:
        reader.close()
    assert [number for number, *_ in found] == [skip + 1 + lines * k for k in range(len(found))]
    assert all(count <= lines for *_, count in found)
    assert sum(count for *_, count in found) == len(expected) - skip
    ends = [start] + [end for _, _, end, _ in found]
    assert [begin for _, begin, _, _ in found] == ends[:-1] and ends[-1] == len(text)  # every byte, once


def relayed_and_read(tmp_path, data: bytes, **options) -> tuple[tuple, tuple]:
    """The batch of `data` with the writer relaying lines (one worker: it decides them) and
    with two workers reading a file."""
    path = tmp_path / "in.jsonl"
    path.write_bytes(data)
    outputs = []
    for workers, source in ((1, io.BytesIO(data)), (2, path.open("rb"))):
        out, billable = io.StringIO(), io.StringIO()
        with source:
            summary = run_batch(source, out, billable, workers=workers, **options)
        state = {key: value for key, value in summary.state().items() if key != "seconds"}
        outputs.append((out.getvalue(), billable.getvalue(), summary.records, summary.errors, state))
    return outputs[0], outputs[1]


def test_hostile_lines_give_the_same_output_when_workers_read_them(tmp_path):
    lines = [GOOD]
    for poison, _ in POISON:
        lines += [poison, GOOD]
    data = b"\r\n".join(lines) + b"\n\n" + GOOD  # a blank line, and a last line with no line end
    relayed, read = relayed_and_read(tmp_path, data, chunk_lines=3)
    assert read == relayed
    assert relayed[2] == len(lines) + 2


def test_generated_months_give_the_same_output_and_csv(tmp_path):
    from test_dask_batch import _generate

    data = "".join(line + "\n" for line, _ in _generate().generate_lines(300, seed=9, malformed=0.05)).encode()
    relayed, read = relayed_and_read(tmp_path, data, trace="full")
    assert read == relayed
    assert relayed[1].count("\n") > 100  # billable rows to compare


def test_only_a_regular_file_that_is_still_the_named_one_is_read_by_workers(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_bytes(GOOD + b"\n")
    with path.open("rb") as stream:
        assert readable_path(stream) == str(path)
    assert readable_path(io.BytesIO(GOOD)) is None
    read_end, write_end = os.pipe()
    with os.fdopen(read_end, "rb") as pipe, os.fdopen(write_end, "wb"):
        assert readable_path(pipe) is None
    with path.open("rb") as stream:
        path.unlink()
        path.write_bytes(b"another file\n")  # replaced since it was opened: its name is not this stream
        assert readable_path(stream) is None


@pytest.mark.parametrize("encoding", ["utf-8", "latin-1"])
def test_a_spill_is_copied_as_text_the_output_writes(tmp_path, encoding):
    path = spill(str(tmp_path), 1, '{"note":"… café"}\n')
    target = tmp_path / "out.jsonl"
    with target.open("w", encoding=encoding, errors="replace") as out:
        out.write("before\n")
        copy_spill(path, out)
        out.write("after\n")
    assert target.read_bytes() == "before\n{\"note\":\"… café\"}\nafter\n".encode(encoding, errors="replace")
    assert not os.path.exists(path)
    text = io.StringIO()
    copy_spill(spill(str(tmp_path), 2, "é\n"), text)
    assert text.getvalue() == "é\n"
