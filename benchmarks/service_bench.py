"""The decision service under load, beside the in-process API on the same facts.

    python benchmarks/service_bench.py                    # 16 clients, 3,000 requests per row
    python benchmarks/service_bench.py --rounds 3 --requests 2000
    python benchmarks/service_bench.py --postgres postgresql://user@host/db
    python benchmarks/service_bench.py --servers          # also: which ASGI server (log on, compact trace)

`policyengine serve --workers 2` on free loopback ports, three at once: the decision log
off, on SQLite (a file in a temporary folder) and on PostgreSQL (a server started in a
temporary folder as the tests start theirs, or `--postgres URL`). For each trace form, a
loop of `--clients` concurrent clients posts the example facts (all of examples/, in turn)
until `--requests` are answered or `--seconds` have passed, to each server in turn. Each
row gives decisions/s, p50 and p99 latency, the ratio to the in-process API measured in
the same run (`evaluate` + `to_json` on the same facts texts in one process, parse
included, as the service parses each body) and, with the log on, to the log-off row just
before it. The load generator runs on the same machine, so it takes its share of the
cores too. Its clients speak HTTP/1.1 on asyncio streams (keep-alive, one connection
each): httpx's AsyncClient tops out near 650 requests/s on one core, below the server.

The target (issue 27): with the log on, on either store, at least 0.8 of the log-off
throughput, and p99 under 20 ms at 16 concurrent clients on a 2-core machine.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
FACTS = [path.read_bytes() for path in sorted((ROOT / "examples").glob("*.json"))]
TRACES = ("none", "compact", "full")
POLICYENGINE = (sys.executable, "-c", "from policyengine.cli import main; main()")


def in_process(trace: str, seconds: float) -> float:
    """Decisions per second of the Python API, parsing each facts text as the service does."""
    from policyengine import evaluate, to_json
    from policyengine.facts import parse_facts_text
    texts = [body.decode() for body in FACTS]
    for text in texts:  # compile the packs, warm the caches
        to_json(evaluate(parse_facts_text(text, "<body>"), trace=trace))
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        for text in texts:
            to_json(evaluate(parse_facts_text(text, "<body>"), trace=trace))
        done += len(texts)
    return done / (time.perf_counter() - started)


async def load(base: str, trace: str, clients: int, requests: int, seconds: float) -> tuple[float, list[float], int]:
    """(decisions/s, latencies in seconds, failures) of `clients` concurrent clients, each
    on one keep-alive connection."""
    port = int(base.rsplit(":", 1)[1])
    latencies: list[float] = []
    state = {"sent": 0, "failures": 0}
    deadline = 0.0  # set when the clock starts
    path = f"/v1/decisions?trace={trace}"
    requests_bytes = [f"POST {path} HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
                      f"Content-Length: {len(body)}\r\n\r\n".encode() + body for body in FACTS]

    async def connect(index: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """One connection at a time, before the clock starts: connections opened together
        are accepted by whichever worker wakes first (asyncio accepts a burst at once), and
        one worker then serves most clients while the other idles (log off, compact: 2,350
        to 4,342/s run to run)."""
        await asyncio.sleep(index * 0.02)
        return await asyncio.open_connection("127.0.0.1", port)

    async def raw_client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """HTTP/1.1 on asyncio streams: the request bytes made once, the answer read by its
        Content-Length. Several times lighter than httpx, so the server is what is measured."""
        try:
            while state["sent"] < requests and time.perf_counter() < deadline:
                request = requests_bytes[state["sent"] % len(FACTS)]
                state["sent"] += 1
                started = time.perf_counter()
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                              if line.lower().startswith(b"content-length:"))
                await reader.readexactly(length)
                latencies.append(time.perf_counter() - started)
                state["failures"] += not head.startswith(b"HTTP/1.1 200")
        finally:
            writer.close()

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as http:
        for body in FACTS:  # warm every worker's caches, and check the answers are decisions
            response = await http.post("/v1/decisions", params={"trace": trace}, content=body)
            assert response.status_code == 200 and response.json()["trace"]["form"] == trace, response.text
        connections = await asyncio.gather(*map(connect, range(clients)))
        started = time.perf_counter()
        deadline = started + seconds
        await asyncio.gather(*(raw_client(reader, writer) for reader, writer in connections))
        elapsed = time.perf_counter() - started
    return len(latencies) / elapsed, latencies, state["failures"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start(command: list[str], port: int, env: dict[str, str] | None = None) -> subprocess.Popen:
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server stopped: {' '.join(command)}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("the server did not start")


def stop(server: subprocess.Popen) -> None:
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def row(label: str, trace: str, rate: float, latencies: list[float], failures: int, baseline: float,
        log_off: float | None = None) -> str:
    ms = sorted(x * 1000 for x in latencies)
    p50 = statistics.median(ms)
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    off = f" {rate / log_off:.2f} |" if log_off else " |"
    return (f"| {label} | {trace} | {len(ms):,} | {rate:,.0f} | {p50:.1f} | {p99:.1f} | {failures} | "
            f"{rate / baseline:.2f} |{off}")


@contextmanager
def postgres(url: str | None, wanted: bool) -> Iterator[str | None]:
    """The PostgreSQL log's server: the URL given, or one started in a temporary folder as
    the tests start theirs (None where the server's binaries are missing, or not wanted)."""
    if not wanted:
        yield None
        return
    if url:
        yield url
        return
    sys.path.insert(0, str(ROOT / "tests"))
    from postgres_server import postgres_binaries, postgres_server
    binaries = postgres_binaries()
    if binaries is None:
        print("PostgreSQL not measured: its server binaries are missing (Debian package postgresql)", flush=True)
        yield None
        return
    with postgres_server(binaries) as started:
        yield started


def service_rows(args: argparse.Namespace, baselines: dict[str, float], folder: Path) -> list[str]:
    """Every store's server started at once (idle ones cost nothing), then, round by round
    and trace by trace, each loaded in turn: a store's ratio is to the log-off rate measured
    just before it, so a noisy machine moves both."""
    rows = []
    with postgres(args.postgres, wanted="postgresql" in args.stores) as database:
        logs = {"off": None, "sqlite": str(folder / "decisions.sqlite"), "postgresql": database}
        logs = {store: log for store, log in logs.items() if store in args.stores and (log or store == "off")}
        servers = {}
        try:
            for store, log in logs.items():
                port = free_port()
                command = [*POLICYENGINE, "serve", "--workers", str(args.workers), "--port", str(port)]
                servers[store] = (start(command + (["--log", log] if log else []), port), port)
            for _ in range(args.rounds):
                for trace in args.traces:
                    off = None
                    for store, (_, port) in servers.items():
                        rate, latencies, failures = asyncio.run(load(f"http://127.0.0.1:{port}", trace, args.clients,
                                                                     args.requests, args.seconds))
                        label = f"serve --workers {args.workers}, log {store}"
                        rows.append(row(label, trace, rate, latencies, failures, baselines[trace], off))
                        off = off or rate
                        print(rows[-1], flush=True)
        finally:
            for server, _ in servers.values():
                stop(server)
    return rows


def server_rows(args: argparse.Namespace, baseline: float, folder: Path) -> list[str]:
    """The same app (log on, compact trace) on uvicorn's HTTP parsers and event loops, and on granian."""
    from policyengine.service.config import CONFIG_VARIABLE, ServiceConfig
    factory = "policyengine.service.app:app_from_environment"
    rows = []
    candidates = [(f"uvicorn {http}/{loop}", [sys.executable, "-m", "uvicorn", factory, "--factory", "--no-access-log",
                                             "--http", http, "--loop", loop, "--workers", str(args.workers)])
                  for http, loop in (("h11", "asyncio"), ("httptools", "asyncio"), ("httptools", "uvloop"))]
    candidates.append(("granian", [sys.executable, "-m", "granian", "--interface", "asgi", "--factory", "--no-ws",
                                   "--workers", str(args.workers), factory]))
    for label, command in candidates:
        port = free_port()
        address = ["--host", "127.0.0.1", "--port", str(port)]
        config = ServiceConfig(log=str(folder / f"{label.replace(' ', '-').replace('/', '-')}.sqlite"))
        env = {**os.environ, CONFIG_VARIABLE: __import__("json").dumps(config.__dict__)}
        try:
            server = start(command[:3] + address + command[3:], port, env)
        except SystemExit as error:
            print(f"{label}: not measured ({error})", flush=True)
            continue
        try:
            rate, latencies, failures = asyncio.run(load(f"http://127.0.0.1:{port}", "compact", args.clients,
                                                         args.requests, args.seconds))
            rows.append(row(label, "compact", rate, latencies, failures, baseline))
            print(rows[-1], flush=True)
        finally:
            stop(server)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=3000, help="requests per row (at most)")
    parser.add_argument("--seconds", type=float, default=20.0, help="seconds per row (at most)")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=1, help="times each row is measured, in turn")
    parser.add_argument("--traces", default=",".join(TRACES), help="the trace forms measured (default: all)")
    parser.add_argument("--stores", default="off,sqlite,postgresql", help="the logs measured (default: all)")
    parser.add_argument("--postgres", metavar="URL", help="the PostgreSQL log's database (default: a server started "
                                                           "in a temporary folder)")
    parser.add_argument("--servers", action="store_true", help="also compare ASGI servers")
    args = parser.parse_args()
    args.traces, args.stores = args.traces.split(","), args.stores.split(",")
    baselines = {trace: in_process(trace, min(args.seconds, 5.0)) for trace in args.traces}
    print("| in-process API (1 process): decisions/s | " + " | ".join(f"{t} {baselines[t]:,.0f}" for t in args.traces) + " |")
    print()
    print("| server | trace | requests | decisions/s | p50 ms | p99 ms | failed | ÷ in-process | ÷ log off |")
    print("|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as folder:
        service_rows(args, baselines, Path(folder))
        if args.servers:
            server_rows(args, baselines["compact"], Path(folder))


if __name__ == "__main__":
    main()
