"""The cyclic garbage collector paused while a decision is built.

A full trace allocates a container per traced value (a part, a filter row, the value of a
node inside a predicate for each item): about 18,000 for a month of 1,000 interactions.
CPython runs its cyclic collector every 700 container allocations, and its older
generations walk every container alive, the trace being built included, so the cost grew
faster than the month (measured with `benchmarks/trace_scaling.py`: 10,000 interactions
took 1.63 s with the collector running and 0.75 s with it paused; no gain to measure for
a decision without a trace). Nothing a decision builds holds a reference cycle, so
reference counting frees all of it; a cycle made anyway is collected when the collector
runs again.
"""
from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """The collector off inside the block, and on again after it if it was on before (it
    is process-wide: one left off by the caller stays off)."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
