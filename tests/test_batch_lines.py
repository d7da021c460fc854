"""Hostile lines in a batch (issue 11): every input line gets exactly one output line, an
error record naming where for each poisoned one, whatever it holds, and the batch goes on."""
from __future__ import annotations

import io
import json

import pytest
from click.testing import CliRunner

from policyengine.batch import read_chunks, run_batch
from policyengine.cli import main
from policyengine.limits import MAX_FACTS_BYTES


# --- hostile lines ------------------------------------------------------------------------------

GOOD = b'{"patient_id": "PT-1", "month": "2026-03"}'
POISON = [
    (b'{"patient_id": "PT-2", "month": "2026-03", "n": 18446744073709551616}', "facts.integer_too_large"),
    (b'{"patient_id": "PT-3", "month": "2026-03", "n": ' + b"9" * 10_000 + b"}", "facts.integer_too_large"),
    (b'{"patient_id": "PT-4", "month": "2026-03", "n": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "facts.too_deep"),
    (b'{"patient_id": "PT-\\ud800", "month": "2026-03"}', "facts.bad_unicode"),
    (b'{"patient_id": "PT-5", "\\udc00": 1, "month": "2026-03"}', "facts.bad_unicode"),
    (b'{"patient_id": "PT-6", "month": "2026-03", "month": "2026-04"}', "facts.duplicate_key"),
    (b'{"patient_id": "PT-7", "month": "2026-03"}\x00', "facts.malformed"),
    (b"\x00\x00\x00", "facts.malformed"),
    (b'{"patient_id": "\xed\xa0\x80", "month": "2026-03"}', "facts.malformed"),  # a surrogate in UTF-8 bytes
    (b'{"patient_id": "PT-8", "month": "2026-03", "note": "' + b"x" * (50 << 20) + b'"}', "facts.too_large"),
    (b"[" * 5000, "facts.too_deep"),
    (b'{"patient_id": "PT-9", "month": "2026-03", "interactions": [{"id": "a", "date": "2026-03-02", '
     b'"duration_seconds": 1000000000000000000, "modality": "phone", "two_way": true, "program": "rpm"}]}',
     "facts.out_of_range"),
]


@pytest.mark.parametrize("workers", [1, 2])
def test_every_poisoned_line_gets_its_own_error_record_and_the_rest_are_decided(tmp_path, workers):
    lines = [GOOD]
    for poison, _ in POISON:
        lines += [poison, GOOD]
    source, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    source.write_bytes(b"\n".join(lines) + b"\n")
    result = CliRunner().invoke(main, ["batch", str(source), "--out", str(out), "--workers", str(workers)])
    assert "Traceback" not in result.output
    assert result.exit_code == 1
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(records) == len(lines)
    assert [r["patient_id"] for r in records[::2]] == ["PT-1"] * (len(POISON) + 1)
    assert [(r["line"], r["error"]["code"]) for r in records[1::2]] == [
        (2 * k + 2, code) for k, (_, code) in enumerate(POISON)]
    assert f"{len(lines)} records: {len(POISON) + 1} decisions, {len(POISON)} errors" in result.stderr


def test_a_huge_line_is_never_held_whole(tmp_path):
    stream = io.BytesIO(b"x" * (50 << 20) + b"\n" + GOOD + b"\n")
    ((first, lines, size),) = list(read_chunks(stream))
    assert (first, size) == (1, (50 << 20) + 1 + len(GOOD) + 1)
    assert len(lines[0]) <= MAX_FACTS_BYTES + 3 and lines[1] == GOOD + b"\n"


def test_a_line_at_the_size_limit_is_read_whole():
    line = b'{"patient_id": "PT-1", "month": "2026-03", "note": "' + b"x" * (MAX_FACTS_BYTES - 54) + b'"}'
    assert len(line) == MAX_FACTS_BYTES
    out = io.StringIO()
    run_batch(io.BytesIO(line + b"\r\n"), out, trace="none")
    assert json.loads(out.getvalue())["patient_id"] == "PT-1"


def test_dask_writes_the_same_lines_for_poisoned_input(tmp_path):
    pytest.importorskip("dask")
    from policyengine.dask_batch import run_dask_batch

    path = tmp_path / "in.jsonl"
    path.write_bytes(b"\n".join([GOOD, *(poison for poison, _ in POISON), GOOD]) + b"\n")
    expected, out = io.StringIO(), io.StringIO()
    with path.open("rb") as source:
        run_batch(source, expected)
    summary = run_dask_batch(path, out, scheduler="threads", blocksize="4MiB")
    assert out.getvalue() == expected.getvalue()
    assert summary.records == len(POISON) + 2
