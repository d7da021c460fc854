"""Metrics as a Prometheus server reads them: with `serve --workers 2` every scrape, whichever
worker answers it, gives the service's totals (the requests sent, not one worker's share);
reloads and log commits are counted; /metrics asks for a token only when told to."""
from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from policyengine.service.auth import load_tokens
from policyengine.service.config import ServiceConfig
from served import client
from test_service import scraped

SEED = Path(__file__).resolve().parents[1] / "examples" / "2026-03-seed-22-minutes.json"
POLICYENGINE = (sys.executable, "-c", "from policyengine.cli import main; main()")
DECIDED = ("policyengine_requests_total", (("method", "POST"), ("route", "/v1/decisions"), ("status", "200")))


def test_every_scrape_of_two_workers_counts_every_request(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    output = tmp_path / "serve.txt"
    with output.open("w") as sink:
        server = subprocess.Popen([*POLICYENGINE, "serve", "--workers", "2", "--port", str(port), "--log",
                                   str(tmp_path / "log.sqlite")], stdout=sink, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    close = {"Connection": "close"}  # a new connection each time: the workers take turns accepting them
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None and time.monotonic() < deadline, output.read_text()
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        sent = 40
        for _ in range(sent):
            assert httpx.post(f"{base}/v1/decisions", params={"trace": "none"}, content=SEED.read_bytes(),
                              headers=close, timeout=30).status_code == 200
        totals = [scraped(httpx.get(f"{base}/metrics", headers=close, timeout=30).text) for _ in range(8)]
        server.send_signal(signal.SIGHUP)  # both workers compile their packs again
        deadline = time.monotonic() + 30
        while output.read_text().count("packs reloaded (generation 2)") < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        reloads = scraped(httpx.get(f"{base}/metrics", headers=close, timeout=30).text)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(30)
    assert [total[DECIDED] for total in totals] == [sent] * len(totals)
    assert all(total[("policyengine_log_commit_seconds_count", ())] == sent for total in totals)
    assert reloads[("policyengine_pack_reloads_total", (("result", "ok"),))] == 2


def test_metrics_ask_for_a_token_only_when_told_to(tmp_path):
    token = "auditor-token-0123456789"
    (tmp_path / "tokens").write_text(f"auditor audit {token}\n")
    for need, status in ((False, 200), (True, 401)):
        config = ServiceConfig(tokens_file=str(tmp_path / "tokens"), metrics_need_token=need)
        with client(config, load_tokens(config.tokens_file)) as http:
            assert http.get("/metrics").status_code == status
            assert http.get("/metrics", headers={"Authorization": f"Bearer {token}"}).status_code == 200
