"""What the service says about each request, for operators: one JSON access-log line, and
OpenTelemetry spans.

The access log (`policyengine.access`, on unless `serve --no-access-log`) writes a line per
request: time, method, route, path, status, milliseconds, caller, decision id and trace id.

Tracing needs the `otel` extra. Each request is a server span that continues the caller's
trace from its `traceparent` header; the decision and its decision log commit are spans
inside it. Without the extra, or with no tracer provider configured, nothing is recorded
(the API's spans are no-ops). `serve` configures a provider in each worker that exports
OTLP over HTTP when OTEL_EXPORTER_OTLP_ENDPOINT is set; an application that embeds the
service configures its own.
"""
from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime
from typing import Any

from ..version import __version__

try:
    from opentelemetry import propagate, trace
except ImportError:  # the otel extra is not installed
    trace = None  # type: ignore[assignment]

access_logger = logging.getLogger("policyengine.access")


def configure(access_log: bool) -> None:
    """A served worker's logging and tracing: the access log to stderr, and an OTLP exporter
    when the environment names an endpoint and the extra is installed."""
    if access_log and not access_logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        access_logger.addHandler(handler)
        access_logger.setLevel(logging.INFO)
        access_logger.propagate = False
    if trace is None or not os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        return
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import (  # type: ignore[import-not-found,unused-ignore]
            OTLPSpanExporter,
        )
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError:
        return  # the API alone: an embedding application's provider, or none
    provider = TracerProvider(resource=Resource.create({"service.name": "policyengine", "service.version": __version__}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)


class Tracing:
    """Spans for a request and its parts (no-ops without OpenTelemetry)."""

    def __init__(self) -> None:
        self.tracer = trace.get_tracer("policyengine", __version__) if trace is not None else None

    @contextmanager
    def request(self, method: str, route: str, headers: Any) -> Iterator[Any]:
        """The request's server span, a child of the caller's `traceparent` when it sends one."""
        if self.tracer is None:
            yield None
            return
        parent = propagate.extract(dict(headers))
        with self.tracer.start_as_current_span(f"{method} {route}", context=parent, kind=trace.SpanKind.SERVER,
                                               attributes={"http.request.method": method, "http.route": route}) as span:
            yield span

    def span(self, name: str) -> Any:
        """A span inside the current one (the decision, the log commit)."""
        return self.tracer.start_as_current_span(name) if self.tracer is not None else nullcontext()


def trace_id(span: Any) -> str | None:
    if span is None or not span.get_span_context().is_valid:
        return None
    return format(span.get_span_context().trace_id, "032x")


def log_access(method: str, route: str, path: str, status: int, seconds: float, caller: str,
               decision_id: str | None, span: Any) -> None:
    if not access_logger.isEnabledFor(logging.INFO):
        return
    access_logger.info(json.dumps({
        "time": datetime.now(UTC).isoformat(timespec="milliseconds"), "method": method, "route": route, "path": path,
        "status": status, "ms": round(seconds * 1000, 3), "caller": caller, "decision_id": decision_id,
        "trace_id": trace_id(span)}, ensure_ascii=False))
