"""Where a command writes, checked before it reads anything.

Every file a command writes goes first to `partial_path(path)` and is renamed into place
when complete. An output is refused (a diagnostic at its option) when its folder does not
exist, when it is a folder, when it (or its partial file) is one of the inputs, by path,
symlink or inode, or when two options would write the same file.
"""
from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from .diagnostics import Diagnostic


def partial_path(path: str | Path) -> Path:
    """Where `path` is written until it is complete."""
    return Path(f"{path}.partial")


def output_problems(prefix: str, inputs: Iterable[str | Path], outputs: Sequence[tuple[str, str | Path | None]],
                    also_written: Sequence[tuple[str, Path]] = ()) -> list[Diagnostic]:
    """The problems of writing `outputs` ((option, path); None or '-' is not a file) and
    `also_written` (files an option writes besides its output) while reading `inputs`.
    Codes are `{prefix}.no_folder`, `.is_folder` and `.same_file`."""
    problems: list[Diagnostic] = []
    written: list[tuple[str, Path]] = []
    for flag, given in outputs:
        if given is None or str(given) == "-":
            continue
        path = Path(given)
        if not path.parent.is_dir():
            problems.append(Diagnostic(f"{prefix}.no_folder", f"the folder {path.parent} does not exist", where=flag,
                                       hint="create it first; nothing was written"))
        elif path.is_dir():
            problems.append(Diagnostic(f"{prefix}.is_folder", f"{path} is a folder", where=flag,
                                       hint="give the name of a file to write"))
        written += [(flag, path), (flag, partial_path(path))]
    written += also_written
    for source in inputs:
        problems += [Diagnostic(f"{prefix}.same_file", f"{path} is the input {source}: writing it would destroy the input",
                                where=flag) for flag, path in written if _same_file(source, path)]
    problems += [Diagnostic(f"{prefix}.same_file", f"{path} is also written by {other_flag} ({other})", where=flag)
                 for i, (flag, path) in enumerate(written) for other_flag, other in written[:i]
                 if flag != other_flag and _same_file(path, other)]
    return problems


def _same_file(a: str | Path, b: str | Path) -> bool:
    try:
        return os.path.samefile(a, b)  # symlinks and hard links too
    except OSError:  # one does not exist (yet): where each would be
        return Path(a).resolve() == Path(b).resolve()
