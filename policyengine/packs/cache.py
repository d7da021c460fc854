"""Compiled packs kept between runs, so a command that decides one month does not compile
its pack again (about 90 ms for a bundled pack; loading a kept one costs about 20).

A kept pack is one file per pack directory in the user's private cache folder
(`usercache.py`). It is used only when everything the pack was compiled from is as it was:

- the engine: its version, Python's, and the size and time of each of its modules and
  schemas (an edited checkout is another engine);
- each file of the pack and of the packs it extends, by the sha256 of its bytes (so the
  pack's own sha256, which hashes what they say, is the same), and by the name messages
  give it from here (a compiled pack carries its files' names in its spans);
- the kept bytes themselves, by their sha256 (a damaged entry is not unpickled).

Anything else (an entry missing, stale, damaged or unreadable) and the pack is compiled
again and its entry rewritten. Only an invalid pack is never kept: compiling it again is
how its errors are reported. `POLICYENGINE_PACK_CACHE=off` turns the cache off.
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
import pickle
import sys
import tempfile
from collections.abc import Callable
from importlib.resources import files
from pathlib import Path

from ..diagnostics import shown_path
from ..usercache import cache_folder
from ..version import __version__
from .model import CompiledPack

#: the most packs kept; writing one more removes the least recently used
MAX_ENTRIES = 64
_FOLDER = "packs"


def cached_compile(directory: Path, compile_pack: Callable[[Path], CompiledPack]) -> CompiledPack:
    """The pack in `directory` (resolved), kept from an earlier run when nothing it was
    compiled from has changed, else compiled by `compile_pack` (which raises
    DiagnosticError for an invalid pack) and kept."""
    folder = None if os.environ.get("POLICYENGINE_PACK_CACHE") == "off" else cache_folder()
    if folder is None:
        return compile_pack(directory)
    entry = folder / _FOLDER / (hashlib.sha256(str(directory).encode()).hexdigest()[:32] + ".pack")
    kept = _read(entry)
    if kept is not None:
        return kept
    pack = compile_pack(directory)
    _write(entry, pack)
    return pack


@functools.cache
def engine_stamp() -> str:
    """What identifies the engine that compiles: its version, Python's, and the size and
    modification time of every module and bundled schema (once per process)."""
    package = Path(__file__).resolve().parents[1]
    schemas = Path(str(files("policyengine.bundled.schemas")))
    stamps = [__version__, sys.version]
    for path in (*sorted(package.rglob("*.py")), *sorted(schemas.glob("*.json"))):
        status = path.stat()
        stamps.append(f"{path} {status.st_size} {status.st_mtime_ns}")
    return hashlib.sha256("\n".join(stamps).encode()).hexdigest()


def _sources(paths: list[Path]) -> list[list[str]]:
    """Each file a pack was compiled from: its path, the name messages give it from the
    working directory, and the sha256 of its bytes now."""
    return [[str(path), str(shown_path(path)), hashlib.sha256(path.read_bytes()).hexdigest()] for path in paths]


def _read(entry: Path) -> CompiledPack | None:
    """The kept pack, or None when there is none or it may not be used (the module's rules)."""
    try:
        with entry.open("rb") as file:
            header = json.loads(file.readline())
            payload = file.read()
        kept_sources = header["sources"]
        if (header["engine"] != engine_stamp() or header["payload"] != hashlib.sha256(payload).hexdigest()
                or kept_sources != _sources([Path(path) for path, *_ in kept_sources])):
            return None
        pack = pickle.loads(payload)  # noqa: S301 - a private folder, and bytes whose hash was just checked
        if not isinstance(pack, CompiledPack):
            return None
        os.utime(entry)  # recently used
        return pack
    except Exception:  # noqa: BLE001 - a damaged entry can fail in any way; the pack is compiled again
        return None


def _write(entry: Path, pack: CompiledPack) -> None:
    """Keep a freshly compiled pack; a pack that cannot be kept (a full disk, a source file
    gone meanwhile) is compiled again next time, nothing else."""
    writing = None
    try:
        payload = pickle.dumps(pack, protocol=pickle.HIGHEST_PROTOCOL)
        header = {"engine": engine_stamp(), "sources": _sources(list(pack.source_files)),
                  "payload": hashlib.sha256(payload).hexdigest()}
        entry.parent.mkdir(mode=0o700, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=entry.parent, prefix=".writing-", delete=False) as file:
            writing = Path(file.name)
            file.write(json.dumps(header).encode() + b"\n" + payload)
        os.replace(writing, entry)
        writing = None
        _prune(entry.parent)
    except (OSError, pickle.PicklingError):
        return
    finally:
        if writing is not None:
            writing.unlink(missing_ok=True)


def _prune(folder: Path) -> None:
    """Remove the least recently used entries beyond MAX_ENTRIES."""
    entries = sorted(folder.glob("*.pack"), key=lambda path: path.stat().st_mtime_ns)
    for stale in entries[:-MAX_ENTRIES]:
        stale.unlink(missing_ok=True)
