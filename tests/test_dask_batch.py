"""The batch on Dask (optional extra): the same output lines, in order, as `policyengine batch`."""
from __future__ import annotations

import importlib.util
import io
import os
import sys
from pathlib import Path

import pytest

pytest.importorskip("dask")

from policyengine.batch import run_batch  # noqa: E402
from policyengine.dask_batch import run_dask_batch  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def _generate():
    spec = importlib.util.spec_from_file_location("policyengine_bench_generate", ROOT / "benchmarks" / "generate.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def months(tmp_path_factory) -> tuple[Path, str, str]:
    """200 generated patient-months (10% malformed, a few months of other years), and what
    `run_batch` makes of them."""
    path = tmp_path_factory.mktemp("dask") / "months.jsonl"
    lines = [line for line, _ in _generate().generate_lines(200, seed=5, malformed=0.1,
                                                               years={2019: 0.05, 2025: 0.1, 2026: 0.85})]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out, billable = io.StringIO(), io.StringIO()
    with path.open("rb") as source:
        run_batch(source, out, billable)
    return path, out.getvalue(), billable.getvalue()


def test_threaded_scheduler_gives_the_batch_output_in_order(months):
    path, expected, expected_csv = months
    out, billable = io.StringIO(), io.StringIO()
    summary = run_dask_batch(path, out, billable, blocksize=8_000, window=3, scheduler="threads")
    assert out.getvalue() == expected
    assert billable.getvalue() == expected_csv
    assert summary.records == 200 and summary.errors > 20 and summary.exit_status == 1


def _worker_state() -> tuple[int, int]:
    """(process id, evaluators built) of the Dask worker it runs on."""
    from policyengine import dask_batch

    return os.getpid(), len(dask_batch._evaluators)


def test_local_cluster_of_two_worker_processes_gives_the_batch_output_in_order(months):
    distributed = pytest.importorskip("distributed")
    path, expected, expected_csv = months
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        out, billable = io.StringIO(), io.StringIO()
        summary = run_dask_batch(path, out, billable, blocksize=8_000, trace="compact")
        workers = client.run(_worker_state)
    assert out.getvalue() == expected
    assert billable.getvalue() == expected_csv
    assert summary.records == 200
    # the months were decided in the two worker processes, not in this one
    assert len(workers) == 2
    assert all(pid != os.getpid() for pid, _ in workers.values())
    assert sum(built for _, built in workers.values()) >= 1


def test_bad_options_fail_before_any_work(months):
    from policyengine import DiagnosticError

    with pytest.raises(DiagnosticError):
        run_dask_batch(months[0], io.StringIO(), options={"no_such_option": "1"}, scheduler="threads")
