"""Each patient's events, from inputs of any size, with memory that does not grow with them.

A bulk export holds every patient's Observations in one file, so events are first spilled
to temporary files, one per partition of patients, then read back a partition at a time.
There are more partitions for more input (one per `PARTITION_BYTES`), and a patient's
partition is a range of a hash of the patient's Type/id, so patients come out in one
order, by that hash and then by id, whatever the input's size, layout or file order.

A `progress` callback is told the input's bytes twice: once as they are read into the
partitions, and once more as the patients are done, each patient's share in proportion to
the events spilled for it (`progress_length` is the whole). Neither half is short enough to
leave out: what is done with the patients is about a third of an ingest's time and half of
a `timeline decide`'s.
"""
from __future__ import annotations

import tempfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from datetime import tzinfo
from pathlib import Path

import orjson

from .mapping import map_resource
from .patient import Directory, PatientRecord, patient_record
from .problems import Problem
from .read import Located, input_size, no_progress, resources

#: input bytes per spill partition: what one partition's events hold in memory is bounded by this
PARTITION_BYTES = 32 * 1024 * 1024
MAX_PARTITIONS = 256

Validator = Callable[[Located], list[Problem]]


def progress_length(paths: Iterable[str | Path]) -> int:
    """What `patients` tells its `progress` in all, when the files do not change while read."""
    return 2 * input_size(paths)


def patients(paths: Iterable[str | Path], report: Callable[[Problem], None], zone: tzinfo | None = None,
             validate: Validator | None = None, progress: Callable[[int], None] = no_progress) -> Iterator[PatientRecord]:
    """Every patient's record from the FHIR input at `paths`; every problem goes to `report`.
    `progress` is told how far the work is once the caller is done with each patient (it asks
    for the next), up to `progress_length(paths)` when the caller has asked for every one."""
    paths = list(paths)
    size = input_size(paths)
    count = min(MAX_PARTITIONS, max(1, size // PARTITION_BYTES + 1))
    directory = Directory()
    with tempfile.TemporaryDirectory(prefix="policyengine-fhir-") as spill:
        parts = [Path(spill) / f"{n}.jsonl" for n in range(count)]
        _spill(paths, parts, directory, report, zone, validate, progress)
        spilled = sum(part.stat().st_size for part in parts)
        done = told = 0
        for part in parts:
            for record, events in _partition(part, directory, report):
                yield record
                done += events
                share = size * done // spilled
                progress(share - told)
                told = share
        progress(size - told)  # all of it when no patient had events


def _spill(paths: Iterable[str | Path], parts: list[Path], directory: Directory, report: Callable[[Problem], None],
           zone: tzinfo | None, validate: Validator | None, progress: Callable[[int], None]) -> None:
    outs = [part.open("wb") for part in parts]
    try:
        for found in resources(paths, progress):
            if isinstance(found, Problem):
                report(found)
                continue
            refused = validate(found) if validate is not None else []
            for problem in refused:
                report(problem)
            if refused:
                continue
            for mapped in map_resource(found, zone):
                if isinstance(mapped, Problem):
                    report(mapped)
                elif mapped["patient"] is None:
                    directory.add(mapped, report)
                else:
                    out = outs[_rank(mapped["patient"])[0] * len(outs) >> 32]
                    out.write(orjson.dumps(mapped) + b"\n")
    finally:
        for out in outs:
            out.close()


def _rank(patient: str) -> tuple[int, str]:
    """Where a patient comes in the output: its hash (32 bits), then its reference."""
    return zlib.crc32(patient.encode()), patient


def _partition(part: Path, directory: Directory,
               report: Callable[[Problem], None]) -> Iterator[tuple[PatientRecord, int]]:
    """The records of the partition's patients in order, each with the bytes of its events."""
    events: dict[str, list[dict]] = {}
    spilled: dict[str, int] = {}
    with part.open("rb") as lines:
        for line in lines:
            event = orjson.loads(line)
            events.setdefault(event["patient"], []).append(event)
            spilled[event["patient"]] = spilled.get(event["patient"], 0) + len(line)
    for key in sorted(events, key=_rank):
        yield patient_record(key, events.pop(key), directory, report), spilled.pop(key)
