"""The decision service as an ASGI application (Starlette): the routes of the `/v1` API,
health, readiness, metrics and the OpenAPI document, and the worker's shared state.

Every route goes through `endpoint.Endpoint` (the checks every request passes, and where
an error becomes `application/problem+json`).
"""
from __future__ import annotations

import asyncio
import json
import os
import signal
import threading
import time
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from ..batch.reading import CHUNK_LINES
from ..decisionlog import ChainKey, DecisionStore, GroupCommitter, LoggedDecision, find_key, open_store
from ..diagnostics import DiagnosticError
from ..limits import MAX_FACTS_BYTES
from .audit import get_decision, get_explanation, search_decisions
from .endpoint import JSON_TYPE, Endpoint, Handler, caller_name, json_response, logger, read_body, too_large
from .auth import Caller, Tokens, load_tokens
from .console import console_routes
from .config import ServiceConfig
from .metrics import CONTENT_TYPE as METRICS_TYPE
from .metrics import Metrics
from .openapi import JSON_LINES, openapi_document
from .packs import ServedPacks, describe
from .problems import Problem
from .retries import idempotency_key, refuse_idempotency_key, retried
from .tracing import Tracing
from .tracing import configure as configure_tracing
from .work import BatchDecider, Settings, body_text, decide_one, verify_body
from .worklist import post_worklist


#: threads a worker process decides in. Deciding holds the GIL, so more threads add little
#: throughput and put waits for the GIL in every answer (16 clients, 2 workers, log on:
#: 1 thread 2,900/s, 2 threads 3,000/s, 4 threads 2,600/s with p99 2 ms higher); two let a
#: light request be decided beside a heavy one.
DECIDING_THREADS = 2


@dataclass
class Service:
    """What the routes share in one worker process."""

    config: ServiceConfig
    tokens: Tokens | None
    packs: ServedPacks
    store: DecisionStore | None
    log: GroupCommitter | None
    metrics: Metrics
    threads: ThreadPoolExecutor
    log_key: ChainKey | None = None
    log_keyed: bool = False
    tracing: Tracing = field(default_factory=Tracing)

    async def run(self, function: Callable[..., Any], *args: Any) -> Any:
        """`function(*args)` in a worker thread (CPU work off the event loop)."""
        return await asyncio.get_running_loop().run_in_executor(self.threads, function, *args)

    async def commit(self, rows: Sequence[LoggedDecision]) -> list[LoggedDecision]:
        """Return once `rows` are in the decision log (committed with whatever else waits),
        with the row kept for each (a retry's: the one logged first)."""
        if self.log is None:
            return list(rows)
        started = time.perf_counter()
        with self.tracing.span("decision log commit"):
            kept = await self.log.commit(rows)
        self.metrics.commit(time.perf_counter() - started)
        return kept


def _query(request: Request, default_trace: str) -> Settings:
    params = request.query_params
    return Settings.from_query(params.getlist("pack"), params.getlist("option"), params.getlist("trace"), default_trace)


async def post_decision(service: Service, request: Request, caller: Caller | None) -> Response:
    settings = _query(request, "full")
    body = await read_body(request, service.config.max_body_bytes)
    name = caller_name(request, caller)
    key = idempotency_key(request) if service.store is not None else None
    if key is not None:
        before = await service.run(service.store.find_retry, name, key)  # type: ignore[union-attr]
        if before is not None:
            return retried(service, before, settings.request_sha256(body_text(body)))
    with service.tracing.span("decide"):
        decided = await service.run(decide_one, body, settings, service.packs.current, service.log is not None, name,
                                    service.metrics, key)
    if decided.row is None:
        return Response(decided.text, 200, None, JSON_TYPE)
    kept = (await service.commit([decided.row]))[0]
    if kept.id != decided.row.id:  # the same retry, sent twice at once: the first logged answers both
        return retried(service, kept, decided.row.request_sha256)
    return Response(decided.text, 200, {"X-Decision-Id": kept.id}, JSON_TYPE)


class BodyStreamingResponse(StreamingResponse):
    """A response streamed while the request body is still being read. Starlette's own,
    under an ASGI server of spec 2.3 (uvicorn), listens for the disconnect by reading the
    request's messages, which would take the body away from the generator reading it; here
    the generator alone reads them (a disconnect ends it with ClientDisconnect)."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        with suppress(OSError, ClientDisconnect):
            await self.stream_response(send)


async def post_batch(service: Service, request: Request, caller: Caller | None) -> Response:
    refuse_idempotency_key(request)
    settings = _query(request, "compact")
    declared = request.headers.get("content-length")
    limit = service.config.max_batch_bytes
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise too_large(limit)
    decider = BatchDecider(settings, service.packs.current, service.log is not None, caller_name(request, caller),
                           service.metrics)
    try:
        decider.check()
    except DiagnosticError as error:
        raise Problem.from_error(error) from None
    return BodyStreamingResponse(_batch_output(service, request, decider, limit), media_type=JSON_LINES)


async def _batch_output(service: Service, request: Request, decider: BatchDecider, limit: int) -> AsyncIterator[str]:
    """Output lines as their input lines arrive: whole lines are decided a few hundred at a
    time. Past the size limit, one error record for the line where it was reached ends the output."""
    pending, received = bytearray(), 0
    async for piece in request.stream():
        received += len(piece)
        if received > limit:
            if pending.rfind(b"\n") >= 0:
                yield await _decided(service, decider, bytes(pending[:pending.rfind(b"\n") + 1]))
            yield json.dumps({"line": decider.next_line, "error": too_large(limit).diagnostics[0].as_json()}) + "\n"
            return
        pending += piece
        cut = pending.rfind(b"\n")
        if cut >= 0 and (pending.count(b"\n", 0, cut + 1) >= CHUNK_LINES or cut > MAX_FACTS_BYTES):
            whole = bytes(pending[:cut + 1])
            del pending[:cut + 1]
            yield await _decided(service, decider, whole)
    if pending:
        yield await _decided(service, decider, bytes(pending))


async def _decided(service: Service, decider: BatchDecider, lines: bytes) -> str:
    """The output for whole lines, sent once their decisions are logged."""
    output, rows = await service.run(decider.decide, lines)
    await service.commit(rows)
    return output


async def post_verify(service: Service, request: Request, caller: Caller | None) -> Response:
    body = await read_body(request, service.config.max_body_bytes)
    return json_response(await service.run(verify_body, body, service.packs.current))


def _as_of(request: Request) -> date:
    text = request.query_params.get("as_of")
    try:
        return date.fromisoformat(text) if text is not None else date.today()
    except ValueError:
        raise Problem.of(400, "service.bad_parameter", f"as_of must be a date YYYY-MM-DD, not {text!r}", where="?as_of") from None


async def get_packs(service: Service, request: Request, caller: Caller | None) -> Response:
    day, packs = _as_of(request), service.packs.current
    return json_response({"packs": [describe(packs.by_id[pack_id], day) for pack_id in sorted(packs.by_id)]})


async def get_pack(service: Service, request: Request, caller: Caller | None) -> Response:
    day = _as_of(request)
    return json_response(describe(service.packs.current.named(request.path_params["pack_id"], 404, "/pack_id"), day))


async def post_reload(service: Service, request: Request, caller: Caller | None) -> Response:
    result = await service.run(reload_packs, service)
    if service.config.supervised:  # the other workers too: the supervisor passes SIGHUP on to each
        os.kill(os.getppid(), signal.SIGHUP)
    return json_response(result, 200 if result["ok"] else 409)


def reload_packs(service: Service) -> dict:
    """Compile the packs again; on failure the packs before keep serving. Says so in the log."""
    result = service.packs.reload()
    service.metrics.reload(result["ok"])
    if result["ok"]:
        logger.info("packs reloaded (generation %d): %s", result["generation"], _pack_names(service))
    else:
        logger.error("pack reload failed, the packs before keep serving: %s",
                     "; ".join(f"{e.get('where', '')}: {e['message']} [{e['code']}]" for e in result["errors"]))
    return result


def _pack_names(service: Service) -> str:
    return ", ".join(f"{p.pack.id} {p.pack.version} ({p.pack.sha256[:12]})" for p in service.packs.current.by_id.values())


async def healthz(service: Service, request: Request, caller: Caller | None) -> Response:
    return json_response({"status": "alive"})


async def readyz(service: Service, request: Request, caller: Caller | None) -> Response:
    log: dict[str, Any] = {"enabled": service.store is not None, "writable": service.store is not None}
    if service.store is not None:
        try:
            await service.run(service.store.check_writable)
        except Exception as error:  # any failure of the store is "not writable", said plainly
            log.update(writable=False, error=f"{type(error).__name__}: {error}")
    ready = service.store is None or log["writable"]
    packs = [{"id": p.pack.id, "sha256": p.pack.sha256} for p in service.packs.current.by_id.values()]
    return json_response({"ready": ready, "packs": packs, "log": log, "reload": service.packs.last_reload},
                         200 if ready else 503)


async def metrics(service: Service, request: Request, caller: Caller | None) -> Response:
    return Response(await service.run(service.metrics.render), media_type=METRICS_TYPE)


async def openapi(service: Service, request: Request, caller: Caller | None) -> Response:
    return json_response(openapi_document())


DECIDE, AUDIT, ANY_ROLE = ("decide",), ("audit",), ("decide", "audit")
ROUTES: tuple[tuple[str, str, Handler, tuple[str, ...] | None], ...] = (
    ("/v1/decisions", "POST", post_decision, DECIDE),
    ("/v1/decisions:batch", "POST", post_batch, DECIDE),
    ("/v1/worklist", "POST", post_worklist, DECIDE),
    ("/v1/verify", "POST", post_verify, ANY_ROLE),
    ("/v1/decisions", "GET", search_decisions, AUDIT),
    ("/v1/decisions/{id}", "GET", get_decision, AUDIT),
    ("/v1/decisions/{id}/explanation", "GET", get_explanation, AUDIT),
    ("/v1/packs", "GET", get_packs, ANY_ROLE),
    ("/v1/packs:reload", "POST", post_reload, AUDIT),
    ("/v1/packs/{pack_id}", "GET", get_pack, ANY_ROLE),
    ("/healthz", "GET", healthz, None),
    ("/readyz", "GET", readyz, None),
    ("/metrics", "GET", metrics, None),
    ("/openapi.json", "GET", openapi, None),
)


def create_app(config: ServiceConfig, tokens: Tokens | None) -> Starlette:
    """The application for one worker process: the packs compiled and the log opened now,
    before it serves (a pack that does not compile raises DiagnosticError here)."""
    key = find_key(config.log_key_file) if config.log else None
    store = open_store(config.log, key) if config.log else None
    service = Service(config, tokens, ServedPacks(config.packs), store, GroupCommitter(store) if store else None,
                      Metrics(), ThreadPoolExecutor(max_workers=DECIDING_THREADS, thread_name_prefix="policyengine-decide"),
                      key, key is not None)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        loop = asyncio.get_running_loop()
        on_signals = threading.current_thread() is threading.main_thread()  # a server in a thread (tests) has none
        if on_signals:
            loop.add_signal_handler(signal.SIGHUP, lambda: loop.run_in_executor(service.threads, reload_packs, service))
        try:
            yield
        finally:
            if on_signals:
                loop.remove_signal_handler(signal.SIGHUP)
            service.threads.shutdown(wait=True)
            if service.log is not None:
                service.log.close()
            if service.store is not None:
                service.store.close()

    def allowed(path: str, roles: tuple[str, ...] | None) -> tuple[str, ...] | None:
        return ANY_ROLE if path == "/metrics" and config.metrics_need_token else roles

    routes = [Route(path, Endpoint(service, path, handler, allowed(path, roles)).respond, methods=[method])
              for path, method, handler, roles in ROUTES]
    routes += console_routes(service, bytes.fromhex(config.session_key), secure=config.ssl_certfile is not None)
    return Starlette(routes=routes, lifespan=lifespan, exception_handlers={
        404: _not_found, 405: _not_allowed})


async def _not_found(request: Request, exc: Exception) -> Response:
    return Problem.of(404, "service.not_found", f"no such resource: {request.url.path}").response()


async def _not_allowed(request: Request, exc: Exception) -> Response:
    return Problem.of(405, "service.method_not_allowed", f"{request.method} is not allowed on {request.url.path}").response()


def app_from_environment() -> Starlette:
    """The factory uvicorn's worker processes import: the configuration `serve` put in the environment."""
    config = ServiceConfig.from_environment()
    configure_tracing(config.access_log)
    return create_app(config, load_tokens(config.tokens_file))
