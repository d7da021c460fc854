"""How far `ingest fhir` and `timeline decide` are, on a terminal: the FHIR reader tells a
`progress` callback the input's bytes as it reads them, then the same again as the
patients are done (`fhir/grouping.py`); the commands show it as one bar on stderr.

What this file checks: the callback is told exactly what `progress_length` promised (the
bar ends at 100%), reading and then patient by patient, whatever the input holds (NDJSON
read in pieces, a line too long, files not read); the output is the same bytes with a bar
and without; and the bar, its label and 100% appear on stderr when it is a terminal.
"""
from __future__ import annotations

import io
import json
import os
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from policyengine.cli import main
from policyengine.fhir import grouping, read
from policyengine.fhir.grouping import progress_length
from policyengine.fhir.read import input_size, resources
from policyengine.timeline.files import Reading, decide, ingest
from terminal import Terminal

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "fhir"


def _ingest(out: Path, inputs: tuple[str, ...], progress=None) -> bytes:
    ingest(Reading(inputs), str(out), **({"progress": progress} if progress else {}))
    return out.read_bytes()


def _decide(out: Path, inputs: tuple[str, ...], progress=None) -> bytes:
    decide(Reading(inputs), str(out), lambda summary: None, **({"progress": progress} if progress else {}))
    return out.read_bytes()


@pytest.mark.parametrize("run", [_ingest, _decide], ids=["ingest", "decide"])
def test_the_progress_told_adds_up_to_the_length_promised_and_changes_no_output(tmp_path, run):
    told: list[int] = []
    shown = run(tmp_path / "shown.jsonl", (str(EXAMPLES),), told.append)
    assert sum(told) == progress_length((str(EXAMPLES),)) == 2 * sum(f.stat().st_size for f in EXAMPLES.glob("*.json"))
    assert all(n >= 0 for n in told) and len([n for n in told if n]) > len(list(EXAMPLES.glob("*.json")))
    assert shown and shown == run(tmp_path / "plain.jsonl", (str(EXAMPLES),))


def test_the_second_half_is_told_as_each_patient_is_done(tmp_path):
    """Reading is all told before the first patient is decided; then each patient moves the
    bar on, and the last one's share is told once the caller is done with it."""
    told: list[int] = []
    at_summary: list[int] = []
    decide(Reading((str(EXAMPLES),)), str(tmp_path / "out.jsonl"), lambda summary: at_summary.append(sum(told)),
           progress=told.append)
    size = input_size((str(EXAMPLES),))
    assert len(at_summary) == len(list(EXAMPLES.glob("*.json")))  # a patient an example
    assert at_summary[0] == size and at_summary == sorted(set(at_summary)) and at_summary[-1] < 2 * size
    assert sum(told) == 2 * size


def _entries(path: Path) -> list[dict]:
    return [entry["resource"] for entry in json.loads(path.read_text())["entry"]]


def test_every_byte_of_the_input_is_told_once_however_it_is_read(tmp_path, monkeypatch):
    """NDJSON is told in pieces as it is read, a line too long with it; a file given that is not
    read (XML) all at once; a file in a folder that is not FHIR by its name not at all."""
    monkeypatch.setattr(read, "PROGRESS_BYTES", 3000)
    monkeypatch.setattr(read, "MAX_FHIR_RESOURCE_BYTES", 2000)
    folder = tmp_path / "export"
    folder.mkdir()
    lines = [json.dumps(resource) for example in sorted(EXAMPLES.glob("*.json")) for resource in _entries(example)]
    lines.insert(3, json.dumps({"resourceType": "Basic", "id": "long", "text": "x" * 5000}))
    (folder / "all.ndjson").write_text("\n".join(lines) + "\n\n")
    (folder / "notes.txt").write_text("not FHIR, not read, not counted")
    (tmp_path / "one.xml").write_text("<Patient/>")
    inputs = (str(folder), str(tmp_path / "one.xml"), str(EXAMPLES / "second-episode.json"))
    size = sum(p.stat().st_size for p in (folder / "all.ndjson", tmp_path / "one.xml", EXAMPLES / "second-episode.json"))
    assert input_size(inputs) == size

    told: list[int] = []
    found = list(resources(inputs, told.append))
    assert sum(told) == size and len([n for n in told if n]) > 10  # read in pieces
    codes = {item.code for item in found if isinstance(item, read.Problem)}
    assert {"fhir.too_large", "fhir.not_fhir_json", "fhir.not_read"} <= codes

    told.clear()
    assert list(grouping.patients(inputs, lambda problem: None, progress=told.append))
    assert sum(told) == progress_length(inputs) == 2 * size


def test_a_file_whose_name_is_not_utf8_is_told_all_at_once_though_not_read(tmp_path):
    try:
        with open(os.path.join(os.fsencode(tmp_path), b"bad-\xff.ndjson"), "wb") as bad_name:
            bad_name.write(b"{}\n" * 100)
    except OSError:
        if sys.platform.startswith("linux"):  # Linux names files in bytes: CI runs this case, never skips it
            raise
        pytest.skip("this file system names files in UTF-8 only")
    told: list[int] = []
    found = list(resources([tmp_path], told.append))
    assert [item.code for item in found if isinstance(item, read.Problem)] == ["fhir.bad_file_name"]
    assert sum(told) == input_size([tmp_path]) == 300


def test_input_with_no_patients_is_told_in_full(tmp_path):
    practitioner = tmp_path / "practitioner.json"
    practitioner.write_text(json.dumps({"resourceType": "Practitioner", "id": "dr-a"}))
    told: list[int] = []
    assert list(grouping.patients([practitioner], lambda problem: None, progress=told.append)) == []
    assert sum(told) == progress_length([practitioner]) == 2 * practitioner.stat().st_size


COMMANDS = [(["ingest", "fhir"], "ingesting FHIR"), (["timeline", "decide"], "deciding the timeline")]


@pytest.mark.parametrize(("command", "label"), COMMANDS, ids=["ingest", "decide"])
def test_a_bar_on_a_terminal_and_the_same_output_without(tmp_path, monkeypatch, command, label):
    piped = CliRunner().invoke(main, [*command, str(EXAMPLES), "--out", str(tmp_path / "piped.jsonl")])
    assert piped.exit_code == 0, piped.output
    assert label not in piped.stderr and "%" not in piped.stderr

    terminal, stdout = Terminal(), io.StringIO()
    monkeypatch.setattr(sys, "stderr", terminal)
    monkeypatch.setattr(sys, "stdout", stdout)
    with pytest.raises(SystemExit) as exited:
        main([*command, str(EXAMPLES), "--out", str(tmp_path / "shown.jsonl")], standalone_mode=False)
    assert exited.value.code == 0
    assert label in terminal.getvalue() and "100%" in terminal.getvalue()
    assert (tmp_path / "shown.jsonl").read_bytes() == (tmp_path / "piped.jsonl").read_bytes()
    assert stdout.getvalue() == piped.stdout
