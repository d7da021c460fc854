"""Diagnostics: what went wrong, where, and how to fix it.

Every problem the project reports about user input (a pack file, an expression, a facts
document) is a `Diagnostic`: a stable dotted code that tests and JSON output key on, a
message, an optional source span and an optional hint. Spans point into a `SourceText`; an
expression embedded in a YAML file is an `EmbeddedSource` whose offsets map back into the
file, so a caret lands on the right column of the `.yaml` file, not of the YAML value.
"""
from __future__ import annotations

import bisect
import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path


#: the most characters of a source line shown under a diagnostic
SNIPPET_WIDTH = 160


class SourceText:
    """A named text (a file, or an expression typed on a command line)."""

    __slots__ = ("name", "text", "_line_starts")

    def __init__(self, name: str, text: str) -> None:
        self.name = name
        self.text = text
        self._line_starts: list[int] | None = None

    def __repr__(self) -> str:
        return f"SourceText({self.name!r})"

    def span(self, start: int, end: int) -> Span:
        """The span of text[start:end] in this source."""
        return Span(self, start, end)

    def line_col(self, offset: int) -> tuple[int, int]:
        """1-based line and column of an offset."""
        if self._line_starts is None:
            starts = [0]
            starts.extend(i + 1 for i, ch in enumerate(self.text) if ch == "\n")
            self._line_starts = starts
        line = bisect.bisect_right(self._line_starts, offset) - 1
        return line + 1, offset - self._line_starts[line] + 1

    def line_text(self, line: int) -> str:
        lines = self.text.split("\n")
        return lines[line - 1] if 0 < line <= len(lines) else ""


class EmbeddedSource(SourceText):
    """Text that sits inside another file, e.g. an expression inside a YAML scalar.

    `offsets[i]` is the offset in `file` of character i of `text` (one more entry for the
    end), so spans created here are spans of the file.
    """

    __slots__ = ("file", "offsets")

    def __init__(self, file: SourceText, text: str, offsets: Sequence[int]) -> None:
        super().__init__(file.name, text)
        if len(offsets) != len(text) + 1:
            raise ValueError("an embedded source needs one offset per character, plus the end")
        self.file = file
        self.offsets = offsets

    def span(self, start: int, end: int) -> Span:
        start_off = self.offsets[min(start, len(self.text))]
        end_off = self.offsets[min(end, len(self.text))] if end > start else start_off
        return Span(self.file, start_off, max(end_off, start_off))


@dataclass(frozen=True, slots=True)
class Span:
    """A half-open range of offsets in a source text."""

    source: SourceText = field(compare=False, repr=False)
    start: int
    end: int

    @property
    def line(self) -> int:
        return self.source.line_col(self.start)[0]

    @property
    def column(self) -> int:
        return self.source.line_col(self.start)[1]

    @property
    def location(self) -> str:
        line, col = self.source.line_col(self.start)
        return f"{self.source.name}:{line}:{col}"

    @property
    def text(self) -> str:
        """The spanned source text on one line: runs of white space, line breaks among
        them, read as one space (how expressions are shown in traces and explanations)."""
        return " ".join(self.source.text[self.start:self.end].split())

    def snippet(self) -> str:
        """The source line with carets under the span (its first line only). A line longer
        than `SNIPPET_WIDTH` (a megabyte of JSON on one line) is cut to the part around the
        span, with "…" where it is cut."""
        line, col = self.source.line_col(self.start)
        text = self.source.line_text(line)
        end_line, end_col = self.source.line_col(max(self.end, self.start))
        width = max((end_col - col) if end_line == line else len(text) - col + 1, 1)
        if len(text) > SNIPPET_WIDTH:
            first = max(col - 1 - SNIPPET_WIDTH // 2, 0)
            shown = text[first:first + SNIPPET_WIDTH]
            lead, tail = ("…" if first > 0 else ""), ("…" if first + SNIPPET_WIDTH < len(text) else "")
            text, col = lead + shown + tail, col - first + len(lead)
            width = min(width, SNIPPET_WIDTH - (col - 1 - len(lead)))
        gutter = f"{line:>5} | "
        pad = " " * (len(gutter) - 2) + "| "
        return f"{gutter}{text}\n{pad}{' ' * (col - 1)}{'^' * max(width, 1)}"


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem: a stable code, a message, where, and a hint."""

    code: str
    message: str
    span: Span | None = None
    hint: str | None = None
    notes: tuple[str, ...] = ()
    severity: str = "error"
    where: str | None = None  # a location given without source text, e.g. a JSON pointer

    @property
    def location(self) -> str:
        if self.span is not None:
            return self.span.location
        return self.where or ""

    def as_json(self) -> dict:
        """The problem as JSON data: code, message, and where and hint when known (a batch's
        error record and the service's problem documents both write it so)."""
        out = {"code": self.code, "message": self.message}
        if self.location:
            out["where"] = self.location
        if self.hint:
            out["hint"] = self.hint
        return out

    def sort_key(self) -> tuple:
        if self.span is not None:
            return (self.span.source.name, self.span.start, self.code, self.message)
        return (self.where or "", -1, self.code, self.message)

    def headline(self) -> str:
        loc = self.location
        prefix = f"{loc}: " if loc else ""
        return f"{prefix}{self.message} [{self.code}]"

    def render(self) -> str:
        out = [self.headline()]
        if self.span is not None and self.span.source.text:
            out.append(self.span.snippet())
        out.extend(f"  {note}" for note in self.notes)
        if self.hint:
            out.append(f"  help: {self.hint}")
        return "\n".join(out)


def sort_diagnostics(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    return sorted(diagnostics, key=Diagnostic.sort_key)


def render_all(diagnostics: Sequence[Diagnostic]) -> str:
    """Every diagnostic in order, then a count line."""
    errors = sum(1 for d in diagnostics if d.severity == "error")
    body = "\n".join(d.render() for d in diagnostics)
    return f"{body}\n{errors} error{'s' if errors != 1 else ''}"


class DiagnosticError(Exception):
    """Raised with every diagnostic found, sorted by location."""

    def __init__(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.diagnostics = sort_diagnostics(diagnostics)
        super().__init__(render_all(self.diagnostics))


def did_you_mean(word: str, candidates: Iterable[str]) -> str | None:
    """The closest candidate to a misspelt word, if one is close enough."""
    matches = difflib.get_close_matches(word, sorted(set(candidates)), n=1, cutoff=0.7)
    return matches[0] if matches else None


def suggestion_suffix(word: str, candidates: Iterable[str]) -> str:
    """' (did you mean 'x'?)', or '' when nothing is close."""
    match = did_you_mean(word, candidates)
    return f" (did you mean '{match}'?)" if match else ""


def shown_path(path: Path) -> Path:
    """A file as messages name it, as a user would type it: relative to the working
    directory when inside it."""
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path
