"""What every route of the service goes through (`Endpoint`): the caller's token and role,
the time limit, the header and body size limits, the request's span, metrics and access-log
line, and the one place where an error becomes `application/problem+json`. Nothing a
request holds can stop the worker: a fault in a request is a 500 problem.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from ..diagnostics import Diagnostic, DiagnosticError
from ..engine.values import pretty_json
from ..limits import MAX_HEADER_BYTES
from .auth import Caller, bearer
from .problems import Problem
from .tracing import log_access

if TYPE_CHECKING:
    from .app import Service

logger = logging.getLogger("uvicorn.error")  # the server's own log: what it prints at start, reloads among them
Handler = Callable[["Service", Request, Caller | None], Awaitable[Response]]
#: how a route answers with a problem: the API as application/problem+json, the console as a page
ProblemResponse = Callable[[Request, Problem], Response]
JSON_TYPE = "application/json"
#: where a request's scope keeps who is calling, for the access log
CALLER_KEY = "policyengine.caller"


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(pretty_json(data) + "\n", status, headers, JSON_TYPE)


def _problem_json(request: Request, problem: Problem) -> Response:
    return problem.response()


class Endpoint:
    """A route's handler with the checks every route makes. `roles`: the roles that may
    call it (None: anyone, no token needed); `problem_response`: how it answers with a
    problem. A handler that learns its caller another way (the console's session) puts it
    in the request's scope (`CALLER_KEY`) for the access log."""

    def __init__(self, service: Service, route: str, handler: Handler, roles: tuple[str, ...] | None,
                 problem_response: ProblemResponse = _problem_json) -> None:
        self.service, self.route, self.handler, self.roles = service, route, handler, roles
        self.problem_response = problem_response

    async def respond(self, request: Request) -> Response:
        started = time.perf_counter()
        caller: Caller | None = None
        with self.service.tracing.request(request.method, self.route, request.headers) as span:
            response = await self._answer(request)
            caller = request.scope.get(CALLER_KEY)
            if span is not None:
                span.set_attribute("http.response.status_code", response.status_code)
        seconds = time.perf_counter() - started
        self.service.metrics.request(request.method, self.route, response.status_code, seconds)
        log_access(request.method, self.route, request.url.path, response.status_code, seconds,
                   caller_name(request, caller), response.headers.get("x-decision-id"), span)
        return response

    async def _answer(self, request: Request) -> Response:
        try:
            refuse_large_headers(request)
            caller = self.authorize(request)
            request.scope[CALLER_KEY] = caller
            async with asyncio.timeout(self.service.config.time_limit if not self.streams else None):
                return await self.handler(self.service, request, caller)
        except Problem as problem:
            return self.problem(request, problem)
        except DiagnosticError as error:
            return self.problem(request, Problem.from_error(error))
        except TimeoutError:
            return self.problem(request, Problem.of(408, "request.timeout", f"the request took longer than "
                                           f"{self.service.config.time_limit:g} s, the service's time limit"))
        except ClientDisconnect:
            return Response(status_code=400)
        except Exception as error:  # a fault in one request must not stop the worker
            logger.exception("internal error on %s %s", request.method, request.url.path)
            return self.problem(request, Problem.of(500, "service.internal_error", f"{type(error).__name__}: {error}"))

    @property
    def streams(self) -> bool:
        """A streamed response (the batch) has no time limit: it is bounded by its body's size."""
        return self.route == "/v1/decisions:batch"

    def problem(self, request: Request, problem: Problem) -> Response:
        self.service.metrics.error(problem.diagnostics[0].code)
        return self.problem_response(request, problem)

    def authorize(self, request: Request) -> Caller | None:
        if self.roles is None or self.service.tokens is None:
            return None
        token = bearer(request.headers.get("authorization"))
        caller = self.service.tokens.caller(token) if token else None
        if caller is None:
            raise Problem(401, [Diagnostic("auth.unauthorized", "a valid bearer token is needed",
                                           hint="send Authorization: Bearer TOKEN")],
                          headers={"WWW-Authenticate": 'Bearer realm="policyengine"'})
        if not caller.roles & set(self.roles):
            raise Problem.of(403, "auth.forbidden", f"{caller.name} has no role that may do this "
                             f"(needs {' or '.join(self.roles)}; has {', '.join(sorted(caller.roles))})")
        return caller


def caller_name(request: Request, caller: Caller | None) -> str:
    """Who the decision log records: the token's name, or the local address without tokens."""
    if caller is not None:
        return caller.name
    return f"local:{request.client.host}" if request.client else "local"


async def read_body(request: Request, limit: int) -> bytes:
    """The whole body, refusing one beyond `limit` bytes as soon as that is known."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise too_large(limit)
    body = bytearray()
    async for piece in request.stream():
        body += piece
        if len(body) > limit:
            raise too_large(limit)
    return bytes(body)


def refuse_large_headers(request: Request) -> None:
    size = sum(len(name) + len(value) for name, value in request.scope["headers"])
    if size > MAX_HEADER_BYTES:
        raise Problem.of(431, "request.headers_too_large", f"the headers are {size:,} bytes, more than the service's "
                         f"limit of {MAX_HEADER_BYTES:,}")


def too_large(limit: int) -> Problem:
    return Problem.of(413, "request.too_large", f"the body is larger than {limit:,} bytes, the service's limit")
