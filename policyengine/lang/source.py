"""Writing a generated function: its lines at their indentation, and the constants it names.

An expression's recording function (`recorder.py`), the pack's program
(`engine/program.py`) and its decision's assembly (`engine/assembly.py`) are Python
written when a pack compiles; each writes it through a `Source`.
"""
from __future__ import annotations

from typing import Any


class Source:
    def __init__(self, indent: int = 1, prefix: str = "_k") -> None:
        #: the values the source names (`_k0`, `_k1`, ...), for its namespace
        self.constants: dict[str, Any] = {}
        self.prefix = prefix
        self.lines: list[str] = []
        self.indent = indent

    def line(self, text: str) -> None:
        self.lines.append("    " * self.indent + text)

    def constant(self, value: Any) -> str:
        """The name the source gives `value`, bound in the namespace it runs in."""
        name = f"{self.prefix}{len(self.constants)}"
        self.constants[name] = value
        return name

    @property
    def text(self) -> str:
        return "\n".join(self.lines)
