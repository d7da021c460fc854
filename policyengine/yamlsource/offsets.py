"""Where each character of a YAML scalar's value sits in its file.

A pack's expression is a YAML scalar: plain, quoted (with escapes) or a block (`|`, `>`,
folded and indented). To put a caret under the right column of the file, not of the value,
`scalar_offsets` maps every character of the value back to its offset in the file.
"""
from __future__ import annotations

from yaml.nodes import ScalarNode

# A character of a scalar as YAML reads it, with its file offset. None stands for an escape
# sequence, which becomes one (any) character of the value.
_Char = tuple[str | None, int]


def scalar_offsets(text: str, node: ScalarNode) -> list[int]:
    """File offset of each character of a scalar's value, plus one for its end."""
    start, end = node.start_mark.index, node.end_mark.index
    if node.style in ("|", ">"):
        chars = _block_chars(text, start, end, node.value)
    elif node.style in ("'", '"'):  # without its quotes
        chars = _flow_chars(text, start + 1, end - 1, node.style)
    else:
        chars = _flow_chars(text, start, end, "")
    return _match(node.value, chars, start)


def _flow_chars(text: str, start: int, end: int, quote: str) -> list[_Char]:
    """A plain or quoted scalar's characters before line folding: the whitespace around
    each line is dropped, line breaks are kept for `_match` to fold, and an escape sequence
    becomes one wildcard. (The doubled quote of a single-quoted `''` is left in: `_match`
    skips it like any other character YAML dropped.)"""
    chars: list[_Char] = []
    trailing: list[_Char] = []  # whitespace that is content only if the line goes on
    at_line_start = False
    i = start
    while i < end:
        ch = text[i]
        if ch == "\n":
            chars.append((ch, i))
            trailing, at_line_start = [], True
            i += 1
        elif ch in " \t\r":
            if not at_line_start:
                trailing.append((ch, i))
            i += 1
        elif quote == '"' and ch == "\\":
            chars += trailing
            trailing = []
            at_line_start = text[i + 1:i + 2] == "\n"  # an escaped line break joins the lines
            i = i + 2 if at_line_start else _escape(text, i, chars)
        else:
            chars += trailing
            chars.append((ch, i))
            trailing, at_line_start = [], False
            i += 1
    return chars + trailing


_HEX_DIGITS = {"x": 2, "u": 4, "U": 8}


def _escape(text: str, i: int, chars: list[_Char]) -> int:
    """Append the wildcard for the escape sequence at text[i]; return where the sequence ends.
    An escaped character that stands for itself (`\\"`, `\\\\`) is the wildcard's offset."""
    code = text[i + 1:i + 2]
    chars.append((None, i + 1 if code and code in '"\\/ ' else i))
    return i + 2 + _HEX_DIGITS.get(code, 0)


def _block_chars(text: str, start: int, end: int, value: str) -> list[_Char]:
    """A `|` or `>` scalar's characters: the lines after its header, less the indentation."""
    body = text.find("\n", start, end) + 1
    if body == 0:
        return []
    indent = _block_indent(text[body:end], value)
    chars: list[_Char] = []
    line = body
    while line < end:
        line_end = end if (found := text.find("\n", line, end)) < 0 else found
        content = line
        while content < min(line + indent, line_end) and text[content] == " ":
            content += 1
        chars.extend((text[k], k) for k in range(content, line_end))
        if line_end < end:
            chars.append(("\n", line_end))
        line = line_end + 1
    return chars


def _block_indent(body: str, value: str) -> int:
    """Spaces before the block's first content line, less those the value keeps."""
    first_line = next((line for line in body.split("\n") if line.strip()), "")
    first_kept = next((line for line in value.split("\n") if line.strip()), "")
    return max(_leading_spaces(first_line) - _leading_spaces(first_kept), 0)


def _leading_spaces(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _match(value: str, chars: list[_Char], start: int) -> list[int]:
    """Pair each value character with the next file character that can produce it,
    skipping those YAML dropped; a space can be a folded line break."""
    offsets: list[int] = []
    next_char = 0
    for ch in value:
        k = next_char
        while k < len(chars) and not _produces(chars[k][0], ch):
            k += 1
        if k < len(chars):
            offsets.append(chars[k][1])
            next_char = k + 1
        else:  # an escape this matcher does not model: stay in range, keep going
            offsets.append(offsets[-1] if offsets else start)
    offsets.append(offsets[-1] + 1 if offsets else start)
    return offsets


def _produces(file_char: str | None, value_char: str) -> bool:
    return file_char is None or file_char == value_char or (file_char == "\n" and value_char == " ")
