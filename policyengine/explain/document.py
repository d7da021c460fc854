"""An explanation as a format-neutral document: what every view says, as typed parts.

`sentences.py` builds it from an `Explanation`; `text.py`, `markdown.py` and `html.py` lay
it out. A sentence is a tuple of spans; a span says what a part is (a code or pointer,
an emphasised figure, a line break), never how a format draws it.

Where the views worded a part differently before they shared one builder, the span says
so (`differs`): the one place to read, and to remove, what a format still says its own way.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Span:
    words: str
    #: what the part is: "text" (words), "code" (a name, pointer or expression), "strong"
    #: (a figure to stand out), "small" (an aside), "sep" (between the items of a header
    #: or a badge), "break" (a line break inside a paragraph or cell)
    kind: str = "text"
    #: how a format says this part instead: other spans, or none (the format leaves it out)
    differs: tuple[tuple[str, Sentence], ...] = ()

    def shown_in(self, output_format: str) -> Sentence:
        """This part as `output_format` says it."""
        return next((spans for name, spans in self.differs if name == output_format), (self,))


Sentence = tuple[Span, ...]


def span(words: str, kind: str = "text", **differs: str | Span | Sentence | None) -> Span:
    """A part, and how a format words it instead (`text="..."`; None: leaves it out; a
    string keeps the kind, a span or a sentence says its own)."""
    def spans(other: str | Span | Sentence | None) -> Sentence:
        if other is None:
            return ()
        if isinstance(other, str):
            return (Span(other, kind),)
        return (other,) if isinstance(other, Span) else other
    return Span(words, kind, tuple((name, spans(other)) for name, other in differs.items()))


Parts = str | Span | tuple["Parts", ...]


def sentence(*parts: Parts) -> Sentence:
    """Parts in order: a string is plain words, a tuple its parts (empty: nothing)."""
    out: list[Span] = []
    for part in parts:
        if isinstance(part, str):
            out.append(Span(part))
        elif isinstance(part, Span):
            out.append(part)
        else:
            out.extend(sentence(*part))
    return tuple(out)


def joined(items: list[Sentence], between: str | Span = ", ") -> Sentence:
    """Items with `between` between them."""
    out: list[Span] = []
    for i, item in enumerate(items):
        if i:
            out.append(between if isinstance(between, Span) else Span(between))
        out.extend(item)
    return tuple(out)


@dataclass
class Note:
    """A call-out under the header: a pack that is not the decision's, an edited decision."""

    label: str
    body: Sentence
    warning: bool = False


@dataclass
class Header:
    title: Sentence
    #: the page's title (the HTML <title>)
    page_title: str
    #: pack, engine, facts
    meta: Sentence
    trace: Sentence
    notes: list[Note]
    total: Sentence


@dataclass
class GapList:
    """Time not counted for want of documentation: what is missing, record by record."""

    lead: Sentence
    records: list[Sentence]
    verdict: Sentence | None


@dataclass
class Line:
    words: Sentence
    #: a call-out (documentation missing) rather than a plain statement
    note: bool = False


@dataclass
class CodeCard:
    """One code's outcome: a badge, then what it says in order, then its rule."""

    code: str
    badge: Sentence
    #: "ok" billed, "doc" documentation would change it, "no" not billed
    tone: str
    descriptor: str | None
    says: list[Line | GapList]
    rule: Sentence


@dataclass
class Column:
    name: Sentence
    numeric: bool = False
    #: its values read as one word (a date): a view that wraps lines does not break them
    whole: bool = False
    #: its cells link to the row's fact in the Sources section (`Row.source`), where a view links
    links: bool = False


@dataclass
class Row:
    cells: list[Sentence]
    #: the row read as one line (a view without tables)
    line: Sentence = ()
    #: "out" not counted, "gap" not counted for want of documentation
    tone: str = ""
    #: what happens at this row (a ledger's threshold crossings): (label, clock, words)
    crossings: list[tuple[Sentence, str, str]] = field(default_factory=list)
    #: the pointer of the fact this row shows, where the Sources section has a row for it:
    #: a ledger's row links there, a source row is that row
    source: str | None = None


@dataclass
class Table:
    columns: list[Column]
    rows: list[Row]


@dataclass
class LedgerView:
    title: Sentence
    definition: str
    expression: str
    table: Table
    #: the total, then what stopped or left out time, one sentence each
    summary: list[Sentence]


@dataclass
class DaysView:
    title: Sentence
    definition: str
    expression: str
    rules: Sentence
    days: list[str]
    #: the days in one line ("none" when there are none)
    listed: str
    #: a day -> the pointer of its row in the Sources section (the first transmission day
    #: on that date), where it has one
    sources: dict[str, str] = field(default_factory=dict)


@dataclass
class SourceGroup:
    name: str
    table: Table


@dataclass
class StepView:
    slot: str
    expression: str
    value: str
    parts: list[str]
    reads: Sentence | None


@dataclass
class Document:
    header: Header
    codes: list[CodeCard]
    findings: Table | None
    opportunities: list[Sentence]
    out_of_reach: list[Sentence]
    ledgers: list[LedgerView]
    days: list[DaysView]
    options: Table
    sources_lead: Sentence | None
    sources: list[SourceGroup]
    steps: list[StepView]
    parameters: Table | None


def spans_in(parts: Sentence, output_format: str) -> list[Span]:
    """A sentence's spans as `output_format` says them."""
    return [shown for part in parts for shown in part.shown_in(output_format)]
