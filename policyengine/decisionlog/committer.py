"""Group commit: the appends of many concurrent requests in as few transactions as the
store's speed allows.

One writer thread takes every row waiting, appends them with one `store.append` (one
transaction) and resolves each caller's future; while it writes, the next rows gather. A
caller that waits for its future knows its rows are committed, so the service still
answers only after its decision is logged, but pays one transaction per group rather than
one per decision, and its decisions are not held up while a commit waits for the file's
lock (which another worker process may hold).
"""
from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import Future

from .store import DecisionStore, LoggedDecision


class LogClosed(RuntimeError):
    """Rows were submitted after `close`."""


class GroupCommitter:
    """Appends the rows submitted to `store` from one writer thread, in groups."""

    def __init__(self, store: DecisionStore) -> None:
        self.store = store
        self._waiting: list[tuple[Sequence[LoggedDecision], Future[list[LoggedDecision]]]] = []
        self._changed = threading.Condition()
        self._closed = False
        self._writer = threading.Thread(target=self._write, name="policyengine-decision-log", daemon=True)
        self._writer.start()

    def submit(self, rows: Sequence[LoggedDecision]) -> Future[list[LoggedDecision]]:
        """A future that is done once `rows` are committed, with the row kept for each (a
        retry's is the row logged first), or holds what the append raised."""
        future: Future[list[LoggedDecision]] = Future()
        if not rows:
            future.set_result([])
            return future
        with self._changed:
            if self._closed:
                raise LogClosed("the decision log is closed")
            self._waiting.append((rows, future))
            self._changed.notify()
        return future

    def close(self) -> None:
        """Commit what waits, then stop the writer (the store stays open)."""
        with self._changed:
            self._closed = True
            self._changed.notify()
        self._writer.join()

    def _write(self) -> None:
        while True:
            with self._changed:
                while not self._waiting and not self._closed:
                    self._changed.wait()
                group, self._waiting = self._waiting, []
            if not group:
                return  # closed, and nothing left to write
            try:
                kept = self.store.append([row for rows, _ in group for row in rows])
            except Exception as error:  # every caller of the group hears it; the writer goes on
                for _, future in group:
                    future.set_exception(error)
            else:
                start = 0
                for rows, future in group:
                    future.set_result(kept[start:start + len(rows)])
                    start += len(rows)
