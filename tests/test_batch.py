"""Batch evaluation (issue 6, contract v1 sections 1 and 3): one output line per input line,
in order, error records where the input is bad, the same decisions as one at a time."""
from __future__ import annotations

import csv
import importlib.util
import io
import json
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

import policyengine
from policyengine.batch import CSV_COLUMNS, run_batch, run_batch_files
from policyengine.cli import main

ROOT = Path(__file__).resolve().parent.parent


def _load_generator():
    spec = importlib.util.spec_from_file_location("policyengine_bench_generate", ROOT / "benchmarks" / "generate.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


generate = _load_generator()

#: Lines the generator does not write, each with the error code it must produce.
EXTRA_LINES = [
    (b'{"patient_id": "PT-X1", "month": "2019-06"}', "facts.no_pack"),
    (b"[1, 2, 3]", "facts.wrong_type"),
    (b'{"patient_id": "PT-X2", "month": "2026-03", "note": "caf\xe9"}', "facts.malformed"),  # Latin-1, not UTF-8
    (b'{"patient_id": "PT-X3", "month": "2026-03", "interactions": [{"id": "a", "date": "2026-03-02", '
     b'"duration_seconds": 600.0, "modality": "phone", "two_way": true, "program": "rpm"}]}', "facts.wrong_type"),
]


def _compact(decision: dict) -> str:
    return json.dumps(decision, ensure_ascii=False, separators=(",", ":"))


@pytest.fixture(scope="module")
def batch_input() -> tuple[bytes, list[tuple[bytes, str | None]]]:
    """300 generated patient-months, 10% malformed, with the extra lines spread through."""
    lines: list[tuple[bytes, str | None]] = [
        (line.encode(), generate.EXPECTED_ERROR[kind] if kind else None)
        for line, kind in generate.generate_lines(300, seed=7, malformed=0.1, years={2026: 1.0})]
    for k, extra in enumerate(EXTRA_LINES):
        lines.insert(40 * k + 5, extra)
    return b"".join(line + b"\n" for line, _ in lines), lines


@pytest.fixture(scope="module")
def one_at_a_time(batch_input) -> list[str | None]:
    """The expected output line of every valid input line, from policyengine.evaluate."""
    expected = []
    for line, error in batch_input[1]:
        expected.append(None if error else _compact(policyengine.evaluate(json.loads(line, parse_float=Decimal))))
    return expected


def test_the_input_has_what_the_test_needs(batch_input):
    kinds = [error for _, error in batch_input[1]]
    assert 20 <= sum(1 for error in kinds if error) <= 60
    assert {"facts.malformed", "facts.missing_field", "facts.out_of_range", "facts.not_a_date",
            "facts.outside_month", "facts.no_pack", "facts.wrong_type"} <= set(kinds)


@pytest.mark.parametrize("workers", [1, 2])
def test_one_line_per_input_line_in_order_and_the_same_decisions(batch_input, one_at_a_time, workers):
    data, lines = batch_input
    out, billable = io.StringIO(), io.StringIO()
    summary = run_batch(io.BytesIO(data), out, billable, workers=workers, chunk_lines=16)
    output = out.getvalue().split("\n")
    assert output[-1] == ""
    output = output[:-1]
    assert len(output) == len(lines)
    for number, ((_, error), line, expected) in enumerate(zip(lines, output, one_at_a_time), 1):
        if error:
            record = json.loads(line)
            assert record["line"] == number
            assert record["error"]["code"] == error, (number, record)
            assert record["error"]["message"]
            assert "Traceback" not in line
        else:
            assert line == expected, number
    assert summary.records == len(lines)
    assert summary.errors == sum(1 for _, error in lines if error)
    assert summary.exit_status == 1


def test_summary_and_csv_hold_the_billable_lines(batch_input, one_at_a_time):
    data, lines = batch_input
    out, billable = io.StringIO(), io.StringIO()
    summary = run_batch(io.BytesIO(data), out, billable)
    rows = list(csv.reader(io.StringIO(billable.getvalue())))
    assert tuple(rows[0]) == CSV_COLUMNS
    expected_rows, units, dollars = [], {}, {}
    for number, line in enumerate(one_at_a_time, 1):
        if line is None:
            continue
        decision = json.loads(line)
        for item in decision["billable"]:
            expected_rows.append([str(number), decision["patient_id"], decision["month"], item["code"],
                                  str(item["units"]), item["amount"], item["rule"], decision["pack"]["id"],
                                  decision["pack"]["version"]])
            units[item["code"]] = units.get(item["code"], 0) + item["units"]
            dollars[item["code"]] = dollars.get(item["code"], Decimal("0")) + Decimal(item["amount"])
    assert rows[1:] == expected_rows
    assert len(expected_rows) > 50
    assert dict(summary.units) == units
    assert summary.dollars == dollars
    assert summary.total == sum(dollars.values())
    assert all(isinstance(amount, Decimal) for amount in summary.dollars.values())
    assert summary.to_dict()["total"] == str(summary.total)
    assert summary.decisions == sum(1 for line in one_at_a_time if line is not None)


def test_blank_lines_and_a_missing_final_newline_still_give_one_line_each():
    data = b'\n  \n{"patient_id": "PT-1", "month": "2026-03"}\r\n{"patient_id": "PT-2", "month": "2026-03"}'
    out = io.StringIO()
    summary = run_batch(io.BytesIO(data), out)
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [r.get("line") for r in records] == [1, 2, None, None]
    assert [r["error"]["code"] for r in records[:2]] == ["facts.malformed"] * 2
    assert [r["patient_id"] for r in records[2:]] == ["PT-1", "PT-2"]
    assert (summary.records, summary.errors) == (4, 2)


def test_an_error_record_names_the_field_and_every_error():
    line = json.dumps({"patient_id": "PT-1", "month": "2026-03", "interactions": [
        {"id": "a", "date": "2026-03-40", "duration_seconds": 60, "modality": "phone", "two_way": True, "program": "rpm"},
        {"id": "b", "date": "2026-04-02", "duration_seconds": 60, "modality": "phone", "two_way": True, "program": "rpm"}]})
    out = io.StringIO()
    run_batch(io.BytesIO(line.encode() + b"\n"), out)
    record = json.loads(out.getvalue())
    assert record["line"] == 1 and record["patient_id"] == "PT-1" and record["month"] == "2026-03"
    assert record["error"] == {"code": "facts.not_a_date", "message": "2026-03-40 is not a real date",
                               "where": "/interactions/0/date", "hint": "2026-03 has 31 days"}
    assert [e["code"] for e in record["errors"]] == ["facts.not_a_date", "facts.outside_month"]


@pytest.mark.parametrize("trace", ["none", "compact", "full"])
def test_options_and_trace_form_pass_through(trace):
    facts = json.loads((ROOT / "examples" / "2026-03-voicemail-and-messages.json").read_text(), parse_float=Decimal)
    options = {"messaging_counts": "true", "addon_max_units": "3"}
    out = io.StringIO()
    run_batch(io.BytesIO(_compact(facts).encode()), out, options=options, trace=trace, pack="cms-rpm-2026")
    expected = policyengine.evaluate(facts, "cms-rpm-2026", options, trace)
    assert out.getvalue() == _compact(expected) + "\n"
    decision = json.loads(out.getvalue())
    assert decision["options"]["messaging_counts"] is True
    assert decision["trace"]["form"] == trace


# --- the command ------------------------------------------------------------------------------


@pytest.fixture
def files(tmp_path, batch_input):
    path = tmp_path / "in.jsonl"
    path.write_bytes(batch_input[0])
    valid = tmp_path / "valid.jsonl"
    valid.write_text("".join(line + "\n" for line, kind in generate.generate_lines(40, seed=3, years={2026: 1.0})))
    return tmp_path, path, valid


@pytest.mark.parametrize("workers", ["1", "2"])
def test_command_exit_status_1_when_a_record_failed(files, batch_input, one_at_a_time, workers):
    tmp_path, path, _ = files
    out, billable = tmp_path / "out.jsonl", tmp_path / "billable.csv"
    result = CliRunner().invoke(main, ["batch", str(path), "--out", str(out), "--csv", str(billable),
                                       "--workers", workers])
    assert result.exit_code == 1, result.output
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(batch_input[1])
    assert [line for line, expected in zip(lines, one_at_a_time) if expected] == [e for e in one_at_a_time if e]
    summary = result.stderr
    assert f"{len(lines):,} records" in summary and "errors" in summary and "total billable: $" in summary
    assert "error facts.malformed" in summary and "99454" in summary
    assert billable.read_text().startswith(",".join(CSV_COLUMNS))
    assert result.stdout == ""


def test_command_exit_status_0_when_every_record_decided(files):
    tmp_path, _, valid = files
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(main, ["batch", str(valid), "--out", str(out), "--trace", "none",
                                       "--option", "messaging_counts=true"])
    assert result.exit_code == 0, result.output
    decisions = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(decisions) == 40
    assert all(d["trace"] == {"form": "none"} and d["options"]["messaging_counts"] is True for d in decisions)
    assert "40 records: 40 decisions, 0 errors" in result.stderr


def test_command_out_dash_writes_to_stdout(files):
    _, _, valid = files
    result = CliRunner().invoke(main, ["batch", str(valid), "--out", "-"])
    assert result.exit_code == 0
    assert len(result.stdout.splitlines()) == 40


@pytest.mark.parametrize("arguments, message", [
    (["MISSING", "--out", "OUT"], "cannot read"),
    (["IN", "--out", "OUT", "--option", "no_such_option=1"], "unknown option"),
    (["IN", "--out", "OUT", "--option", "messaging_counts=perhaps"], "cannot be"),
    (["IN", "--out", "OUT", "--option", "novalue"], "NAME=VALUE"),
    (["IN", "--out", "OUT", "--pack", "no-such-pack"], "no rule pack"),
    (["IN", "--out", "OUT", "--workers", "0"], "--workers"),
    (["IN"], "--out"),
])
def test_command_exit_status_2_for_bad_arguments_and_unreadable_input(files, arguments, message):
    tmp_path, _, valid = files
    out = tmp_path / "never.jsonl"
    arguments = [str(valid) if a == "IN" else str(out) if a == "OUT" else str(tmp_path / "missing.jsonl")
                 if a == "MISSING" else a for a in arguments]
    result = CliRunner().invoke(main, ["batch", *arguments])
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert not out.exists()


def test_files_helper_round_trip(files):
    tmp_path, _, valid = files
    summary = run_batch_files(valid, tmp_path / "o.jsonl", tmp_path / "b.csv", workers=2)
    assert summary.records == 40 and summary.exit_status == 0
    assert len((tmp_path / "o.jsonl").read_text().splitlines()) == 40
