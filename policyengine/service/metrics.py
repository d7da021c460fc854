"""Prometheus metrics of one worker process, in the text exposition format (0.0.4).

Counted: requests by route and status, request seconds by route (a histogram), decisions
by pack and outcome (billable, nothing billable, error by code). Each worker counts its
own; a scrape reaches one worker, so with `--workers N` scrape each, or sum what you have.
"""
from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable

#: the histogram's upper bounds, in seconds
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)


class Metrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: Counter[tuple[str, str, int]] = Counter()
        self.decisions: Counter[tuple[str, str]] = Counter()
        self.errors: Counter[str] = Counter()
        self._buckets: dict[str, list[int]] = {}
        self._sums: dict[str, float] = {}

    def request(self, method: str, route: str, status: int, seconds: float) -> None:
        with self._lock:
            self.requests[(method, route, status)] += 1
            counts = self._buckets.setdefault(route, [0] * (len(BUCKETS) + 1))
            counts[next((i for i, bound in enumerate(BUCKETS) if seconds <= bound), len(BUCKETS))] += 1
            self._sums[route] = self._sums.get(route, 0.0) + seconds

    def decision(self, pack_id: str, outcome: str) -> None:
        with self._lock:
            self.decisions[(pack_id, outcome)] += 1

    def error(self, code: str) -> None:
        with self._lock:
            self.errors[code] += 1

    def render(self) -> str:
        with self._lock:
            requests = sorted(self.requests.items())
            lines = _family("policyengine_requests_total", "counter", "HTTP requests answered.",
                            ((f'method="{m}",route="{_escape(r)}",status="{s}"', n) for (m, r, s), n in requests))
            lines += ["# HELP policyengine_request_seconds Time to answer a request.",
                      "# TYPE policyengine_request_seconds histogram"]
            for route, counts in sorted(self._buckets.items()):
                label, running = f'route="{_escape(route)}"', 0
                for bound, count in zip((*BUCKETS, "+Inf"), counts):
                    running += count
                    lines.append(f'policyengine_request_seconds_bucket{{{label},le="{bound}"}} {running}')
                lines.append(f"policyengine_request_seconds_sum{{{label}}} {self._sums[route]:.6f}")
                lines.append(f"policyengine_request_seconds_count{{{label}}} {running}")
            lines += _family("policyengine_decisions_total", "counter", "Decisions by pack and outcome.",
                             ((f'pack="{_escape(p)}",outcome="{_escape(o)}"', n) for (p, o), n in sorted(self.decisions.items())))
            lines += _family("policyengine_errors_total", "counter", "Error responses and error records by code.",
                             ((f'code="{_escape(c)}"', n) for c, n in sorted(self.errors.items())))
        return "\n".join(lines) + "\n"


def _family(name: str, kind: str, help_text: str, samples: Iterable[tuple[str, int]]) -> list[str]:
    return [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}", *(f"{name}{{{labels}}} {value}" for labels, value in samples)]


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def outcome(decision: dict) -> str:
    return "billable" if decision["billable"] else "nothing_billable"
