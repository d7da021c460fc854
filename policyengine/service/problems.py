"""Errors as `application/problem+json` (RFC 9457), carrying what the command line says:
each diagnostic's code, message and where (a JSON pointer into the facts, or a place in a
pack), and the command line's whole text as `detail`.

Which status: input the caller can correct is 400 (the command's exit 2); a pack that
fails at run time on valid facts (`EvaluationFailed`, the command's exit 1) is 422, so a
billing system routes that month to a person rather than retrying; the request's own
limits are 401/403/404/408/413/415; 500 only for a fault of the service itself.
"""
from __future__ import annotations

from collections.abc import Sequence

from starlette.responses import Response

from ..diagnostics import Diagnostic, DiagnosticError, render_all
from ..engine import EvaluationFailed
from ..engine.values import pretty_json
from .openapi import PROBLEM_TYPE

TITLES = {400: "Bad request", 401: "Unauthorized", 403: "Forbidden", 404: "Not found", 405: "Method not allowed",
          408: "Request timeout", 409: "Conflict", 413: "Content too large", 415: "Unsupported media type",
          422: "No decision: the pack cannot decide these facts", 500: "Internal error", 503: "Not ready"}


class Problem(Exception):
    """An error response to be sent: a status and the diagnostics it reports."""

    def __init__(self, status: int, diagnostics: Sequence[Diagnostic], headers: dict[str, str] | None = None,
                 title: str | None = None) -> None:
        super().__init__(diagnostics[0].message)
        self.status = status
        self.title = title or TITLES.get(status, "Error")
        self.diagnostics = list(diagnostics)
        self.headers = headers or {}

    @classmethod
    def of(cls, status: int, code: str, message: str, where: str | None = None, hint: str | None = None) -> Problem:
        return cls(status, [Diagnostic(code, message, where=where, hint=hint)])

    @classmethod
    def from_error(cls, error: DiagnosticError) -> Problem:
        return cls(422 if isinstance(error, EvaluationFailed) else 400, error.diagnostics)

    def body(self) -> dict:
        errors = [d for d in self.diagnostics if d.severity == "error"] or self.diagnostics
        first = errors[0].as_json()
        return {"type": f"https://policyengine.invalid/problems/{first['code']}", "title": self.title,
                "status": self.status, "detail": render_all(self.diagnostics), **first,
                "errors": [d.as_json() for d in errors]}

    def response(self) -> Response:
        return Response(pretty_json(self.body()) + "\n", self.status,
                        headers=self.headers, media_type=PROBLEM_TYPE)

