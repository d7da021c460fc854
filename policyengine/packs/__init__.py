"""Rule packs: finding, loading, validating and compiling them."""
from __future__ import annotations

import functools
from pathlib import Path

from ..diagnostics import Diagnostic, DiagnosticError
from ..lang.runtime import last_day
from .cache import cached_compile
from .places import PackNotFound, bundled_ids, resolve_pack_dir
from .model import CompiledPack


def compile_pack(ref: str | Path) -> CompiledPack:
    """Load (with everything it extends), validate and compile a pack, anew; raises
    DiagnosticError. The compiler, and with it Lark, YAML and JSON Schema, is imported by
    the first compile: a command whose pack was kept (`cache.py`) does without them."""
    from . import compiler
    return compiler.compile_pack(ref)


@functools.cache
def bundled_pack(pack_id: str) -> CompiledPack:
    """A bundled pack, compiled once per process (or kept from an earlier run: `cache.py`)."""
    return cached_compile(resolve_pack_dir(pack_id).resolve(), compile_pack)


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
    pack = cached_compile(directory, compile_pack)
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
