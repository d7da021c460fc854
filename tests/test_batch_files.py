"""Batch files (issue 11): outputs that never overwrite the input, appear only when complete,
and resume after a kill to the same bytes as an uninterrupted run."""
from __future__ import annotations

import importlib.util
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from policyengine.batch import run_batch, run_batch_files
from policyengine.batch.files import checkpoint_path, partial_path
from policyengine.cli import main
from policyengine.diagnostics import DiagnosticError

ROOT = Path(__file__).resolve().parent.parent


def _generator():
    spec = importlib.util.spec_from_file_location("policyengine_bench_generate", ROOT / "benchmarks" / "generate.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


generate = _generator()


def months(n: int, seed: int = 11) -> bytes:
    return "".join(line + "\n" for line, _ in generate.generate_lines(n, seed=seed, malformed=0.05,
                                                                     years={2026: 1.0})).encode()


def invoke(*arguments: object) -> object:
    result = CliRunner().invoke(main, ["batch", *map(str, arguments)])
    assert "Traceback" not in result.output
    return result


# --- paths ---------------------------------------------------------------------------------------


@pytest.fixture
def batch_dir(tmp_path):
    (tmp_path / "in.jsonl").write_bytes(months(40))
    return tmp_path


@pytest.mark.parametrize("arguments, code", [
    (["IN", "--out", "IN"], "batch.same_file"),
    (["IN", "--out", "OUT", "--csv", "IN"], "batch.same_file"),
    (["IN", "--out", "OUT", "--csv", "OUT"], "batch.same_file"),
    (["IN", "--out", "LINK"], "batch.same_file"),
    (["IN", "--out", "HARDLINK"], "batch.same_file"),
    (["IN", "--out", "sub/../in.jsonl"], "batch.same_file"),
    (["OUT_PARTIAL", "--out", "OUT"], "batch.same_file"),  # the input is where OUT.partial goes
    (["IN", "--out", "OUT", "--csv", "missing/billable.csv"], "batch.no_folder"),
    (["IN", "--out", "missing/out.jsonl"], "batch.no_folder"),
    (["IN", "--out", "sub"], "batch.is_folder"),
])
def test_outputs_that_would_destroy_the_input_or_cannot_be_written_are_refused_before_writing(
        batch_dir, arguments, code):
    (batch_dir / "sub").mkdir()
    (batch_dir / "link.jsonl").symlink_to(batch_dir / "in.jsonl")
    os.link(batch_dir / "in.jsonl", batch_dir / "hard.jsonl")
    (batch_dir / "out.jsonl.partial").write_bytes((batch_dir / "in.jsonl").read_bytes())
    names = {"IN": "in.jsonl", "OUT": "out.jsonl", "LINK": "link.jsonl", "HARDLINK": "hard.jsonl",
             "OUT_PARTIAL": "out.jsonl.partial"}
    before = {path.name: path.read_bytes() for path in batch_dir.iterdir() if path.is_file()}
    cwd = os.getcwd()
    os.chdir(batch_dir)
    try:
        result = invoke(*[names.get(a, a) for a in arguments])
    finally:
        os.chdir(cwd)
    assert result.exit_code == 2, result.output
    assert f"[{code}]" in result.stderr
    after = {path.name: path.read_bytes() for path in batch_dir.iterdir() if path.is_file()}
    assert after == before


# --- atomic output -----------------------------------------------------------------------------


def test_the_output_appears_only_when_complete(batch_dir):
    source, out, billable = batch_dir / "in.jsonl", batch_dir / "out.jsonl", batch_dir / "billable.csv"
    out.write_text("an older, complete output\n")
    seen = []

    def progress(size: int) -> None:
        seen.append((out.read_text(), billable.exists(), partial_path(out).exists(), checkpoint_path(out).exists()))

    run_batch_files(source, out, billable, progress=progress, chunk_lines=8)
    assert len(seen) == 5
    assert set(seen) == {("an older, complete output\n", False, True, True)}
    assert len(out.read_text().splitlines()) == 40 and billable.exists()
    assert sorted(p.name for p in batch_dir.iterdir()) == ["billable.csv", "in.jsonl", "out.jsonl"]


def test_a_failed_batch_removes_what_it_wrote(batch_dir):
    source, out, billable = batch_dir / "in.jsonl", batch_dir / "out.jsonl", batch_dir / "billable.csv"

    def fail(size: int) -> None:
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError):
        run_batch_files(source, out, billable, progress=fail, chunk_lines=8)
    assert sorted(p.name for p in batch_dir.iterdir()) == ["in.jsonl"]


def test_out_dash_still_streams_and_the_csv_is_renamed_into_place(batch_dir, capsys):
    billable = batch_dir / "billable.csv"
    run_batch_files(batch_dir / "in.jsonl", "-", billable)
    assert len(capsys.readouterr().out.splitlines()) == 40
    assert billable.exists() and not partial_path(billable).exists()


# --- resume ------------------------------------------------------------------------------------


def uninterrupted(tmp_path: Path, data: bytes, *flags: str) -> tuple[bytes, bytes]:
    reference = tmp_path / "reference"
    reference.mkdir()
    (reference / "in.jsonl").write_bytes(data)
    assert invoke(reference / "in.jsonl", "--out", reference / "out.jsonl", "--csv", reference / "b.csv",
                  *flags).exit_code == 1
    return (reference / "out.jsonl").read_bytes(), (reference / "b.csv").read_bytes()


def interrupt_after(chunks: int):
    calls = []

    def progress(size: int) -> None:
        calls.append(size)
        if len(calls) == chunks:
            raise KeyboardInterrupt

    return progress


def interrupted_batch(tmp_path: Path, n: int, after: int, **options: object) -> tuple[tuple[Path, Path, Path],
                                                                                    tuple[bytes, bytes]]:
    """A batch of `n` generated months interrupted (Ctrl-C) after `after` chunks: its input,
    output and CSV, and what an uninterrupted batch writes."""
    data = months(n)
    expected = uninterrupted(tmp_path, data)
    source, out, billable = tmp_path / "in.jsonl", tmp_path / "out.jsonl", tmp_path / "b.csv"
    source.write_bytes(data)
    with pytest.raises(KeyboardInterrupt):
        run_batch_files(source, out, billable, progress=interrupt_after(after), **options)
    return (source, out, billable), expected


def test_an_interrupted_batch_resumes_to_the_same_bytes(tmp_path):
    (source, out, billable), expected = interrupted_batch(tmp_path, 300, 3, chunk_lines=32, checkpoint_seconds=0)
    checkpoint = json.loads(checkpoint_path(out).read_text())
    assert checkpoint["lines"] == 96 and not out.exists()
    with partial_path(out).open("a") as torn, partial_path(billable).open("a") as torn_csv:
        torn.write('{"patient_id": "half a chunk')  # what a kill in the middle of a write leaves
        torn_csv.write("97,PT-")
    summary = run_batch_files(source, out, billable, resume=True, chunk_lines=50)
    assert (out.read_bytes(), billable.read_bytes()) == expected
    assert summary.records == 300
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.csv", "in.jsonl", "out.jsonl", "reference"]


def test_checkpoints_are_at_most_one_a_second_and_a_resume_redoes_what_came_after(tmp_path):
    (source, out, billable), expected = interrupted_batch(tmp_path, 100, 4, chunk_lines=20, checkpoint_seconds=3600)
    assert json.loads(checkpoint_path(out).read_text())["lines"] == 20  # the first chunk's, none since
    run_batch_files(source, out, billable, resume=True)
    assert (out.read_bytes(), billable.read_bytes()) == expected


def test_the_summary_of_a_resumed_batch_is_that_of_the_whole_batch(tmp_path):
    data = months(200)
    source = tmp_path / "in.jsonl"
    source.write_bytes(data)
    whole = run_batch(io.BytesIO(data), io.StringIO(), io.StringIO())
    with pytest.raises(KeyboardInterrupt):
        run_batch_files(source, tmp_path / "out.jsonl", tmp_path / "b.csv", progress=interrupt_after(2),
                        chunk_lines=40, checkpoint_seconds=0)
    resumed = run_batch_files(source, tmp_path / "out.jsonl", tmp_path / "b.csv", resume=True)
    keys = ("records", "decisions", "errors", "error_codes", "billable", "total")
    assert {k: resumed.to_dict()[k] for k in keys} == {k: whole.to_dict()[k] for k in keys}
    assert resumed.first_errors == whole.first_errors


def test_resume_without_a_checkpoint_starts_from_the_first_line(tmp_path):
    data = months(50)
    expected = uninterrupted(tmp_path, data)
    (tmp_path / "in.jsonl").write_bytes(data)
    result = invoke(tmp_path / "in.jsonl", "--out", tmp_path / "out.jsonl", "--csv", tmp_path / "b.csv", "--resume")
    assert result.exit_code == 1
    assert ((tmp_path / "out.jsonl").read_bytes(), (tmp_path / "b.csv").read_bytes()) == expected


@pytest.fixture
def interrupted(tmp_path):
    source, out, billable = tmp_path / "in.jsonl", tmp_path / "out.jsonl", tmp_path / "b.csv"
    source.write_bytes(months(120))
    with pytest.raises(KeyboardInterrupt):
        run_batch_files(source, out, billable, progress=interrupt_after(2), chunk_lines=16,
                        checkpoint_seconds=0)
    return source, out, billable


@pytest.mark.parametrize("change, words", [
    (["--trace", "full"], "trace was 'compact', now 'full'"),
    (["--option", "messaging_counts=true"], "options was {}, now {'messaging_counts': 'true'}"),
    (["--pack", "cms-rpm-2026"], "packs was"),
    (["NO_CSV"], "csv was"),
])
def test_resume_refuses_other_settings(interrupted, change, words):
    source, out, billable = interrupted
    csv = [] if change == ["NO_CSV"] else ["--csv", billable]
    result = invoke(source, "--out", out, *csv, "--resume", *[a for a in change if a != "NO_CSV"])
    assert result.exit_code == 2
    assert "--resume: cannot resume the batch" in result.stderr and words in result.stderr, result.stderr
    assert "[batch.cannot_resume]" in result.stderr
    assert checkpoint_path(out).exists()  # nothing lost: the right command can still resume


def test_resume_refuses_an_input_changed_where_it_was_decided(interrupted):
    source, out, billable = interrupted
    data = bytearray(source.read_bytes())
    data[10] ^= 1
    source.write_bytes(bytes(data))
    result = invoke(source, "--out", out, "--csv", billable, "--resume")
    assert result.exit_code == 2 and "have changed" in result.stderr


def test_resume_refuses_a_partial_file_shorter_than_its_checkpoint(interrupted):
    source, out, billable = interrupted
    os.truncate(partial_path(out), 100)
    result = invoke(source, "--out", out, "--csv", billable, "--resume")
    assert result.exit_code == 2 and "holds 100 bytes; its checkpoint says" in result.stderr


@pytest.mark.parametrize("arguments", [["-", "--out", "OUT"], ["IN", "--out", "-"]])
def test_resume_needs_an_input_file_and_an_output_file(batch_dir, arguments):
    names = {"IN": str(batch_dir / "in.jsonl"), "OUT": str(batch_dir / "out.jsonl")}
    result = CliRunner().invoke(main, ["batch", *[names.get(a, a) for a in arguments], "--resume"],
                                input=b'{"patient_id": "PT-1", "month": "2026-03"}')
    assert result.exit_code == 2 and "only a batch from an input file to an output file" in result.stderr


@pytest.fixture(scope="module")
def three_thousand() -> tuple[bytes, tuple[bytes, bytes]]:
    """3,000 generated months and what an uninterrupted batch (here, in this process) makes of them."""
    data = months(3000, seed=5)
    out, billable = io.StringIO(), io.StringIO()
    run_batch(io.BytesIO(data), out, billable)
    return data, (out.getvalue().encode(), billable.getvalue().encode())


def _children(pid: int) -> list[int]:
    found = []
    for stat_file in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat_file.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        if int(fields[1]) == pid:
            found.append(int(stat_file.parent.name))
    return found


def kill_a_worker(batch: int) -> None:
    """SIGKILL one worker of a batch: its workers are the children of its forkserver."""
    (server,) = [pid for pid in _children(batch) if b"forkserver" in Path(f"/proc/{pid}/cmdline").read_bytes()]
    os.kill(_children(server)[0], signal.SIGKILL)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds the workers in /proc")
@pytest.mark.parametrize("stop, status", [(signal.SIGKILL, -signal.SIGKILL), (signal.SIGINT, 1), ("worker", 1)],
                         ids=["SIGKILL", "SIGINT", "a worker killed"])
def test_a_killed_batch_with_two_workers_resumes_to_the_same_bytes(tmp_path, three_thousand, stop, status):
    """The real thing: `policyengine batch` stopped part way by a signal to it and its workers,
    or by the death of one worker (the batch stops, rather than wait for it for ever)."""
    data, expected = three_thousand
    source, out, billable = tmp_path / "in.jsonl", tmp_path / "out.jsonl", tmp_path / "b.csv"
    source.write_bytes(data)
    # Ctrl-C's handler set in the batch: a process started with SIGINT ignored (a suite run as a
    # background job of a shell without job control) would pass the ignoring on, and Python keeps it
    command = [sys.executable, "-c", "import signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
               "from policyengine.cli import main; main()", "batch", str(source),
               "--out", str(out), "--csv", str(billable), "--workers", "2"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)
    deadline = time.monotonic() + 60
    while not checkpoint_path(out).exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    if stop == "worker":
        kill_a_worker(process.pid)
    else:
        os.killpg(process.pid, stop)  # the batch's own process group: it and its workers
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == status
    assert "Traceback" not in stderr
    assert ("--resume goes on" in stderr) == (stop != signal.SIGKILL)  # a killed batch cannot say it
    done = json.loads(checkpoint_path(out).read_text())["lines"]
    assert 0 < done < 3000 and not out.exists()
    result = invoke(source, "--out", out, "--csv", billable, "--workers", "2", "--resume")
    assert result.exit_code == 1, result.output
    assert (out.read_bytes(), billable.read_bytes()) == expected
    assert "3,000 records" in result.stderr
    assert not partial_path(out).exists() and not checkpoint_path(out).exists()


def test_run_batch_files_refuses_before_opening_anything(batch_dir):
    with pytest.raises(DiagnosticError) as caught:
        run_batch_files(batch_dir / "in.jsonl", batch_dir / "in.jsonl")
    assert caught.value.diagnostics[0].code == "batch.same_file"
    assert len((batch_dir / "in.jsonl").read_bytes().splitlines()) == 40


def test_a_pool_broken_before_a_chunk_is_handed_out_is_a_lost_worker_not_a_traceback():
    """The race the killed-worker run above can lose: the pool learns a worker died before the
    next chunk is submitted, so submitting raises, not waiting for a result (seen in CI)."""
    from concurrent.futures.process import BrokenProcessPool

    from policyengine.batch.run import WorkerLost, _decide_in

    class BrokenPool:
        def submit(self, work, argument):
            raise BrokenProcessPool("a child process terminated abruptly")

    with pytest.raises(WorkerLost, match="lines 1 to 256"):
        _decide_in(BrokenPool(), iter([(len, [b""], 1, 256, 100)]), 4, lambda result, size: None)
