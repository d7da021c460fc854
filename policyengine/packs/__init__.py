"""Rule packs: finding, loading, validating and compiling them."""
from __future__ import annotations

import functools
from pathlib import Path

from ..diagnostics import Diagnostic, DiagnosticError
from ..lang.runtime import last_day
from .compiler import compile_pack
from .loader import PackNotFound, bundled_ids, resolve_pack_dir
from .model import CompiledPack


@functools.cache
def bundled_pack(pack_id: str) -> CompiledPack:
    """A bundled pack, compiled once per process."""
    return compile_pack(pack_id)


def load_pack(ref: str | Path) -> CompiledPack:
    """A bundled pack id (compiled once) or a pack directory (compiled again only when one
    of the files it was compiled from has changed), so `evaluate(facts, "path/to/pack")` in
    a loop does not compile the pack for every record."""
    if isinstance(ref, str) and ref in bundled_ids():
        return bundled_pack(ref)
    directory = resolve_pack_dir(ref).resolve()
    cached = _compiled.get(directory)
    if cached is not None and cached[1] == _stamps(cached[0].source_files):
        return cached[0]
    pack = compile_pack(directory)
    _compiled[directory] = (pack, _stamps(pack.source_files))
    return pack


#: compiled packs from directories, with the modification times of their files
_compiled: dict[Path, tuple[CompiledPack, tuple[int, ...]]] = {}


def _stamps(files: tuple[Path, ...]) -> tuple[int, ...]:
    stamps = []
    for path in files:
        try:
            stamps.append(path.stat().st_mtime_ns)
        except OSError:
            stamps.append(-1)
    return tuple(stamps)


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


__all__ = ["CompiledPack", "PackNotFound", "bundled_ids", "compile_pack", "load_pack", "pack_for_month"]
