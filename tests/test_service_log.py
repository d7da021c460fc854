"""The decision log: what the service served can be pulled up and replayed; a pack file
changed under the service shows up in `policyengine log replay`; reloads swap packs
without failing a request."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

import policyengine
from packcopy import copy_chain
from policyengine.cli import main
from policyengine.decisionlog import Query, SqliteDecisionStore
from policyengine.service.config import ServiceConfig
from served import client

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "examples" / "2026-03-seed-22-minutes.json"
RATE = "value: $33.4009"
POLICYENGINE = (sys.executable, "-c", "from policyengine.cli import main; main()")


def cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def change_rate(pack_dir: Path, new: str = "value: $34.0000") -> None:
    path = pack_dir / "pack.yaml"
    path.write_text(path.read_text().replace(RATE, new))


def test_a_served_decision_replays_and_a_changed_pack_is_reported(tmp_path):
    pack = copy_chain(tmp_path)["cms-rpm-2026"]
    log = tmp_path / "log.sqlite"
    with client(ServiceConfig(packs=(str(pack),), log=str(log))) as http:
        served = http.post("/v1/decisions", params={"pack": "cms-rpm-2026"}, content=SEED.read_bytes())
        batch = http.post("/v1/decisions:batch", params={"pack": "cms-rpm-2026"},
                          content=(json.dumps(json.loads(SEED.read_text())) + "\n") * 2)
        http.post("/v1/decisions", content=SEED.read_bytes())  # the bundled pack for the month
    assert served.status_code == 200 and len(batch.text.splitlines()) == 2
    rows = SqliteDecisionStore(log).list(Query()).rows
    assert len(rows) == 4 and {r.pack_ref for r in rows} == {str(pack.resolve()), "cms-rpm-2026"}

    shown = cli("log", "show", log, served.headers["x-decision-id"])
    assert shown.exit_code == 0 and shown.stdout == served.text
    listed = cli("log", "list", log, "--format", "json")
    assert [json.loads(line)["id"] for line in listed.stdout.splitlines()] == [r.id for r in rows]

    first = cli("log", "replay", log)
    assert first.exit_code == 0 and "4 decision(s) replayed, 4 reproduced, 0 did not" in first.stderr

    change_rate(pack)
    second = cli("log", "replay", log)
    assert second.exit_code == 1 and "4 decision(s) replayed, 1 reproduced, 3 did not" in second.stderr
    assert second.stdout.count("DOES NOT REPRODUCE") == 3 and "pack_changed" in second.stdout
    assert served.headers["x-decision-id"] in second.stdout
    report = [json.loads(line) for line in cli("log", "replay", log, "--format", "json").stdout.splitlines()]
    changed = [r for r in report if not r["reproduced"]]
    assert {c["cause"] for r in changed for c in r["causes"]} == {"pack_changed"}
    assert all("/total" in r["differences"] for r in changed)


def test_log_commands_refuse_what_is_not_there(tmp_path):
    assert cli("log", "list", tmp_path / "none.sqlite").exit_code == 2
    SqliteDecisionStore(tmp_path / "empty.sqlite").close()
    assert cli("log", "show", tmp_path / "empty.sqlite", "nope").exit_code == 2
    assert cli("log", "replay", tmp_path / "empty.sqlite", "--id", "nope").exit_code == 2


def test_reload_swaps_the_packs_and_a_broken_pack_leaves_the_old_serving(tmp_path):
    pack = copy_chain(tmp_path)["cms-rpm-2026"]
    with client(ServiceConfig(packs=(str(pack),))) as http:
        before = http.get("/v1/packs/cms-rpm-2026").json()["sha256"]
        change_rate(pack)
        reloaded = http.post("/v1/packs:reload")
        assert reloaded.status_code == 200 and reloaded.json()["generation"] == 2
        after = http.get("/v1/packs/cms-rpm-2026").json()["sha256"]
        assert after != before
        (pack / "pack.yaml").write_text((pack / "pack.yaml").read_text() + "\nrules: [oops\n")
        failed = http.post("/v1/packs:reload")
        assert failed.status_code == 409 and not failed.json()["ok"] and failed.json()["errors"]
        ready = http.get("/readyz").json()
        assert ready["ready"] and not ready["reload"]["ok"] and ready["reload"]["generation"] == 2
        decided = http.post("/v1/decisions", params={"pack": "cms-rpm-2026"}, content=SEED.read_bytes())
        assert decided.status_code == 200 and decided.json()["pack"]["sha256"] == after


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serve_two_workers(tmp_path: Path) -> tuple[Path, int, Path, subprocess.Popen]:
    """`serve --workers 2` of a copy of the bundled packs: (the 2026 pack's folder, the port,
    the file the server's output goes to, the server)."""
    pack = copy_chain(tmp_path)["cms-rpm-2026"]
    port = free_port()
    output = tmp_path / "server.log"
    with output.open("wb") as sink:
        server = subprocess.Popen([*POLICYENGINE, "serve", "--workers", "2", "--port", str(port), "--pack", str(pack)],
                                  stdout=sink, stderr=subprocess.STDOUT)
    return pack, port, output, server


@pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="SIGHUP is a POSIX signal")
def test_sighup_reloads_both_workers_while_a_client_keeps_deciding(tmp_path):
    """`serve --workers 2`, a client deciding all the while; SIGHUP to the server after the
    pack changes: every request succeeds, and the new pack serves from both workers."""
    pack, port, output, server = serve_two_workers(tmp_path)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base, server, output)
        statuses: list[int] = []
        shas: list[tuple[float, str]] = []
        stop = threading.Event()

        def keep_deciding() -> None:
            with httpx.Client(base_url=base, timeout=30) as http:
                while not stop.is_set():
                    response = http.post("/v1/decisions", params={"pack": "cms-rpm-2026", "trace": "none"},
                                         content=SEED.read_bytes(), headers={"Connection": "close"})
                    statuses.append(response.status_code)
                    if response.status_code == 200:
                        shas.append((time.monotonic(), response.json()["pack"]["sha256"]))

        worker = threading.Thread(target=keep_deciding)
        worker.start()
        time.sleep(0.5)
        old = shas[-1][1]
        change_rate(pack)
        os.kill(server.pid, signal.SIGHUP)
        signalled = time.monotonic()
        deadline = signalled + 20
        while time.monotonic() < deadline and not _settled(shas, signalled, old):
            time.sleep(0.1)
        stop.set()
        worker.join(30)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(30)
    assert statuses and set(statuses) == {200}
    assert _settled(shas, signalled, old), "the new pack did not serve from every worker"
    assert output.read_text().count("packs reloaded (generation 2)") == 2  # each worker said so


@pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="SIGHUP is a POSIX signal")
def test_sighup_while_the_workers_start_reloads_each_once_it_serves(tmp_path):
    """A reload asked for while the workers are still compiling their packs: no worker dies
    of the signal, and each compiles the packs again once it serves (it may have read them
    before they changed)."""
    pack, port, output, server = serve_two_workers(tmp_path)
    try:
        deadline = time.monotonic() + 30
        while "Started parent process" not in output.read_text() and time.monotonic() < deadline:
            assert server.poll() is None, output.read_text()
            time.sleep(0.01)
        change_rate(pack)
        os.kill(server.pid, signal.SIGHUP)
        _wait_until_up(f"http://127.0.0.1:{port}", server, output)
        while output.read_text().count("packs reloaded (generation 2)") < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        decided = [httpx.post(f"http://127.0.0.1:{port}/v1/decisions", params={"pack": "cms-rpm-2026", "trace": "none"},
                              content=SEED.read_bytes(), headers={"Connection": "close"}) for _ in range(10)]
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(30)
    log = output.read_text()
    assert log.count("packs reloaded (generation 2)") == 2 and "died" not in log, log
    changed = policyengine.evaluate(json.loads(SEED.read_text()), str(pack), trace="none")["total"]
    assert {response.json()["total"] for response in decided} == {changed}, "every worker serves the changed rate"


def _settled(shas: list[tuple[float, str]], signalled: float, old: str) -> bool:
    """The old pack answered for the last time within 10 s of the signal (a worker takes the
    signal within the supervisor's half-second poll, then compiles while it serves; on two
    cores busy with the rest of the suite that once took longer than 5 s), and at least 20
    answers came after, none from the old pack (with a new connection for each, both
    workers among them)."""
    last_old = max((at for at, sha in shas if sha == old), default=signalled)
    return last_old < signalled + 10 and sum(at > last_old for at, _ in shas) >= 20


def _wait_until_up(base: str, server: subprocess.Popen, output: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert server.poll() is None, output.read_text()
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise AssertionError("the service did not start")
