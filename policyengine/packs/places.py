"""Where rule packs are: the bundled ones, and a pack named by id or by path.

Kept apart from reading them (`loader.py`), which needs YAML and JSON Schema, so that
finding a pack compiled earlier (`cache.py`) costs neither.
"""
from __future__ import annotations

import functools
from importlib.resources import files
from pathlib import Path

from ..diagnostics import Diagnostic, DiagnosticError

#: the file that makes a directory a rule pack
PACK_FILE = "pack.yaml"


def bundled_root() -> Path:
    return Path(str(files("policyengine.bundled.rulepacks")))


@functools.cache
def bundled_ids() -> tuple[str, ...]:
    """The ids of the packs installed with the package (listed once per process)."""
    return tuple(sorted(p.name for p in bundled_root().iterdir() if (p / PACK_FILE).is_file()))


class PackNotFound(DiagnosticError):
    """No pack at the place named: a usage error, not an invalid pack."""


def resolve_pack_dir(ref: str | Path, relative_to: Path | None = None) -> Path:
    """A pack directory: the bundled pack when `ref` is a bundled id (whatever folder of
    that name is nearby), else a path to the directory or its pack.yaml (relative to
    `relative_to` first, for `extends:`). A local pack is named by a path: `./cms-rpm-2026`."""
    if isinstance(ref, str) and ref in bundled_ids():
        return bundled_root() / ref
    candidates = [Path(ref)]
    if relative_to is not None:
        candidates.insert(0, relative_to / ref)
    for path in candidates:
        if path.is_file() and path.name == PACK_FILE:
            return path.parent
        if (path / PACK_FILE).is_file():
            return path
    known = ", ".join(bundled_ids()) or "none"
    raise PackNotFound([Diagnostic("pack.not_found", f"no rule pack at '{ref}'", where=str(ref),
                                   hint=f"give a pack directory or a bundled pack id ({known})")])
