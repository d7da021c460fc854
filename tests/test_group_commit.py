"""Group commit in the decision log: a caller hears back only once its rows are committed;
rows that arrive while a commit runs go together in the next; a failed commit is heard by
every caller in it and the log goes on."""
from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from logrows import row
from policyengine.decisionlog import GroupCommitter, LogClosed, SqliteDecisionStore


class SlowStore(SqliteDecisionStore):
    """A store whose appends take 50 ms, and which records each append's size (and can fail one)."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.sizes: list[int] = []
        self.fail_next = False

    def append(self, rows):
        time.sleep(0.05)
        self.sizes.append(len(rows))
        if self.fail_next:
            self.fail_next = False
            raise OSError("disk full")
        return super().append(rows)


def test_rows_submitted_during_a_commit_go_together_in_the_next(tmp_path):
    store = SlowStore(tmp_path / "log.sqlite")
    committer = GroupCommitter(store)
    rows = [row(f"caller-{i}") for i in range(20)]
    heard: dict[str, bool] = {}

    def submit(one) -> None:
        committer.submit([one]).result(10)
        heard[one.id] = store.get(one.id) is not None  # committed by the time the caller hears

    threads = [threading.Thread(target=submit, args=(one,)) for one in rows]
    for thread in threads:
        thread.start()
        time.sleep(0.002)
    for thread in threads:
        thread.join(10)
    committer.close()
    assert heard == {one.id: True for one in rows}
    assert sum(store.sizes) == 20 and len(store.sizes) < 10, store.sizes  # 20 rows, a few transactions


def test_a_failed_commit_is_heard_by_each_of_its_callers_and_the_log_goes_on(tmp_path):
    store = SlowStore(tmp_path / "log.sqlite")
    committer = GroupCommitter(store)
    store.fail_next = True
    first = committer.submit([row()])
    with pytest.raises(OSError, match="disk full"):
        first.result(10)
    later = row()
    committer.submit([later]).result(10)
    assert store.get(later.id) is not None


def test_close_commits_what_waits_and_refuses_more(tmp_path):
    store = SlowStore(tmp_path / "log.sqlite")
    committer = GroupCommitter(store)
    waiting = [row() for _ in range(3)]
    futures = [committer.submit([one]) for one in waiting]
    committer.close()
    assert all(future.done() and future.exception() is None for future in futures)
    assert all(store.get(one.id) is not None for one in waiting)
    with pytest.raises(LogClosed):
        committer.submit([row()])
    assert committer.submit([]).result() == []  # nothing to write is done at once, even closed
