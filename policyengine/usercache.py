"""The user's own cache folder (`$XDG_CACHE_HOME/policyengine`, else `~/.cache/policyengine`),
where what is costly to build at start-up is kept between runs: Lark's parser and compiled
packs. Both are pickles, so the folder is trusted only when it is private: made 0700, owned
by this user and writable by no one else; never the shared temporary folder, where another
user could leave a file for this process to unpickle.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path


def cache_folder() -> Path | None:
    """The folder, made if need be; None (build everything, keep nothing) when it cannot be
    made or is not private."""
    folder = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "policyengine"
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        status = folder.stat()
    except OSError:
        return None
    if status.st_uid != os.getuid() or status.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return None
    return folder
