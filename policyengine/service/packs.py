"""The packs a service serves, compiled once at start and again on reload.

A `PackSet` is immutable: a reload builds a new one and swaps it in, so a request that
took the old set finishes on it. Without `?pack=`, a decision uses the bundled pack
effective in the facts' month (what `policyengine evaluate` does without --pack); with
`?pack=ID`, the served pack of that id.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from ..diagnostics import Diagnostic, DiagnosticError
from ..engine.values import to_json_value
from ..packs import CompiledPack, bundled_ids, load_pack
from .problems import Problem


@dataclass(frozen=True)
class ServedPack:
    pack: CompiledPack
    #: where it was loaded from: a bundled id, or the pack directory (absolute), for replay
    ref: str


@dataclass(frozen=True)
class PackSet:
    by_id: dict[str, ServedPack]
    generation: int

    def named(self, pack_id: str, status: int = 400, where: str = "?pack") -> ServedPack:
        """The served pack `pack_id`; a problem with `status` (400 for a query parameter,
        404 for a path) when none is served."""
        served = self.by_id.get(pack_id)
        if served is None:
            raise Problem.of(status, "service.unknown_pack", f"no pack '{pack_id}' is served", where=where,
                             hint="served packs: " + ", ".join(sorted(self.by_id)))
        return served


def compile_packs(refs: tuple[str, ...], generation: int) -> PackSet:
    """Every bundled pack, then each of `refs` (a directory's pack replaces a bundled pack
    of its id). Raises DiagnosticError with every pack's errors."""
    by_id = {pack_id: ServedPack(load_pack(pack_id), pack_id) for pack_id in bundled_ids()}
    errors: list[Diagnostic] = []
    for ref in refs:
        try:
            pack = load_pack(ref)
        except DiagnosticError as error:
            errors.extend(error.diagnostics)
            continue
        by_id[pack.id] = ServedPack(pack, ref if ref in bundled_ids() else str(Path(ref).resolve()))
    if errors:
        raise DiagnosticError(errors)
    return PackSet(by_id, generation)


class ServedPacks:
    """The current `PackSet` and the outcome of the last (re)compile. `reload` compiles in
    the calling thread and swaps only when every pack compiles."""

    def __init__(self, refs: tuple[str, ...]) -> None:
        self.refs = refs
        self.current = compile_packs(refs, 1)
        self.last_reload: dict = {"ok": True, "time": _now(), "generation": 1}
        self._lock = threading.Lock()

    def reload(self) -> dict:
        with self._lock:
            generation = self.current.generation + 1
            try:
                self.current = compile_packs(self.refs, generation)
                self.last_reload = {"ok": True, "time": _now(), "generation": generation}
            except DiagnosticError as error:
                self.last_reload = {"ok": False, "time": _now(), "generation": self.current.generation,
                                    "errors": [d.as_json() for d in error.diagnostics]}
            return self.last_reload


def describe(served: ServedPack, as_of: date) -> dict:
    """A served pack as GET /v1/packs shows it: identity, effective dates, codes, and the
    parameter values in force on `as_of`."""
    pack, day = served.pack, as_of.isoformat()
    parameters = []
    for name, parameter in pack.parameters.items():
        dated = parameter.at(day)
        parameters.append({"name": name, "effective": dated[0] if dated else None,
                           "value": to_json_value(dated[1]) if dated else None,
                           "citation": dated[2] if dated else None, "confidence": dated[3] if dated else None})
    return {"id": pack.id, "version": pack.version, "fee_schedule_year": pack.fee_schedule_year, "title": pack.title,
            "effective": {"from": pack.effective_from, "to": pack.effective_to}, "sha256": pack.sha256,
            "source": "bundled" if served.ref in bundled_ids() else served.ref, "as_of": day,
            "codes": [{"code": c.code, "descriptor": c.descriptor, "clock": c.clock, "max_units": c.max_units}
                      for c in pack.codes.values()],
            "parameters": parameters,
            "options": [{"name": o.name, "type": o.type, "default": to_json_value(o.default), "description": o.description}
                        for o in pack.options.values()]}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
