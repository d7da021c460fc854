"""A stand-in for stderr on a terminal, for the tests of what commands show only there (a progress bar)."""
from __future__ import annotations

import io


class Terminal(io.StringIO):
    """Text written to it is kept, and it says it is a terminal."""

    def isatty(self) -> bool:
        return True
