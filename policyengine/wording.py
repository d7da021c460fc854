"""How a count reads in a message: `1 error`, `2 errors`, `1,204 records`."""
from __future__ import annotations


def counted(count: int, noun: str) -> str:
    """`count` and `noun`, the noun in the plural unless the count is one."""
    return f"{count:,} {noun}{'s' if count != 1 else ''}"
