"""Prometheus metrics of the service, with prometheus_client.

Counted: requests by method, route and status, request seconds by route, decisions by pack
and outcome, errors by code, pack reloads by result, and the seconds a decision waits for
its decision log commit; `policyengine_build_info` says which version serves.

With `serve --workers N` every worker writes its counts to files in one folder the
supervisor made (prometheus_client's multiprocess mode, `PROMETHEUS_MULTIPROC_DIR`), and a
scrape of any worker sums them all: the totals are the service's, not one worker's. A
service in one process (and each service the tests build) keeps its own registry.
"""
from __future__ import annotations

import os
import platform

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics, generate_latest
from prometheus_client import multiprocess as multiprocess_mode

from ..version import __version__

#: the request histogram's upper bounds, in seconds
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)
#: where a supervised service's workers write their counts (set by `run.serve` before they start)
FOLDER_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

disable_created_metrics()  # a *_created series for every counter doubles a scrape and says nothing here


def shared() -> bool:
    """Whether this process writes its counts for a scrape of any worker to sum."""
    return bool(os.environ.get(FOLDER_VARIABLE))


class Metrics:
    """The service's metrics, registered in a registry of their own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        registry = self.registry
        self._requests = Counter("policyengine_requests", "HTTP requests answered.", ("method", "route", "status"),
                                 registry=registry)
        self._seconds = Histogram("policyengine_request_seconds", "Time to answer a request.", ("route",),
                                  buckets=BUCKETS, registry=registry)
        self._decisions = Counter("policyengine_decisions", "Decisions by pack and outcome.", ("pack", "outcome"),
                                  registry=registry)
        self._errors = Counter("policyengine_errors", "Error responses and error records by code.", ("code",),
                               registry=registry)
        self._reloads = Counter("policyengine_pack_reloads", "Pack reloads (SIGHUP, POST /v1/packs:reload) by result.",
                                ("result",), registry=registry)
        self._commits = Histogram("policyengine_log_commit_seconds", "Time a decision waits for its decision log commit.",
                                  buckets=BUCKETS, registry=registry)
        build = Gauge("policyengine_build_info", "The version serving (always 1).", ("version", "python"),
                      registry=registry, multiprocess_mode="max")
        build.labels(__version__, platform.python_version()).set(1)

    def request(self, method: str, route: str, status: int, seconds: float) -> None:
        self._requests.labels(method, route, str(status)).inc()
        self._seconds.labels(route).observe(seconds)

    def decision(self, pack_id: str, outcome: str) -> None:
        self._decisions.labels(pack_id, outcome).inc()

    def error(self, code: str) -> None:
        self._errors.labels(code).inc()

    def reload(self, ok: bool) -> None:
        self._reloads.labels("ok" if ok else "failed").inc()

    def commit(self, seconds: float) -> None:
        self._commits.observe(seconds)

    def render(self) -> bytes:
        """The exposition text: every worker's counts summed when they share a folder."""
        if not shared():
            return generate_latest(self.registry)
        summed = CollectorRegistry()
        multiprocess_mode.MultiProcessCollector(summed)
        return generate_latest(summed)


def outcome(decision: dict) -> str:
    return "billable" if decision["billable"] else "nothing_billable"
