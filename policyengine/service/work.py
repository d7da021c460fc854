"""What the service does for a request once it has the body: plain functions, run in a
worker thread so the event loop stays free (health checks answer while a heavy month is
decided) and a time limit can answer for them.

Each calls the public API the command line calls: `parse_facts_text` and `evaluate` for
a decision (so the bytes are `policyengine evaluate`'s), the batch's `Evaluator` and
`read_chunks` for JSON Lines (so each line's output is `policyengine batch`'s), and
`verify_decision` for verify. A decision comes back with its decision log row, which
the service commits before it sends the answer.
"""
from __future__ import annotations

import io
import json
from dataclasses import dataclass
from typing import Any

from ..api import evaluate, to_json
from ..batch import Evaluator, check_arguments, read_chunks
from ..decisionlog import LoggedDecision, new_row
from ..decisionlog.store import practitioner_of, text_sha256
from ..diagnostics import Diagnostic, DiagnosticError
from ..engine import resolve_options
from ..engine.decide import TRACE_FORMS
from ..explain.verify import VerifyInputError, check_decision_shape, verify_decision
from ..facts import parse_facts_line, parse_facts_text
from ..facts.jsondata import read_json
from ..optionpairs import parse_option_pairs
from .metrics import Metrics, outcome
from .packs import PackSet, ServedPack
from .problems import Problem

#: what facts read from a request body are called in messages (the command line says <stdin>)
BODY_NAME = "<body>"


@dataclass(frozen=True)
class Settings:
    """A decision request's query: the pack asked for (None: the bundled pack for the
    month), the options and the trace form."""

    pack_id: str | None
    options: dict[str, str]
    trace: str

    @classmethod
    def from_query(cls, pack: list[str], option: list[str], trace: list[str], default_trace: str) -> Settings:
        if len(pack) > 1 or len(trace) > 1:
            raise Problem.of(400, "service.bad_parameter", "pack and trace are given at most once", where="?")
        form = trace[0] if trace else default_trace
        if form not in TRACE_FORMS:
            raise Problem.of(400, "service.bad_parameter", f"trace must be one of {', '.join(TRACE_FORMS)}, not {form!r}",
                             where="?trace")
        try:
            options = parse_option_pairs(option)
        except ValueError as error:
            raise Problem.of(400, "service.bad_option", str(error), where="?option") from None
        return cls(pack[0] if pack else None, options, form)

    def served(self, packs: PackSet) -> ServedPack | None:
        return packs.named(self.pack_id) if self.pack_id is not None else None

    def request_sha256(self, body_text: str) -> str:
        """What was asked, as a hash: a retry under an Idempotency-Key must ask the same."""
        asked = json.dumps([self.pack_id, sorted(self.options.items()), self.trace, body_text])
        return text_sha256(asked)


def body_text(body: bytes) -> str:
    """The body as text the way the command line reads a file: strict UTF-8, universal newlines."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise DiagnosticError([Diagnostic("facts.malformed", f"not valid UTF-8: {error.reason} at byte {error.start}",
                                          where=BODY_NAME)]) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


@dataclass(frozen=True)
class Decided:
    """A decision as served, and its row for the decision log (None: no log is kept)."""

    text: str
    decision: dict
    row: LoggedDecision | None


def decide_one(body: bytes, settings: Settings, packs: PackSet, logged: bool, caller: str, metrics: Metrics,
               idempotency_key: str | None = None) -> Decided:
    """The decision for a facts body, as `policyengine evaluate` prints it, and its log row
    (under the caller's Idempotency-Key, if one was sent)."""
    served = settings.served(packs)
    try:
        text = body_text(body)
        facts = parse_facts_text(text, BODY_NAME)
        decision = evaluate(facts, served.pack if served else None, settings.options, settings.trace)
    except DiagnosticError as error:
        metrics.decision(served.pack.id if served else "-", "error")
        raise Problem.from_error(error) from None
    output = to_json(decision)
    metrics.decision(decision["pack"]["id"], outcome(decision))
    row = None
    if logged:
        row = new_row(decision, output, text, caller=caller, pack_ref=served.ref if served else decision["pack"]["id"],
                      trace=settings.trace, compact=False, practitioner=practitioner_of(facts),
                      idempotency_key=idempotency_key,
                      request_sha256=settings.request_sha256(text) if idempotency_key is not None else None)
    return Decided(output, decision, row)


class BatchDecider:
    """Decides the lines of a batch body as they arrive, a chunk at a time, each line as
    `policyengine batch` does (one output line per input line, in order)."""

    def __init__(self, settings: Settings, packs: PackSet, logged: bool, caller: str, metrics: Metrics) -> None:
        self.served = settings.served(packs)
        self.settings = settings
        self.evaluator = Evaluator(self.served.pack if self.served else None, settings.options, settings.trace)
        self.logged, self.caller, self.metrics = logged, caller, metrics
        self.next_line = 1

    def check(self) -> None:
        """Refuse options the pack does not have before any line is read (`batch`'s exit 2)."""
        if self.served is not None:
            resolve_options(self.served.pack, self.settings.options)
        else:
            check_arguments(None, self.settings.options, self.settings.trace)

    def decide(self, complete_lines: bytes) -> tuple[str, list[LoggedDecision]]:
        """The output for whole lines (the body's last line may lack its line end), and the
        log rows of their decisions."""
        out: list[str] = []
        rows: list[LoggedDecision] = []
        for first, lines, _ in read_chunks(io.BytesIO(complete_lines), first=self.next_line):
            for number, raw in enumerate(lines, first):
                try:
                    facts = parse_facts_line(raw)
                except DiagnosticError:
                    line, decision, error_code = self.evaluator.decide(number, raw)  # the line's error record
                else:
                    line, decision, error_code = self.evaluator.decide_read(number, facts)
                out.append(line + "\n")
                self._count(decision, error_code)
                if decision is not None and self.logged:
                    rows.append(new_row(decision, line, body_text(raw).rstrip("\n"), caller=self.caller,
                                        pack_ref=self.served.ref if self.served else decision["pack"]["id"],
                                        trace=self.settings.trace, compact=True, practitioner=practitioner_of(facts)))
            self.next_line = first + len(lines)
        return "".join(out), rows

    def _count(self, decision: dict | None, error_code: str | None) -> None:
        if decision is not None:
            self.metrics.decision(decision["pack"]["id"], outcome(decision))
        else:
            self.metrics.decision(self.served.pack.id if self.served else "-", "error")
            self.metrics.error(str(error_code))


def verify_body(body: bytes, packs: PackSet) -> dict:
    """POST /v1/verify: {"decision": ..., "facts": ...} re-derived with the served pack the
    decision names, as `policyengine verify --format json` prints it."""
    request = _json_object(body)
    decision, facts = request.get("decision"), request.get("facts")
    if facts is None:
        raise Problem.of(400, "service.bad_body", "the body needs the facts the decision was made from", where="/facts")
    try:
        check_decision_shape(decision)
        assert isinstance(decision, dict)  # what check_decision_shape confirmed
        return verify_decision(decision, facts, packs.named(decision["pack"]["id"]).pack).as_json()
    except VerifyInputError as error:
        raise Problem.of(400, "service.not_a_decision", str(error), where="/decision") from None
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise Problem.of(400, "service.not_a_decision", f"the decision cannot be verified: {error!r}",
                         where="/decision") from None
    except DiagnosticError as error:
        raise Problem.from_error(error) from None


def _json_object(body: bytes) -> dict[str, Any]:
    """The body as a JSON object, read as facts are (fractions as Decimal, a key given twice refused)."""
    try:
        data = read_json(body_text(body))
    except json.JSONDecodeError as error:
        raise Problem.of(400, "service.bad_body", f"not valid JSON: {error.msg}",
                         where=f"{BODY_NAME}:{error.lineno}:{error.colno}") from None
    except DiagnosticError as error:
        raise Problem(400, error.diagnostics) from None
    if not isinstance(data, dict):
        raise Problem.of(400, "service.bad_body", "the body is not a JSON object", where="/")
    return data
