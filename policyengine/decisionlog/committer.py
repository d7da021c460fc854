"""Group commit: the appends of many concurrent requests in as few transactions as the
store's speed allows.

One writer thread takes every row waiting, appends them with one `store.append` (one
transaction) and resolves each caller's future; while it writes, the next rows gather. A
caller that waits for its future knows its rows are committed, so the service still
answers only after its decision is logged, but pays one transaction per group rather than
one per decision, and its decisions are not held up while a commit waits for the file's
lock (which another worker process may hold).

An asyncio caller awaits `commit`: the writer hands a group's results to each event loop
in one callback, not one wake-up of the loop per decision (each is a write to the loop's
self-pipe and a pass of the loop, about a tenth of a logged decision's cost otherwise).
"""
from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

from .store import DecisionStore, LoggedDecision

if TYPE_CHECKING:  # asyncio is imported when a coroutine commits (the service), not by every command
    import asyncio


class LogClosed(RuntimeError):
    """Rows were submitted after `close`."""


class GroupCommitter:
    """Appends the rows submitted to `store` from one writer thread, in groups."""

    def __init__(self, store: DecisionStore) -> None:
        self.store = store
        self._waiting: list[tuple[Sequence[LoggedDecision], Any, asyncio.AbstractEventLoop | None]] = []
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
        self._enqueue(rows, future, None)
        return future

    async def commit(self, rows: Sequence[LoggedDecision]) -> list[LoggedDecision]:
        """`submit` for a coroutine: returns once `rows` are committed, with the row kept for each."""
        if not rows:
            return []
        import asyncio
        loop = asyncio.get_running_loop()
        future: asyncio.Future[list[LoggedDecision]] = loop.create_future()
        self._enqueue(rows, future, loop)
        return await future

    def _enqueue(self, rows: Sequence[LoggedDecision], future: Any, loop: asyncio.AbstractEventLoop | None) -> None:
        with self._changed:
            if self._closed:
                raise LogClosed("the decision log is closed")
            self._waiting.append((rows, future, loop))
            self._changed.notify()

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
            outcomes: list[tuple[Any, asyncio.AbstractEventLoop | None, Any, BaseException | None]] = []
            try:
                kept = self.store.append([row for rows, _, _ in group for row in rows])
            except Exception as error:  # every caller of the group hears it; the writer goes on
                outcomes = [(future, loop, None, error) for _, future, loop in group]
            else:
                start = 0
                for rows, future, loop in group:
                    outcomes.append((future, loop, kept[start:start + len(rows)], None))
                    start += len(rows)
            _deliver(outcomes)


def _deliver(outcomes: list[tuple[Any, asyncio.AbstractEventLoop | None, Any, BaseException | None]]) -> None:
    """Each caller's result: thread callers' futures at once, each event loop's in one callback."""
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[Any, Any, BaseException | None]]] = {}
    for future, loop, result, error in outcomes:
        if loop is None:
            if error is None:
                future.set_result(result)
            else:
                future.set_exception(error)
        else:
            by_loop.setdefault(loop, []).append((future, result, error))
    for loop, results in by_loop.items():
        if not loop.is_closed():
            loop.call_soon_threadsafe(_resolve, results)


def _resolve(results: list[tuple[asyncio.Future, Any, BaseException | None]]) -> None:
    for future, result, error in results:
        if future.done():  # its caller gave up (the request's time limit)
            continue
        if error is None:
            future.set_result(result)
        else:
            future.set_exception(error)
