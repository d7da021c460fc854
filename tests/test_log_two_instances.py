"""One decision log on PostgreSQL shared by two `policyengine serve` instances (each `--workers 2`)
on different ports, written by both at once: the chain stays one line, with every answered
decision in it once, both instances' rows interleaved, and `log verify`, `log replay` and
`log export` read it. An auditor's `log verify` while the writes go on should find the chain
consistent at every commit."""
from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
from click.testing import CliRunner

from policyengine.cli import main

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.json"))
POLICYENGINE = (sys.executable, "-c", "from policyengine.cli import main; main()")
THREADS, REQUESTS = 4, 60  # per instance


def cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def instance(log: str, output: Path) -> Iterator[str]:
    """`serve --workers 2` writing `log`, until the block ends: its base URL."""
    port = free_port()
    with output.open("wb") as sink:
        server = subprocess.Popen([*POLICYENGINE, "serve", "--workers", "2", "--port", str(port), "--log", log],
                                  stdout=sink, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None and time.monotonic() < deadline, f"not up: {output.read_text()}"
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        yield base
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(10)


def post_from_threads(bases: dict[str, str], answered: dict[str, str], failures: list[str],
                      stop: threading.Event | None = None) -> list[threading.Thread]:
    """THREADS threads per instance, each posting its share of REQUESTS (or until `stop`), the
    example facts in turn: `answered` maps each decision id to the instance that answered it."""
    def post(name: str, base: str, offset: int) -> None:
        with httpx.Client(base_url=base, timeout=60) as http:
            for n in range(offset, 10**6 if stop else REQUESTS, THREADS):
                if stop is not None and stop.is_set():
                    return
                response = http.post("/v1/decisions", content=EXAMPLES[n % len(EXAMPLES)].read_bytes())
                decision_id = response.headers.get("x-decision-id")
                if response.status_code != 200 or not decision_id:
                    failures.append(f"{name} #{n}: {response.status_code} {response.text[:200]}")
                else:
                    answered[decision_id] = name
    threads = [threading.Thread(target=post, args=(name, base, offset))
               for offset in range(THREADS) for name, base in bases.items()]
    for thread in threads:
        thread.start()
    return threads


@contextmanager
def two_instances(postgres_url: str, tmp_path: Path) -> Iterator[dict[str, str]]:
    with ExitStack() as stack:
        yield {name: stack.enter_context(instance(postgres_url, tmp_path / f"{name}.log")) for name in "AB"}


def test_two_instances_write_one_chain_that_verifies_replays_and_exports(postgres_url, tmp_path):
    answered: dict[str, str] = {}
    failures: list[str] = []
    with two_instances(postgres_url, tmp_path) as bases:
        for thread in post_from_threads(bases, answered, failures):
            thread.join(300)
    total = 2 * REQUESTS
    assert not failures, failures[:5]
    assert len(answered) == total and set(answered.values()) == {"A", "B"}

    verified = cli("log", "verify", postgres_url)
    assert verified.exit_code == 0 and f"{total} row(s), chain sha256: intact" in verified.stdout, verified.output
    assert f"head: {total}:" in verified.stdout
    listed = cli("log", "list", postgres_url, "--format", "json", "--limit", "1000")
    assert listed.exit_code == 0, listed.output
    rows = sorted((json.loads(line) for line in listed.stdout.splitlines()), key=lambda row: row["seq"])
    assert [row["seq"] for row in rows] == list(range(1, total + 1))
    assert {row["id"] for row in rows} == set(answered)
    by_seq = [answered[row["id"]] for row in rows]
    switches = sum(a != b for a, b in zip(by_seq, by_seq[1:]))
    assert switches > 1, f"the instances' rows are not interleaved: {''.join(by_seq)}"

    replayed = cli("log", "replay", postgres_url)
    assert replayed.exit_code == 0, replayed.output
    assert f"{total} decision(s) replayed, {total} reproduced, 0 did not, 0 damaged; chain: intact" in replayed.stderr
    exported = cli("log", "export", postgres_url)
    assert exported.exit_code == 0, exported.output
    lines = [json.loads(line) for line in exported.stdout.splitlines()]
    assert [line["id"] for line in lines] == [row["id"] for row in rows]  # oldest first, as the chain


def test_an_auditor_verifies_the_chain_while_both_instances_write(postgres_url, tmp_path):
    """`log verify` three times while both instances answer: each intact, each from the head the
    one before printed (the log grew from it), the head moving on between them."""
    answered: dict[str, str] = {}
    failures: list[str] = []
    stop = threading.Event()
    heads: list[str] = []
    with two_instances(postgres_url, tmp_path) as bases:
        threads = post_from_threads(bases, answered, failures, stop)
        try:
            for _ in range(3):
                seen, deadline = len(answered), time.monotonic() + 60
                while len(answered) < seen + 20 and not failures and time.monotonic() < deadline:
                    time.sleep(0.05)
                grew_from = ("--from-head", heads[-1]) if heads else ()
                verified = cli("log", "verify", postgres_url, *grew_from)
                assert verified.exit_code == 0 and ": intact" in verified.stdout, verified.output
                heads.append(verified.stdout.split("head: ")[1].split()[0])
        finally:
            stop.set()
            for thread in threads:
                thread.join(120)
    assert not failures, failures[:5]
    seqs = [int(head.split(":")[0]) for head in heads]
    assert seqs == sorted(set(seqs)) and seqs[0] > 0, heads
    final = cli("log", "verify", postgres_url, "--from-head", heads[-1])
    assert final.exit_code == 0 and f"{len(answered)} row(s), chain sha256: intact" in final.stdout, final.output
