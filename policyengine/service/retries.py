"""Retries of `POST /v1/decisions` under an `Idempotency-Key` header: a retry of the same
request gets the decision logged the first time (the same bytes and the same id, logged
once); the same key sent with another request is refused (422), since answering it with
the first decision, or deciding it anew under a key the caller already used, would each
hide a bug in the caller. Keys are the caller's own: two callers may use the same key.

Without a decision log there is nothing to remember, and nothing to need it: a decision
is the same bytes for the same request, and no id is given.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response

from ..decisionlog import DamagedRow, LoggedDecision
from ..diagnostics import Diagnostic
from .audit import checked
from .problems import Problem

if TYPE_CHECKING:
    from .app import Service

HEADER = "idempotency-key"
MAX_KEY_LENGTH = 255


def idempotency_key(request: Request) -> str | None:
    """The request's key: printable ASCII, 1 to 255 characters, sent at most once."""
    keys = request.headers.getlist(HEADER)
    if not keys:
        return None
    key = keys[0]
    if len(keys) > 1 or not 1 <= len(key) <= MAX_KEY_LENGTH or not all(" " <= c <= "~" for c in key):
        raise Problem.of(400, "request.bad_idempotency_key", f"Idempotency-Key is one value of 1 to {MAX_KEY_LENGTH} "
                         "printable ASCII characters, sent once", where="Idempotency-Key")
    return key


def refuse_idempotency_key(request: Request) -> None:
    """A batch answers line by line as it reads: a retry of it cannot be answered from the log."""
    if HEADER in request.headers:
        raise Problem.of(400, "request.bad_idempotency_key", "Idempotency-Key is honoured on POST /v1/decisions only; "
                         "a batch is retried by sending the lines that were not answered", where="Idempotency-Key")


def retried(service: Service, before: LoggedDecision | DamagedRow, request_sha256: str | None) -> Response:
    """The answer to a request whose key was logged before: that decision, or 422."""
    row = checked(service, before)
    if row.request_sha256 != request_sha256:
        raise Problem(422, [Diagnostic("request.idempotency_key_reused", f"Idempotency-Key {row.idempotency_key!r} was "
                                       f"used for another request (decision {row.id}); send a new key for a new request",
                                       where="Idempotency-Key")], title="Idempotency-Key reused")
    return Response(row.decision, 200, {"X-Decision-Id": row.id, "Idempotent-Replayed": "true"},
                    "application/json")
