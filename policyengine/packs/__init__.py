"""Rule packs: finding, loading, validating and compiling them."""
from __future__ import annotations

import functools
from pathlib import Path

from ..diagnostics import Diagnostic, DiagnosticError
from ..lang.runtime import last_day
from .compiler import CompiledPack, compile_pack
from .loader import bundled_ids


@functools.cache
def bundled_pack(pack_id: str) -> CompiledPack:
    """A bundled pack, compiled once per process."""
    return compile_pack(pack_id)


def load_pack(ref: str | Path) -> CompiledPack:
    """A pack directory (compiled afresh) or a bundled pack id (compiled once)."""
    if isinstance(ref, str) and ref in bundled_ids():
        return bundled_pack(ref)
    return compile_pack(ref)


@functools.lru_cache(maxsize=512)
def pack_for_month(month: str) -> CompiledPack:
    """The bundled pack effective on the last day of `month` (YYYY-MM); looked up once per month."""
    day = last_day(month)
    for pack_id in bundled_ids():
        pack = bundled_pack(pack_id)
        if pack.covers(day):
            return pack
    raise DiagnosticError([Diagnostic("facts.no_pack", f"no bundled rule pack is effective for {month}", where="/month",
                                      hint="bundled packs: " + ", ".join(bundled_ids()))])


__all__ = ["CompiledPack", "bundled_ids", "compile_pack", "load_pack", "pack_for_month"]
