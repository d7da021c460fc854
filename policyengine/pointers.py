"""JSON Pointers (RFC 6901): how a place in a document is named, written in one place.

Facts errors, evidence in findings, the facts a trace read and the differences `verify`
reports are all pointers such as `/interactions/3/duration_seconds`; a key holding `/` or
`~` is escaped (`~1`, `~0`) so every pointer names exactly one place.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def escape(token: Any) -> str:
    """One reference token, escaped: 'a/b' -> 'a~1b', 'a~b' -> 'a~0b'."""
    text = str(token)
    if "~" in text or "/" in text:
        return text.replace("~", "~0").replace("/", "~1")
    return text


def join(base: str, token: Any) -> str:
    """The pointer of `token` inside the value at `base`: join('/interactions', 3) -> '/interactions/3'."""
    return f"{base}/{escape(token)}"


def items(base: str, count: int) -> list[str]:
    """The pointers of the first `count` items of the list at `base` (an index needs no
    escaping): items('/days', 2) -> ['/days/0', '/days/1']."""
    return [f"{base}/{i}" for i in range(count)]


def pointer(path: Iterable[Any]) -> str:
    """The pointer of a path of keys and indices: ('interactions', 3, 'date') -> '/interactions/3/date'."""
    return "".join("/" + escape(token) for token in path)


def tokens(text: str) -> list[str]:
    """The unescaped reference tokens of a pointer: '/a~1b/0' -> ['a/b', '0']; '' -> []."""
    if not text:
        return []
    if not text.startswith("/"):
        raise ValueError(f"not a JSON pointer: {text!r}")
    return [token.replace("~1", "/").replace("~0", "~") for token in text[1:].split("/")]


def array_index(token: str) -> int | None:
    """The index a token names in an array ('0', '12'; not '012' or '-1'), or None."""
    if token.isascii() and token.isdigit() and (token == "0" or not token.startswith("0")):
        return int(token)
    return None


#: what `value_at` gives for a pointer that names nothing
MISSING: Any = type("Missing", (), {"__repr__": lambda self: "<missing>", "__slots__": ()})()


def value_at(document: Any, text: str) -> Any:
    """The value the pointer names in `document`, or MISSING."""
    node = document
    for token in tokens(text):
        index = array_index(token) if isinstance(node, list) else None
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif index is not None and index < len(node):
            node = node[index]
        else:
            return MISSING
    return node


def resolves(document: Any, text: str) -> bool:
    """Whether the pointer names a value in `document`."""
    return value_at(document, text) is not MISSING


def document_order(text: str) -> tuple:
    """A sort key for pointers in document order: '/interactions/2' before '/interactions/10'."""
    return tuple((1, 0, token) if (index := array_index(token)) is None else (0, index, "") for token in tokens(text))
